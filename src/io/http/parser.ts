/**
 * HTTP/1.1 request parsing for `serve()` (internal): the request head, and the body's
 * framing (Content-Length or chunked). Pure functions and a small state machine over
 * `Buffer`s; no I/O, so the property tests drive them with any split of the bytes.
 *
 * Implementation note. The parser never frames a request more loosely than llhttp (the
 * parser behind node:http, at its default, strict, settings): where two parsers disagree
 * about where a request ends, a proxy in front and this server see different requests
 * (request smuggling). So: lines end with CRLF only, no whitespace before a header's
 * colon, no obs-fold, no control characters in values; the target is visible ASCII;
 * Content-Length is plain digits and appears once, Transfer-Encoding is exactly
 * `chunked`, never beside Content-Length and never in HTTP/1.0; an HTTP/1.1 request
 * carries exactly one Host; a chunk-size line is hex digits then RFC 9112 §7.1.1
 * chunk extensions with no whitespace anywhere (as llhttp); trailers carry no field that
 * frames, routes or authenticates (RFC 9110 §6.5.1). Anything else is a 400 (431 for a
 * head over the size limit, 501 for a method llhttp does not know, for CONNECT, and for
 * a transfer coding other than chunked, 505 for another HTTP version, 417 for an
 * expectation other than `100-continue`), and the connection is closed. A request with
 * an `Upgrade` header is answered and then the connection is closed (nothing after it
 * is parsed as HTTP). `test/io/http/differential.test.ts` holds this against node:http.
 *
 * The head is found with one `Buffer.indexOf` of CRLFCRLF (native), then decoded once as
 * latin1 and split into lines; a head that arrives in pieces is searched only in its new
 * bytes. Header names and values keep the case they were sent with, in `rawHeaders`
 * (`name, value, name, value, ...`, as Node's `IncomingMessage.rawHeaders`).
 */

/** A parsed request head. */
export interface RequestHead {
  readonly method: string;
  /** The request target as sent. */
  readonly url: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly minor: 0 | 1;
  /** `name, value, name, value, ...` as sent (values without surrounding whitespace). */
  readonly rawHeaders: readonly string[];
  /** The declared body length; -1 when there is none (or the body is chunked). */
  readonly contentLength: number;
  /** True when the body is chunked. */
  readonly chunked: boolean;
  /** Whether the client allows the connection to stay open after this request. */
  readonly keepAlive: boolean;
  /** True when the client sent `expect: 100-continue`. */
  readonly expectContinue: boolean;
}

/** What {@link parseHead} checks beyond the grammar. */
export interface HeadOptions {
  /**
   * Largest head, counted as node:http counts it: the bytes of the request target and of
   * every header name and value (values without surrounding whitespace); not the method,
   * the version, the `:` and the line ends. More is a 431.
   */
  readonly headerBytes: number;
  /** Any token is a method (else only those llhttp knows; others get 501). */
  readonly anyMethod: boolean;
}

const DEFAULT_HEAD_OPTIONS: HeadOptions = { headerBytes: Infinity, anyMethod: false };

/**
 * The methods llhttp knows (node:http's `METHODS`, Node 24), except CONNECT: a 2xx to
 * CONNECT makes a proxy in front tunnel the bytes that follow, so CONNECT is a 501.
 */
const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'ACL', 'BIND', 'CHECKOUT', 'COPY', 'DELETE', 'GET', 'HEAD', 'LINK', 'LOCK', 'M-SEARCH', 'MERGE', 'MKACTIVITY',
  'MKCALENDAR', 'MKCOL', 'MOVE', 'NOTIFY', 'OPTIONS', 'PATCH', 'POST', 'PROPFIND', 'PROPPATCH', 'PURGE', 'PUT',
  'QUERY', 'REBIND', 'REPORT', 'SEARCH', 'SOURCE', 'SUBSCRIBE', 'TRACE', 'UNBIND', 'UNLINK', 'UNLOCK', 'UNSUBSCRIBE',
]);

/** Why a request was refused: the status answered, and a short reason (for tests and logs). */
export interface ParseError {
  readonly status: 400 | 417 | 431 | 501 | 505;
  readonly reason: string;
}

/** The outcome of {@link parseHead}: a head and the offset just past it, or an error. */
export type HeadResult = { readonly head: RequestHead; readonly end: number } | ParseError;

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
/** @internal RFC 9110 token characters: methods and header names (also those of responses). */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// A request target, in the forms llhttp takes: visible ASCII only (no obs-text, no
// controls), and origin-form (`/...`), asterisk-form (`*...`) or absolute-form with a
// scheme of letters and an authority of the characters llhttp allows there; llhttp refuses
// authority-form (`host:port`) outside CONNECT, and so does this parser.
const TARGET = /^(?:[/*][\x21-\x7e]*|[A-Za-z]+:\/\/[A-Za-z0-9\-._~!$&'()*+,;=%:@[\]]*(?:[/?][\x21-\x7e]*)?)$/;
// What may not appear in a header value: control characters other than HTAB.
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
const DIGITS = /^\d{1,15}$/;

function error(status: ParseError['status'], reason: string): ParseError {
  return { status, reason };
}

/**
 * Where the head that starts at `start` ends: the offset of its CRLFCRLF, or -1 when it
 * has not all arrived. `from` is where to resume searching (bytes before it were already
 * searched); leading empty lines before a request (RFC 9112 §2.2) are skipped by the caller.
 */
export function findHeadEnd(buf: Buffer, from: number): number {
  return buf.indexOf(CRLFCRLF, from);
}

/**
 * Parses the head in `buf[start, end)` where `end` is the offset of its CRLFCRLF (see
 * {@link findHeadEnd}). Returns the head and the offset of its first body byte.
 */
export function parseHead(buf: Buffer, start: number, end: number, options: HeadOptions = DEFAULT_HEAD_OPTIONS): HeadResult {
  const text = buf.toString('latin1', start, end);
  let lineEnd = text.indexOf('\r\n');
  if (lineEnd < 0) lineEnd = text.length;
  const requestLine = text.slice(0, lineEnd);
  const sp1 = requestLine.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : requestLine.indexOf(' ', sp1 + 1);
  if (sp2 < 0) return error(400, 'malformed request line');
  const method = requestLine.slice(0, sp1);
  const url = requestLine.slice(sp1 + 1, sp2);
  const version = requestLine.slice(sp2 + 1);
  if (!TOKEN.test(method)) return error(400, 'malformed request line');
  // Before the target: CONNECT's authority-form target is not one this parser takes.
  if (method === 'CONNECT') return error(501, 'CONNECT is not supported');
  if (!TARGET.test(url)) return error(400, 'malformed request line');
  let minor: 0 | 1;
  if (version === 'HTTP/1.1') minor = 1;
  else if (version === 'HTTP/1.0') minor = 0;
  else return /^HTTP\/\d\.\d$/.test(version) ? error(505, 'HTTP version not supported') : error(400, 'malformed request line');
  if (!options.anyMethod && !KNOWN_METHODS.has(method)) return error(501, 'unknown method');
  let counted = url.length;

  const rawHeaders: string[] = [];
  let contentLength = -1;
  let chunked = false;
  let transferEncoding = false;
  let hosts = 0;
  let close = false;
  let keepAliveToken = false;
  let expectContinue = false;
  let upgrade = false;
  let pos = lineEnd + 2;
  while (pos < text.length) {
    let next = text.indexOf('\r\n', pos);
    if (next < 0) next = text.length;
    const line = text.slice(pos, next);
    pos = next + 2;
    const colon = line.indexOf(':');
    if (colon <= 0) return error(400, line.charCodeAt(0) === 32 || line.charCodeAt(0) === 9 ? 'obsolete line folding' : 'malformed header');
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return error(400, 'malformed header name');
    const value = trimOws(line, colon + 1);
    if (BAD_VALUE.test(value)) return error(400, 'invalid character in header value');
    counted += name.length + value.length;
    rawHeaders.push(name, value);
    // The headers that decide framing and connection handling, matched by length first.
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'host') hosts++;
        break;
      case 7:
        if (name.toLowerCase() === 'upgrade') upgrade = true;
        break;
      case 6:
        if (name.toLowerCase() === 'expect') {
          if (value.toLowerCase() !== '100-continue') return error(417, 'unsupported expectation');
          expectContinue = true;
        }
        break;
      case 10:
        if (name.toLowerCase() === 'connection') {
          for (const token of value.toLowerCase().split(',')) {
            const t = token.trim();
            if (t === 'close') close = true;
            else if (t === 'keep-alive') keepAliveToken = true;
          }
        }
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') {
          if (contentLength !== -1) return error(400, 'duplicate content-length');
          if (!DIGITS.test(value)) return error(400, 'invalid content-length');
          contentLength = Number(value);
        }
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') {
          if (transferEncoding) return error(400, 'duplicate transfer-encoding');
          transferEncoding = true;
          const coding = value.toLowerCase();
          if (coding === 'chunked') chunked = true;
          // Another coding before chunked is valid HTTP, but not decoded here.
          else if (/(^|,)\s*chunked$/.test(coding)) return error(501, 'unsupported transfer coding');
          else return error(400, 'chunked is not the final transfer coding');
        }
        break;
    }
  }
  if (counted > options.headerBytes) return error(431, 'request head over headerBytes');
  if (transferEncoding && contentLength !== -1) return error(400, 'both content-length and transfer-encoding');
  if (transferEncoding && minor === 0) return error(400, 'transfer-encoding in an HTTP/1.0 request');
  if (minor === 1 ? hosts !== 1 : hosts > 1) return error(400, hosts === 0 ? 'missing host header' : 'duplicate host header');
  // After a request that asks to upgrade, the client may send bytes that are not HTTP
  // (and a proxy in front may already tunnel them): nothing after it is parsed.
  const keepAlive = !upgrade && (minor === 1 ? !close : keepAliveToken && !close);
  return { head: { method, url, minor, rawHeaders, contentLength, chunked, keepAlive, expectContinue }, end: end + 4 };
}

/** `line` from `from`, without leading and trailing spaces and tabs. */
function trimOws(line: string, from: number): string {
  let a = from;
  let b = line.length;
  while (a < b && (line.charCodeAt(a) === 32 || line.charCodeAt(a) === 9)) a++;
  while (b > a && (line.charCodeAt(b - 1) === 32 || line.charCodeAt(b - 1) === 9)) b--;
  return line.slice(a, b);
}

// ---------------------------------------------------------------------------------------
// Body framing
// ---------------------------------------------------------------------------------------

const enum Phase {
  /** Content-Length: `remaining` bytes left. */
  Length,
  /** Chunked: reading a chunk-size line. */
  Size,
  /** Chunked: `remaining` bytes of chunk data left. */
  Data,
  /** Chunked: the CRLF after a chunk's data. */
  DataEnd,
  /** Chunked: trailer lines after the last chunk, up to the empty line. */
  Trailers,
  Done,
}

/** Longest chunk-size line accepted (size, extensions and CRLF). */
const MAX_SIZE_LINE = 4096;

/**
 * Fields a request trailer may not carry (RFC 9110 §6.5.1): those that frame the message,
 * route it, control the connection, modify or authenticate the request, or say how to
 * process the content. A trailer is read after the body, so a server that honoured one of them
 * would act on data a proxy in front never saw in the head.
 */
const FORBIDDEN_TRAILERS: ReadonlySet<string> = new Set([
  // framing and routing
  'content-length', 'transfer-encoding', 'host', 'trailer', 'te',
  // connection control (hop by hop)
  'connection', 'keep-alive', 'upgrade', 'proxy-connection',
  // request modifiers: controls and conditionals
  'cache-control', 'expect', 'max-forwards', 'pragma', 'range', 'if-match', 'if-none-match', 'if-modified-since',
  'if-unmodified-since', 'if-range',
  // authentication
  'authorization', 'proxy-authorization',
  // how to process the content
  'content-encoding', 'content-type', 'content-range',
]);

/** {@link chunkSize}: a malformed line, and a size over {@link MAX_CHUNK_HEX} digits. */
const INVALID = -1;
const TOO_BIG = -2;
/** At most 12 significant hex digits (2^48 - 1 bytes): exact in a double, and far over any body limit. */
const MAX_CHUNK_HEX = 12;

/**
 * The chunk size of the chunk-size line `buf[pos, end)` (without its CRLF), or
 * {@link INVALID} / {@link TOO_BIG}. The grammar (RFC 9112 §7.1, §7.1.1), as llhttp reads it
 * with no whitespace anywhere:
 *
 * ```
 * chunk-size-line = 1*HEXDIG *( ";" token [ "=" ( token / quoted-string ) ] )
 * quoted-string   = DQUOTE *( qdtext / "\" ( HTAB / SP / VCHAR / obs-text ) ) DQUOTE
 * qdtext          = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
 * ```
 *
 * A loop over the bytes rather than a regular expression on a decoded string: it runs
 * once per chunk, and decoding the line to a string first cost more than the check.
 */
function chunkSize(buf: Buffer, pos: number, end: number): number {
  const start = pos;
  let size = 0;
  let digits = 0;
  let c = 0;
  for (; pos < end; pos++) {
    c = buf[pos]!;
    const v = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (v < 0) break;
    if (digits > 0 || v > 0) digits++; // leading zeros do not count
    if (digits > MAX_CHUNK_HEX) return TOO_BIG;
    size = size * 16 + v;
  }
  if (pos === start) return INVALID;
  while (pos < end) {
    if (buf[pos] !== 59 /* ; */) return INVALID;
    pos++;
    const name = pos;
    while (pos < end && TCHAR[buf[pos]!] === 1) pos++;
    if (pos === name) return INVALID;
    if (pos === end || buf[pos] === 59) continue;
    if (buf[pos] !== 61 /* = */) return INVALID;
    pos++;
    if (pos < end && buf[pos] === 34 /* " */) {
      pos++;
      for (;;) {
        if (pos >= end) return INVALID; // an unclosed quoted-string
        c = buf[pos]!;
        if (c === 34) break;
        if (c === 92 /* \ */) {
          pos++;
          if (pos >= end) return INVALID;
          c = buf[pos]!;
          if (c !== 9 && (c < 0x20 || c === 0x7f)) return INVALID;
        } else if (c !== 9 && (c < 0x20 || c === 0x7f)) return INVALID;
        pos++;
      }
      pos++;
    } else {
      const value = pos;
      while (pos < end && TCHAR[buf[pos]!] === 1) pos++;
      if (pos === value) return INVALID;
    }
  }
  return size;
}

/** 1 for the bytes of an RFC 9110 token (a table: the chunk-ext loop tests one byte at a time). */
const TCHAR = tokenTable();

function tokenTable(): Uint8Array {
  const table = new Uint8Array(256);
  for (let c = 0; c < 256; c++) if (TOKEN.test(String.fromCharCode(c))) table[c] = 1;
  return table;
}

/**
 * Decodes one request body from successive buffers. `decode(buf, pos, onData)` consumes
 * what it can from `buf[pos..]`, passes each piece of body to `onData` (a view into
 * `buf`, not a copy), and returns the offset it stopped at; `done` turns true once the
 * body has ended, and `error` is set (and nothing more is consumed) on a framing error.
 * Bytes after the body are left for the next request.
 */
export class BodyDecoder {
  #phase: Phase;
  #remaining: number;
  #trailerBytes = 0;
  readonly #maxTrailerBytes: number;
  error: ParseError | undefined;

  /** `length`: the Content-Length, or -1 for a chunked body. */
  constructor(length: number, maxTrailerBytes: number) {
    this.#phase = length < 0 ? Phase.Size : length === 0 ? Phase.Done : Phase.Length;
    this.#remaining = length < 0 ? 0 : length;
    this.#maxTrailerBytes = maxTrailerBytes;
  }

  get done(): boolean {
    return this.#phase === Phase.Done;
  }

  decode(buf: Buffer, pos: number, onData: (chunk: Buffer) => void): number {
    const len = buf.length;
    while (pos < len && this.error === undefined) {
      switch (this.#phase) {
        case Phase.Length:
        case Phase.Data: {
          const take = Math.min(this.#remaining, len - pos);
          onData(buf.subarray(pos, pos + take));
          pos += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#phase = this.#phase === Phase.Length ? Phase.Done : Phase.DataEnd;
          break;
        }
        case Phase.DataEnd: {
          if (len - pos < 2) return pos;
          if (buf[pos] !== 13 || buf[pos + 1] !== 10) return this.#fail('missing CRLF after chunk data', pos);
          pos += 2;
          this.#phase = Phase.Size;
          break;
        }
        case Phase.Size: {
          const eol = buf.indexOf(10, pos);
          if (eol < 0) return len - pos > MAX_SIZE_LINE ? this.#fail('chunk-size line too long', pos) : pos;
          if (eol - pos > MAX_SIZE_LINE) return this.#fail('chunk-size line too long', pos);
          if (eol === pos || buf[eol - 1] !== 13) return this.#fail('chunk-size line without CRLF', pos);
          const size = chunkSize(buf, pos, eol - 1);
          if (size < 0) return this.#fail(size === TOO_BIG ? 'chunk size too large' : 'invalid chunk size', pos);
          pos = eol + 1;
          this.#remaining = size;
          this.#phase = size === 0 ? Phase.Trailers : Phase.Data;
          break;
        }
        case Phase.Trailers: {
          const eol = buf.indexOf(10, pos);
          if (eol < 0) {
            if (this.#trailerBytes + (len - pos) > this.#maxTrailerBytes) return this.#fail('trailers too large', pos);
            return pos;
          }
          if (eol === pos || buf[eol - 1] !== 13) return this.#fail('trailer line without CRLF', pos);
          this.#trailerBytes += eol + 1 - pos;
          if (this.#trailerBytes > this.#maxTrailerBytes) return this.#fail('trailers too large', pos);
          const empty = eol - pos === 1;
          if (!empty) {
            const line = buf.toString('latin1', pos, eol - 1);
            const colon = line.indexOf(':');
            if (colon <= 0 || !TOKEN.test(line.slice(0, colon)) || BAD_VALUE.test(line.slice(colon + 1))) return this.#fail('malformed trailer', pos);
            if (FORBIDDEN_TRAILERS.has(line.slice(0, colon).toLowerCase())) return this.#fail('forbidden trailer field', pos);
          }
          pos = eol + 1;
          if (empty) this.#phase = Phase.Done;
          break;
        }
        case Phase.Done:
          return pos;
      }
    }
    return pos;
  }

  #fail(reason: string, pos: number): number {
    this.error = error(400, reason);
    return pos;
  }
}
