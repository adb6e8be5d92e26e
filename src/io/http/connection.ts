/**
 * One HTTP/1.1 server connection (internal): reads requests off a `Duplex` (a libuv TCP
 * socket, or one end of the in-memory loopback), hands each to `serve()`, and writes its
 * response through a {@link Reply}. This file is the reading side; the writing side is
 * `reply.ts`, the body being received `request-body.ts`, the timeouts
 * `connection-timer.ts`, and the grammar `parser.ts`.
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
 * Both on one wheel timer per connection (`connection-timer.ts`), so a keep-alive request
 * costs no timer operation.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TimerDriver } from '../../scheduler/time.js';
import { ConnectionTimer, IDLE, NONE, REQUEST } from './connection-timer.js';
import { HttpError } from './http-error.js';
import { BodyDecoder, findHeadEnd, parseHead, type HeadOptions, type RequestHead } from './parser.js';
import { Reply, type ReplyConnection } from './reply.js';
import { RequestBody } from './request-body.js';

// sse.ts reads the reply's type from here.
export type { Reply };

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


/** @internal One server connection; see the module note. */
export class Http1Connection implements ReplyConnection {
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
  /** Request and idle time (see the module note). */
  readonly #timer: ConnectionTimer;

  constructor(socket: Duplex, host: ConnectionHost) {
    this.socket = socket;
    this.#host = host;
    this.#timer = new ConnectionTimer(host.timers, host.limits.requestTimeoutMs, host.limits.keepAliveTimeoutMs, this.#onTimeout);
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('drain', this.#onDrain);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    (socket as Partial<Socket>).setNoDelay?.(true);
    this.#timer.startRequest();
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
    if (this.#body === undefined) this.#startIdleOrRequestTime();
    this.#drive();
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#dead) return;
    if (this.#pos >= this.#buf.length) {
      this.#buf = chunk;
      this.#pos = 0;
      this.#scanned = 0;
      // The first byte of a request on an idle connection: its time starts now.
      const counting = this.#timer.counting;
      if (counting === IDLE || (counting === NONE && !this.busy)) this.#timer.startRequest();
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
          this.#timer.stop(); // the request has arrived whole
          if (this.#reply === undefined) {
            if (this.#closeAfterReply) return this.#end();
            this.#startIdleOrRequestTime();
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
      this.#timer.stop();
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
    this.#timer.stop();
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
    this.#timer.close();
    this.#sink?.fail(new HttpError(400, 'client closed the connection before the body was complete'));
    this.#sink = undefined;
    this.#body = undefined;
    this.#reply?.connectionClosed();
    this.#onDrain();
    this.#host.onClose(this);
  };

  /** Between requests: the next one's time runs if its first bytes are here, else the idle time. */
  #startIdleOrRequestTime(): void {
    if (this.#pos < this.#buf.length) this.#timer.startRequest();
    else this.#timer.startIdle();
  }

  /** A deadline of the timer passed: 408 for a request not arrived whole, else the idle connection closes. */
  readonly #onTimeout = (kind: typeof REQUEST | typeof IDLE): void => {
    if (this.#dead) return;
    if (kind === REQUEST) {
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
