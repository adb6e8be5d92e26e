/**
 * One HTTP/1.1 server connection (internal): reads requests off a `Duplex` (a libuv TCP
 * socket, or one end of the in-memory loopback), hands each to `serve()`, and writes its
 * response through a {@link Reply}.
 *
 * Implementation note. Why not `node:http`: under the AsyncLocalStorage every zokio
 * process has entered, Node 20 runs an async-hooks `init` callback for every async
 * resource, and `node:http` creates about eleven per keep-alive request (ten
 * `process.nextTick`s of the request and response streams' life cycle, and a fresh
 * `Timeout` for the idle timer). This connection creates none of its own: it reads
 * `'data'` chunks, parses them with `parser.ts`, writes each response head and body with
 * one `socket.write` when it can, and keeps both timeouts on one lazily re-armed timer of
 * the runtime's wheel. The only resource per response is the stream's own write tick.
 *
 * ```
 *   'data' ─► #buf ─► findHeadEnd/parseHead ─► serve(): handler ─► Reply ─► socket.write
 *                 └─► BodyDecoder ─► RequestBody (up to bodyBytes) ─► req.bytes()
 * ```
 *
 * Requests are answered in order. While a response is in flight, the bytes of the next
 * (pipelined) requests wait in `#buf`; over {@link MAX_HELD_BYTES} the socket is paused,
 * and while the socket's write buffer is full no further request is parsed, so a client
 * that sends without reading holds a bounded amount of memory.
 *
 * Timeouts (both on the runtime's clock, so a `VirtualClock` moves them in tests):
 * - `requestTimeoutMs`: a request must arrive whole (head and body) within it, counted
 *   from its first byte (for the first request, from the connection's opening);
 *   otherwise 408 and close. Nothing counts while a response is being written.
 * - `keepAliveTimeoutMs`: an idle connection closes that long plus 1 s after its last
 *   response (as `node:http` does, so a client that reuses it at the advertised limit
 *   is not cut off).
 * One wheel timer per connection: moving a deadline later only records it, and the
 * timer re-arms for the rest when it fires early, so a keep-alive request costs no timer
 * operation.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TimerDriver } from '../../scheduler/time.js';
import { HttpError } from './http-error.js';
import { BodyDecoder, findHeadEnd, parseHead, TOKEN, type HeadOptions, type RequestHead } from './parser.js';

/** The limits a connection applies (all set; see `ServeLimits`). */
export interface ConnectionLimits {
  readonly headerBytes: number;
  readonly bodyBytes: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
}

/** @internal What a connection needs from its server. */
export interface ConnectionHost {
  readonly limits: ConnectionLimits;
  /** What the parser checks beyond the grammar (the head's size, which methods pass). */
  readonly headOptions: HeadOptions;
  readonly timers: TimerDriver;
  /** The `connection` (and `keep-alive`) header lines of a response that leaves the connection open. */
  readonly keepAliveLines: string;
  /** True once graceful shutdown has begun: responses carry `connection: close`. */
  readonly closing: boolean;
  /** A request head arrived: answer it through `reply` (its body, if any, arrives in `body`). */
  onRequest(head: RequestHead, body: RequestBody | undefined, reply: Reply): void;
  /** The connection closed. */
  onClose(connection: Http1Connection): void;
}

/** Bytes of pipelined requests held while a response is in flight before the socket is paused. */
const MAX_HELD_BYTES = 64 * 1024;
/** Extra time node:http gives an idle keep-alive connection past `keepAliveTimeout`. */
const KEEP_ALIVE_GRACE_MS = 1000;
const EMPTY = Buffer.alloc(0);
const LFLF = Buffer.from('\n\n', 'latin1');

/**
 * The most bytes a head may take on the wire. `headerBytes` counts what node:http counts
 * (target, names, values; see `HeadOptions`), which the parser checks once the head is
 * whole; until then only its raw size is known. The shortest header line, `a:` CRLF, is 4
 * bytes on the wire for 1 counted, so a head within `headerBytes` is never longer than
 * this, and a longer one is refused before it is whole.
 */
function rawHeadLimit(headerBytes: number): number {
  return 4 * headerBytes + 1024;
}

/** What the one timer of a connection is counting. */
const NONE = 0;
const REQUEST = 1;
const IDLE = 2;

/** @internal One server connection; see the module note. */
export class Http1Connection {
  readonly socket: Duplex;
  readonly #host: ConnectionHost;
  /** Received bytes not consumed yet: `#buf[#pos..]`. */
  #buf: Buffer = EMPTY;
  #pos = 0;
  /** Bytes after `#pos` already searched for the end of the head. */
  #scanned = 0;
  /** The body being received, and where it goes. */
  #body: BodyDecoder | undefined;
  #sink: RequestBody | undefined;
  /** The response in flight. */
  #reply: Reply | undefined;
  /** No further request on this connection: close after the response in flight. */
  #closeAfterReply = false;
  /** Closed, or closing with nothing more to parse or write. */
  #dead = false;
  #peerEnded = false;
  #driving = false;
  #waitingDrain = false;
  #paused = false;
  #drainWaiters: Array<() => void> | undefined;
  // The timer: what it counts, until when, and the wheel timer armed for it.
  #deadlineKind = NONE;
  #deadline = 0;
  #timer = -1;
  #timerAt = Infinity;

  constructor(socket: Duplex, host: ConnectionHost) {
    this.socket = socket;
    this.#host = host;
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('drain', this.#onDrain);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    (socket as Partial<Socket>).setNoDelay?.(true);
    this.#startRequestClock();
    socket.resume();
  }

  /** True while a request is being received or answered. */
  get busy(): boolean {
    return this.#reply !== undefined || this.#body !== undefined;
  }

  /** @internal The connection headers of a response that leaves the connection open. */
  get keepAliveLines(): string {
    return this.#host.keepAliveLines;
  }

  /** @internal Whether the response being written may leave the connection open. */
  get keepsAlive(): boolean {
    return !this.#closeAfterReply && !this.#host.closing;
  }

  /** @internal The response in flight closes the connection when it ends. */
  closeAfterReply(): void {
    this.#closeAfterReply = true;
  }

  /** Graceful shutdown: closes now when idle, else after the response in flight. */
  shutdown(): void {
    this.#closeAfterReply = true;
    if (!this.busy) this.#end();
  }

  /** Closes the connection at once. */
  destroy(): void {
    this.socket.destroy();
  }

  /** @internal Resolves when the socket's write buffer has drained, or the connection closed. */
  drained(): Promise<void> {
    if (this.#dead || !this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => (this.#drainWaiters ??= []).push(resolve));
  }

  /** @internal `reply` has written its last byte. */
  replyDone(reply: Reply): void {
    if (reply !== this.#reply) return;
    this.#reply = undefined;
    if (this.#dead) return;
    if (this.#closeAfterReply) {
      this.#end();
      return;
    }
    this.#sink?.discard(); // a body still arriving is read to its end and dropped
    if (this.#body === undefined) this.#startIdleOrRequestClock();
    this.#drive();
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#dead) return;
    if (this.#pos >= this.#buf.length) {
      this.#buf = chunk;
      this.#pos = 0;
      this.#scanned = 0;
      // The first byte of a request on an idle connection: its time starts now.
      if (this.#deadlineKind === IDLE || (this.#deadlineKind === NONE && !this.busy)) this.#startRequestClock();
    } else {
      this.#buf = Buffer.concat([this.#buf.subarray(this.#pos), chunk]);
      this.#pos = 0;
    }
    this.#drive();
  };

  /** Parses and dispatches what it can; see the module note for the order. */
  #drive(): void {
    if (this.#driving) return; // re-entered from a response finished by the handler: the loop goes on
    this.#driving = true;
    let corked = false;
    try {
      for (;;) {
        if (this.#dead) return;
        const buf = this.#buf;
        if (this.#body !== undefined) {
          const body = this.#body;
          this.#pos = body.decode(buf, this.#pos, this.#onBodyData);
          if (body.error !== undefined) return this.#bodyFailed(new HttpError(400, `malformed request body: ${body.error.reason}`));
          if (!body.done) return;
          this.#body = undefined;
          this.#sink?.end();
          this.#sink = undefined;
          this.#stopClock(); // the request has arrived whole
          if (this.#reply === undefined) {
            if (this.#closeAfterReply) return this.#end();
            this.#startIdleOrRequestClock();
          }
          continue;
        }
        if (this.#reply !== undefined) {
          // A response is in flight: the next requests wait (bounded).
          if (buf.length - this.#pos > MAX_HELD_BYTES + rawHeadLimit(this.#host.limits.headerBytes)) this.#pause();
          return;
        }
        if (this.#closeAfterReply) return this.#end();
        if (this.socket.writableNeedDrain) {
          // The client is not reading its responses: parse nothing more until it does.
          this.#waitingDrain = true;
          return;
        }
        this.#resume();
        let pos = this.#pos;
        const len = buf.length;
        // Empty lines before a request are ignored (RFC 9112 §2.2).
        while (pos + 1 < len && buf[pos] === 13 && buf[pos + 1] === 10) pos += 2;
        this.#pos = pos;
        if (pos >= len) {
          this.#buf = EMPTY;
          this.#pos = 0;
          this.#scanned = 0;
          if (this.#peerEnded) this.#end();
          return;
        }
        const limit = rawHeadLimit(this.#host.limits.headerBytes);
        const end = findHeadEnd(buf, pos + this.#scanned);
        if (end < 0) {
          if (len - pos > limit) return this.#refuse(431);
          // Lines end in CRLF only: a head ended by bare LFs would otherwise wait for its timeout.
          if (buf.indexOf(LFLF, pos + this.#scanned) >= 0) return this.#refuse(400);
          this.#scanned = Math.max(0, len - pos - 3);
          if (this.#peerEnded) this.#end(); // a request cut short: nothing more will come
          return;
        }
        if (end + 4 - pos > limit) return this.#refuse(431);
        const parsed = parseHead(buf, pos, end, this.#host.headOptions);
        this.#scanned = 0;
        if ('status' in parsed) return this.#refuse(parsed.status);
        this.#pos = parsed.end;
        this.#start(parsed.head);
        if (!corked && this.#pos < buf.length && !this.#dead) {
          // Pipelined requests: their responses (those answered synchronously) leave in
          // one write when the loop ends, not in one syscall each.
          corked = true;
          this.socket.cork();
        }
      }
    } finally {
      this.#driving = false;
      if (corked) this.socket.uncork();
    }
  }

  /** A request head was parsed: set up its body and hand it to the server. */
  #start(head: RequestHead): void {
    const limits = this.#host.limits;
    const length = head.contentLength;
    if (length > limits.bodyBytes) return this.#refuse(413, `request body is over the limit of ${limits.bodyBytes} bytes`);
    const hasBody = length > 0 || head.chunked;
    if (hasBody) {
      this.#body = new BodyDecoder(head.chunked ? -1 : length, limits.headerBytes);
      this.#sink = new RequestBody(limits.bodyBytes);
      if (head.expectContinue) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
    } else {
      this.#stopClock();
    }
    if (!head.keepAlive) this.#closeAfterReply = true;
    const reply = (this.#reply = new Reply(this, head));
    this.#host.onRequest(head, this.#sink, reply);
  }

  readonly #onBodyData = (chunk: Buffer): void => {
    if (this.#sink?.push(chunk) === false) {
      // Over the body limit: nothing more is read, and the connection closes after the response.
      this.#closeAfterReply = true;
      this.#pause();
    }
  };

  /** The body cannot be read to its end: its reader fails, and the connection closes after the response. */
  #bodyFailed(err: HttpError): void {
    this.#body = undefined;
    this.#sink?.fail(err);
    this.#sink = undefined;
    this.#closeAfterReply = true;
    this.#pause();
    if (this.#reply === undefined) this.#refuse(400);
  }

  /** Answers a request that cannot be served with `status` and closes the connection. */
  #refuse(status: number, message = ''): void {
    const body = Buffer.byteLength(message);
    const type = body > 0 ? 'content-type: text/plain; charset=utf-8\r\n' : '';
    this.#end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\n${type}content-length: ${body}\r\n\r\n${message}`);
  }

  /** Ends the connection (after `last`, and whatever is queued, is written), then closes it. */
  #end(last?: string): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#stopClock();
    const socket = this.socket;
    if (socket.destroyed) return;
    socket.end(last);
    if (socket.writableFinished) socket.destroy();
    else socket.once('finish', () => socket.destroy());
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.socket.pause();
  }

  #resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.socket.resume();
  }

  /**
   * The client ended its side. As with `node:http` and Go's server, the request in flight
   * sees its client go (`req.signal` aborts, an SSE stream stops), and its response may
   * still be written. The requests that arrived whole before the end are answered (a
   * client may half-close after sending), then the connection closes.
   */
  readonly #onEnd = (): void => {
    this.#peerEnded = true;
    if (this.#body !== undefined) {
      this.#bodyFailed(new HttpError(400, 'client closed the connection before the body was complete'));
      return;
    }
    if (this.#reply !== undefined) this.#reply.clientGone();
    else this.#drive();
  };

  readonly #onDrain = (): void => {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = undefined;
    if (waiters !== undefined) for (const resolve of waiters) resolve();
    if (this.#waitingDrain) {
      this.#waitingDrain = false;
      this.#drive();
    }
  };

  readonly #onError = (): void => {
    this.socket.destroy();
  };

  readonly #onClose = (): void => {
    this.#dead = true;
    this.#stopClock();
    if (this.#timer !== -1) this.#host.timers.cancel(this.#timer);
    this.#timer = -1;
    this.#sink?.fail(new HttpError(400, 'client closed the connection before the body was complete'));
    this.#sink = undefined;
    this.#body = undefined;
    this.#reply?.connectionClosed();
    this.#onDrain();
    this.#host.onClose(this);
  };

  // ---- the timer -------------------------------------------------------------------

  #startRequestClock(): void {
    const ms = this.#host.limits.requestTimeoutMs;
    if (ms > 0) this.#setDeadline(REQUEST, this.#host.timers.clock.now() + ms);
    else this.#deadlineKind = NONE;
  }

  #startIdleClock(): void {
    const ms = this.#host.limits.keepAliveTimeoutMs;
    if (ms > 0) this.#setDeadline(IDLE, this.#host.timers.clock.now() + ms + KEEP_ALIVE_GRACE_MS);
    else this.#deadlineKind = NONE;
  }

  /** Between requests: the next one's time runs if its first bytes are here, else the idle time. */
  #startIdleOrRequestClock(): void {
    if (this.#pos < this.#buf.length) this.#startRequestClock();
    else this.#startIdleClock();
  }

  #stopClock(): void {
    this.#deadlineKind = NONE;
  }

  #setDeadline(kind: number, at: number): void {
    this.#deadlineKind = kind;
    this.#deadline = at;
    if (at >= this.#timerAt) return; // the armed timer fires first and re-arms for the rest
    const timers = this.#host.timers;
    if (this.#timer !== -1) timers.cancel(this.#timer);
    this.#arm(at);
  }

  #arm(at: number): void {
    const timers = this.#host.timers;
    if (timers.closed) {
      this.#timer = -1;
      this.#timerAt = Infinity;
      return;
    }
    this.#timerAt = at;
    this.#timer = timers.add(at, this.#onTimer, true);
  }

  readonly #onTimer = (): void => {
    this.#timer = -1;
    this.#timerAt = Infinity;
    if (this.#dead || this.#deadlineKind === NONE) return;
    if (this.#host.timers.clock.now() < this.#deadline) {
      this.#arm(this.#deadline);
      return;
    }
    if (this.#deadlineKind === REQUEST) {
      this.#body = undefined;
      this.#sink?.fail(new HttpError(408, 'the request did not arrive within requestTimeoutMs'));
      this.#sink = undefined;
      const reply = this.#reply;
      if (reply?.headersSent === true) {
        this.destroy(); // the handler is answering already: it cannot be told
        return;
      }
      // The handler (if one runs, waiting for the body) is answered for: its response writes nothing.
      this.#reply = undefined;
      reply?.abandon();
      this.#refuse(408);
    } else {
      this.#end();
    }
  };
}

/** Outgoing header values as `serve()` handlers give them. */
export type OutgoingHeaders = Readonly<Record<string, string | number | readonly string[] | undefined>>;

// What a response header value may hold (visible ASCII, SP, HTAB, obs-text); the second
// test runs only when the first finds a byte outside visible ASCII.
const NOT_ASCII_VALUE = /[^\t\x20-\x7e]/;
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

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
  readonly #conn: Http1Connection;
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

  constructor(conn: Http1Connection, head: RequestHead) {
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
      else {
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

/**
 * @internal A request body as it arrives: kept up to the body limit, handed to
 * `req.bytes()` once whole. Over the limit it keeps nothing more and its reader fails
 * with 413.
 */
export class RequestBody {
  readonly #limit: number;
  #chunks: Buffer[] = [];
  #size = 0;
  /** Set once the body is whole (`#result`) or cannot be (`#error`). */
  #result: Buffer | undefined;
  #error: HttpError | undefined;
  #discard = false;
  #resolve: ((body: Buffer) => void) | undefined;
  #reject: ((err: HttpError) => void) | undefined;
  #promise: Promise<Buffer> | undefined;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Keeps `chunk`; false once the body is over the limit. */
  push(chunk: Buffer): boolean {
    if (this.#discard || this.#error !== undefined) return true;
    this.#size += chunk.length;
    if (this.#size > this.#limit) {
      this.#chunks = [];
      this.fail(new HttpError(413, `request body is over the limit of ${this.#limit} bytes`));
      return false;
    }
    this.#chunks.push(chunk);
    return true;
  }

  /** The response is written: what still arrives is dropped. */
  discard(): void {
    this.#discard = true;
    this.#chunks = [];
  }

  /** The body is whole. */
  end(): void {
    if (this.#error !== undefined || this.#result !== undefined) return;
    const chunks = this.#chunks;
    this.#chunks = [];
    this.#result = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.#size);
    this.#resolve?.(this.#result);
  }

  /** The body cannot be read to its end. */
  fail(err: HttpError): void {
    if (this.#error !== undefined || this.#result !== undefined) return;
    this.#error = err;
    this.#reject?.(err);
  }

  /** The whole body (the same promise on every call). */
  read(): Promise<Buffer> {
    if (this.#promise !== undefined) return this.#promise;
    if (this.#result !== undefined) return (this.#promise = Promise.resolve(this.#result));
    if (this.#error !== undefined) return (this.#promise = Promise.reject(this.#error));
    return (this.#promise = new Promise<Buffer>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    }));
  }
}
