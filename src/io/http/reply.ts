/**
 * The writing side of a server connection (internal): {@link Reply}, the response to one
 * request, rendered and written to the connection's socket.
 *
 * Implementation note. A whole response (head and a string or bytes body) leaves in one
 * `socket.write` (one syscall; responses to pipelined requests are also corked together
 * by the connection); a streamed body is chunked (HTTP/1.1) or delimited by the close
 * (HTTP/1.0). The `date` line is rebuilt once per second. The server owns the framing and
 * connection headers, so a handler cannot frame a response differently from the bytes
 * written.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { TOKEN, type RequestHead } from './parser.js';

/** @internal What a {@link Reply} needs from its connection. */
export interface ReplyConnection {
  readonly socket: Duplex;
  /** The `connection` (and `keep-alive`) header lines of a response that leaves the connection open. */
  readonly keepAliveLines: string;
  /** Whether the response being written may leave the connection open. */
  readonly keepsAlive: boolean;
  /** The response in flight closes the connection when it ends. */
  closeAfterReply(): void;
  /** `reply` has written its last byte. */
  replyDone(reply: Reply): void;
  /** Closes the connection at once. */
  destroy(): void;
  /** Resolves when the socket's write buffer has drained, or the connection closed. */
  drained(): Promise<void>;
}

/** Outgoing header values as `serve()` handlers give them. */
export type OutgoingHeaders = Readonly<Record<string, string | number | readonly string[] | undefined>>;

// What a response header value may hold (visible ASCII, SP, HTAB, obs-text); the second
// test runs only when the first finds a byte outside visible ASCII.
const NOT_ASCII_VALUE = /[^\t\x20-\x7e]/;
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** Largest body that `end()` copies behind the head to send both with one `write`. */
const ONE_WRITE_BYTES = 16 * 1024;

const HEAD_NEW = 0;
const HEAD_STORED = 1;
const HEAD_SENT = 2;
const ENDED = 3;

/** The `date` header line, rebuilt once per second. */
let dateSecond = -1;
let dateLine = '';
function dateHeader(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateLine = `date: ${new Date(now).toUTCString()}\r\n`;
  }
  return dateLine;
}

/**
 * @internal The response to one request: `writeHead`, then `end(body)` (one write, with
 * `content-length`) or `write`s and `end()` (chunked, or close-delimited for HTTP/1.0).
 * The server sets the framing and connection headers itself (`content-length`,
 * `transfer-encoding`, `connection`, `keep-alive`); a handler's `content-length` is kept
 * for a streamed body, and for a HEAD request.
 */
export class Reply {
  readonly #conn: ReplyConnection;
  readonly #head: RequestHead;
  #phase = HEAD_NEW;
  #status = 200;
  #statusText: string | undefined;
  #headers: OutgoingHeaders | undefined;
  #chunked = false;
  #noBody = false;
  #closed = false;
  #gone = false;
  #closeListeners: Array<() => void> | undefined;

  constructor(conn: ReplyConnection, head: RequestHead) {
    this.#conn = conn;
    this.#head = head;
  }

  /** True once the head has been written to the socket. */
  get headersSent(): boolean {
    return this.#phase >= HEAD_SENT;
  }

  /** True when the connection closed before the response ended (nothing more is written). */
  get destroyed(): boolean {
    return this.#closed;
  }

  /** True when the client went away (closed, or ended its side) before the response ended. */
  get gone(): boolean {
    return this.#gone;
  }

  /** True once the response has ended. */
  get ended(): boolean {
    return this.#phase === ENDED;
  }

  /** Bytes waiting in the socket's write buffer. */
  get writableLength(): number {
    return this.#conn.socket.writableLength;
  }

  /** True while the socket's buffer is over its high-water mark: a `'drain'` ({@link drained}) follows. */
  get needsDrain(): boolean {
    return this.#conn.socket.writableNeedDrain;
  }

  /** Sets the status and headers (written with the first body bytes, or by `flushHeaders`). */
  writeHead(status: number, headers?: OutgoingHeaders, statusText?: string): void {
    if (this.#phase >= HEAD_SENT) throw Object.assign(new Error('the response head was already sent'), { code: 'ERR_HTTP_HEADERS_SENT' });
    this.#status = status;
    this.#headers = headers;
    this.#statusText = statusText;
    this.#phase = HEAD_STORED;
  }

  /** The connection closes after this response. */
  closeConnection(): void {
    this.#conn.closeAfterReply();
  }

  /** Writes the head now, for a body that follows in pieces. */
  flushHeaders(): void {
    if (this.#phase < HEAD_SENT && !this.#closed) this.#conn.socket.write(this.#renderHead(-1), 'latin1');
  }

  /** Writes a piece of body; false when the socket's buffer is full (wait for {@link drained}). */
  write(chunk: string | Uint8Array): boolean {
    if (this.#closed || this.#phase === ENDED) return false;
    const socket = this.#conn.socket;
    if (this.#phase < HEAD_SENT) socket.write(this.#renderHead(-1), 'latin1');
    const length = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    if (this.#noBody || length === 0) return !socket.writableNeedDrain;
    if (!this.#chunked) return socket.write(chunk);
    if (typeof chunk === 'string') return socket.write(`${length.toString(16)}\r\n${chunk}\r\n`);
    socket.cork();
    socket.write(`${length.toString(16)}\r\n`, 'latin1');
    socket.write(chunk);
    const more = socket.write('\r\n', 'latin1');
    socket.uncork();
    return more;
  }

  /** Ends the response: with `body` as its whole body when nothing was written before. */
  end(body?: string | Uint8Array): void {
    if (this.#phase === ENDED) return;
    if (this.#closed) {
      this.#phase = ENDED;
      return;
    }
    const socket = this.#conn.socket;
    if (this.#phase < HEAD_SENT) {
      const length = body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
      const head = this.#renderHead(length);
      this.#phase = ENDED;
      if (this.#noBody || length === 0) socket.write(head, 'latin1');
      else if (typeof body === 'string' && isAscii(head)) socket.write(head + body);
      else if (typeof body !== 'string' && length <= ONE_WRITE_BYTES) {
        // A small body is copied behind the head: one `write` instead of a corked pair,
        // which Node turns into a `writev` with an array and a request object per call.
        const out = Buffer.allocUnsafe(head.length + length);
        out.write(head, 0, 'latin1');
        out.set(body!, head.length);
        socket.write(out);
      } else {
        socket.cork();
        socket.write(head, 'latin1');
        socket.write(body!);
        socket.uncork();
      }
    } else {
      if (body !== undefined) this.write(body);
      this.#phase = ENDED;
      if (this.#chunked && !this.#noBody) socket.write('0\r\n\r\n', 'latin1');
    }
    this.#conn.replyDone(this);
  }

  /** Closes the connection at once (a response that cannot be finished). */
  destroy(): void {
    this.#conn.destroy();
  }

  /** Calls `listener` once if the client goes away before the response ends; returns its remover. */
  onClose(listener: () => void): () => void {
    (this.#closeListeners ??= []).push(listener);
    return () => {
      const list = this.#closeListeners;
      const i = list?.indexOf(listener) ?? -1;
      if (i >= 0) list!.splice(i, 1);
    };
  }

  /** Resolves when the socket's write buffer has drained (or the connection closed). */
  drained(): Promise<void> {
    return this.#conn.drained();
  }

  /** @internal The connection closed. */
  connectionClosed(): void {
    if (this.#phase === ENDED || this.#closed) return;
    this.#closed = true;
    this.clientGone();
  }

  /** @internal The client went away: the close listeners run (writes still go out while the socket is open). */
  clientGone(): void {
    if (this.#phase === ENDED || this.#gone) return;
    this.#gone = true;
    const listeners = this.#closeListeners;
    this.#closeListeners = undefined;
    if (listeners !== undefined) for (const listener of listeners) listener();
  }

  /** @internal The connection answered for this response (408): it writes nothing, and the handler's `req.signal` aborts. */
  abandon(): void {
    this.#closed = true;
    this.clientGone();
  }

  /**
   * The response head. `length`: the whole body's byte length, or -1 for a body written
   * in pieces. Sets the framing and decides whether the connection stays open.
   */
  #renderHead(length: number): string {
    const status = this.#status;
    if (!Number.isInteger(status) || status < 100 || status > 999) {
      throw Object.assign(new RangeError(`invalid response status ${String(status)}`), { code: 'ERR_HTTP_INVALID_STATUS_CODE' });
    }
    const request = this.#head;
    let out = `HTTP/1.1 ${status} ${this.#statusText ?? STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    let userLength: string | undefined;
    let userDate = false;
    let userClose = false;
    const headers = this.#headers;
    if (headers !== undefined) {
      for (const name of Object.keys(headers)) {
        const value = headers[name];
        if (value === undefined) continue;
        if (!TOKEN.test(name)) throw Object.assign(new TypeError(`invalid response header name ${JSON.stringify(name)}`), { code: 'ERR_INVALID_HTTP_TOKEN' });
        // The framing and connection headers are the server's (matched by length first).
        const n = name.length;
        if (n === 4 || n === 10 || n === 14 || n === 17) {
          const lower = name.toLowerCase();
          if (lower === 'date') userDate = true;
          else if (lower === 'connection') {
            if (/(^|,)\s*close\s*(,|$)/i.test(String(value))) userClose = true;
            continue;
          } else if (lower === 'keep-alive' || lower === 'transfer-encoding') continue;
          else if (lower === 'content-length') {
            userLength = String(value);
            continue;
          }
        }
        if (typeof value === 'object') for (const v of value) out += headerLine(name, v);
        else out += headerLine(name, typeof value === 'string' ? value : String(value));
      }
    }
    if (!userDate) out += dateHeader();
    // No body at all: 1xx, 204, 304, and every answer to HEAD (which keeps its length).
    const bodyless = status < 200 || status === 204 || status === 304;
    this.#noBody = bodyless || request.method === 'HEAD';
    let delimitedByClose = false;
    if (!bodyless) {
      if (length >= 0 && request.method !== 'HEAD') out += `content-length: ${length}\r\n`;
      else if (userLength !== undefined && /^\d+$/.test(userLength)) out += `content-length: ${userLength}\r\n`;
      else if (length >= 0) out += `content-length: ${length}\r\n`;
      else if (request.minor === 1) {
        out += 'transfer-encoding: chunked\r\n';
        this.#chunked = true;
      } else delimitedByClose = !this.#noBody;
    }
    const conn = this.#conn;
    if (conn.keepsAlive && !userClose && !delimitedByClose) out += conn.keepAliveLines;
    else {
      conn.closeAfterReply();
      out += 'connection: close\r\n';
    }
    this.#phase = HEAD_SENT;
    return out + '\r\n';
  }
}

function headerLine(name: string, value: string): string {
  if (NOT_ASCII_VALUE.test(value) && BAD_VALUE.test(value)) {
    throw Object.assign(new TypeError(`invalid character in the value of response header ${JSON.stringify(name)}`), { code: 'ERR_INVALID_CHAR' });
  }
  return `${name}: ${value}\r\n`;
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}
