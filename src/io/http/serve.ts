/**
 * `serve()`: an HTTP/1.1 server whose handlers run in the runtime's context.
 *
 * Implementation note. Built on `node:http` (its parser and its limits: `maxHeaderSize`,
 * `requestTimeout`, `headersTimeout`, `keepAliveTimeout`). Per request the hot path is:
 * a Content-Length check against the body limit, one `ServerRequest` wrapper (no copies),
 * the handler call in the runtime's context (through the tracing hook when one is
 * registered), and, when the handler returned a plain response synchronously,
 * `writeHead` + `end` right away: no task and no promise. A response still in flight (a
 * promise, a stream, SSE) is finished by a runtime task, which the runtime's shutdown
 * waits for and aborts (see {@link dispatch}). Parse errors are answered from the
 * `clientError` event: 400 for a malformed request, 431 for oversized headers, 408 when
 * the headers or the request did not arrive within `requestTimeoutMs`; each such
 * connection is then closed.
 *
 * Graceful shutdown (`server.close()`, the `signal` option, `rt.shutdown()`, or a signal
 * handler in shutdown mode): stop accepting, abort SSE streams, let in-flight requests
 * finish (their responses carry `connection: close`), close idle keep-alive sockets, and
 * resolve when the last connection is gone; after `shutdownTimeoutMs` the remaining
 * connections are destroyed.
 *
 * On the `memory` backend the `node:http` server never listens: a listener of the
 * runtime's in-memory loopback network feeds each accepted stream to it with
 * `server.emit('connection', stream)` (and `'listening'` is emitted once, which starts
 * node's connection tracking). Parsing, 400/431/413 and both timeouts behave as on the
 * `node` backend, and the timeouts run on the runtime's timers, so on a `VirtualClock`
 * in tests: `keepAliveTimeoutMs` through the in-memory socket's `setTimeout` (node:http
 * arms it after each response, as on a TCP socket), `requestTimeoutMs` through
 * {@link RequestDeadline} (node's own check reads the real clock, so it is off there).
 * Graceful shutdown tracks the in-memory connections itself, since node only counts
 * connections it accepted on its own socket.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { contextStorage, currentRuntimeObject } from '../../runtime/context.js';
import type { ZokioRuntime } from '../../runtime/runtime.js';
import type { TaskContext } from '../../scheduler/task.js';
import { timerDriverOf, type TimerDriver } from '../../scheduler/time.js';
import { ioDriver, type IoBackendKind, type IoDriver } from '../driver.js';
import type { BackendListener } from '../net/backend.js';
import { HttpError } from './http-error.js';
import { currentRequestTracer, type RequestTracer } from './request-tracer.js';
import { ServerRequest, type HttpRequest } from './request.js';
import { SseBody, streamSse } from './sse.js';

/** Limits that protect the server from bad or slow clients. */
export interface ServeLimits {
  /**
   * Largest request head (request line + headers) in bytes; more is answered with 431.
   * @default 16384
   */
  readonly headerBytes?: number;
  /**
   * Largest request body in bytes; more is answered with 413 (at once when
   * Content-Length says so, else when the handler reads the body).
   * @default 1048576
   */
  readonly bodyBytes?: number;
  /**
   * Time a client has to send the whole request head and body, in ms; a slower client
   * gets 408 and its connection is closed. 0 disables it.
   * @default 30000
   */
  readonly requestTimeoutMs?: number;
  /**
   * Time an idle keep-alive connection stays open after its last response, in ms
   * (advertised as `keep-alive: timeout=<seconds>`; node:http closes the connection
   * 1 s later than this, so that a client reusing it at the advertised limit is not cut
   * off). 0 keeps idle connections open.
   * @default 5000
   */
  readonly keepAliveTimeoutMs?: number;
}

/** Options of {@link serve}. */
export interface ServeOptions {
  /** Port; 0 picks a free one (read it from `server.port`). @default 0 */
  readonly port?: number;
  /** Address to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /** Aborting it shuts the server down gracefully. */
  readonly signal?: AbortSignal;
  /** Request limits. */
  readonly limits?: ServeLimits;
  /**
   * How long graceful shutdown waits for in-flight requests before destroying the
   * remaining connections, in ms.
   * @default 10000
   */
  readonly shutdownTimeoutMs?: number;
}

/** A response body: text, bytes, a stream of chunks, or server-sent events. */
export type ResponseBody = string | Uint8Array | AsyncIterable<Uint8Array | string> | SseBody | null | undefined;

/** A plain response: status (default 200), headers and body. */
export interface HttpResponseInit {
  /** Status code. @default 200 */
  readonly status?: number;
  /** Response headers. A string body without headers is sent as `text/plain; charset=utf-8`. */
  readonly headers?: Readonly<Record<string, string | number | readonly string[]>>;
  /** The body. */
  readonly body?: ResponseBody;
}

/** What a handler may return. */
export type HandlerResult = HttpResponseInit | Response | SseBody;

/**
 * A request handler: called in the runtime's context per request. A plain result returned
 * synchronously is written at once; a promise or a streaming body is finished by a
 * runtime task.
 */
export type Handler = (request: HttpRequest) => HandlerResult | PromiseLike<HandlerResult>;

const DEFAULT_LIMITS = Object.freeze({ headerBytes: 16 * 1024, bodyBytes: 1024 * 1024, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000 });
const TEXT_HEADERS = Object.freeze({ 'content-type': 'text/plain; charset=utf-8' });

/**
 * Builds a JSON response.
 *
 * @example
 * ```ts
 * import { serve, json } from 'zokio/http';
 * await serve(() => json({ ok: true }), { port: 0 });
 * ```
 */
export function json(value: unknown, init?: { readonly status?: number; readonly headers?: Readonly<Record<string, string>> }): HttpResponseInit {
  return {
    status: init?.status ?? 200,
    headers: { 'content-type': 'application/json; charset=utf-8', ...init?.headers },
    body: JSON.stringify(value),
  };
}

/**
 * A running server returned by {@link serve}.
 *
 * @example
 * ```ts
 * import { serve } from 'zokio/http';
 * await using server = await serve(() => ({ body: 'ok' }), { port: 0 });
 * console.log(server.url); // http://127.0.0.1:PORT
 * ```
 */
export class HttpServer {
  readonly #server: Server;
  readonly #driver: IoDriver;
  readonly #memory: MemoryAcceptor | undefined;
  readonly #closing = new AbortController();
  readonly #shutdownTimeoutMs: number;
  readonly #closed: Promise<void>;
  #resolveClosed!: () => void;
  #closeStarted = false;
  /** @internal Requests whose response has not finished. */
  inFlight = 0;
  /** Requests handled since start. */
  requests = 0;
  /** The bound host. */
  readonly host: string;
  /** The bound port (a port of the in-memory network on the `memory` backend). */
  readonly port: number;
  /** The I/O backend the server runs on: `node` (a listening libuv socket) or `memory` (the runtime's in-memory loopback, no real socket). */
  readonly backend: IoBackendKind;

  /** @internal Use {@link serve}. */
  constructor(server: Server, driver: IoDriver, host: string, port: number, shutdownTimeoutMs: number, memory?: MemoryAcceptor) {
    this.#server = server;
    this.#driver = driver;
    this.#memory = memory;
    this.host = host;
    this.port = port;
    this.backend = memory === undefined ? 'node' : 'memory';
    this.#shutdownTimeoutMs = shutdownTimeoutMs;
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    const done = (): void => {
      this.#driver.closeables.delete(this);
      this.#resolveClosed();
    };
    // node:http emits 'close' once its own listening socket and connections are gone; it
    // does not count in-memory connections, so the acceptor says when those are gone.
    if (memory === undefined) server.once('close', done);
    else memory.onDrained = done;
  }

  /**
   * @internal Opens a connection to this server over its backend's network (the
   * in-memory loopback, or a TCP connection to the bound address). Used by the
   * `request` helper of `zokio/testing`.
   */
  connect(signal?: AbortSignal): Promise<Duplex> {
    const host = this.host === '0.0.0.0' ? '127.0.0.1' : this.host === '::' ? '::1' : this.host;
    return this.#driver.net.connect(host, this.port, signal);
  }

  /** `http://host:port`. */
  get url(): string {
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  /** @internal Aborted when graceful shutdown begins. */
  get closingSignal(): AbortSignal {
    return this.#closing.signal;
  }

  /** True once shutdown has begun. */
  get closing(): boolean {
    return this.#closeStarted;
  }

  /** Resolves when the server has shut down and every connection is closed. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /** @internal A response was written: during shutdown, close the connections that became idle. */
  requestDone(): void {
    this.inFlight--;
    if (this.#closeStarted) setImmediate(() => this.#server.closeIdleConnections());
  }

  /**
   * Shuts down gracefully: stops accepting, ends SSE streams, lets in-flight requests
   * finish, closes idle keep-alive connections, and resolves when all are closed (or
   * destroys what remains after `shutdownTimeoutMs`).
   *
   * *Cancellation*: not cancellable; calling it again returns the same promise.
   */
  close(): Promise<void> {
    if (this.#closeStarted) return this.#closed;
    this.#closeStarted = true;
    this.#closing.abort();
    this.#server.close();
    this.#memory?.close();
    this.#server.closeIdleConnections();
    const force = setTimeout(() => {
      this.#server.closeAllConnections();
      this.#memory?.destroyAll();
    }, this.#shutdownTimeoutMs);
    force.unref();
    void this.#closed.then(() => clearTimeout(force));
    return this.#closed;
  }

  /** `await using server = await serve(...)` closes it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * @internal Feeds the in-memory connections of a `memory`-backend listener to a
 * `node:http` server that never listens, tracks them for graceful shutdown (node only
 * counts the connections of its own socket), and applies `requestTimeoutMs` on the
 * runtime's clock (node's own check reads the real clock, so it is off on this backend).
 */
class MemoryAcceptor {
  readonly #server: Server;
  readonly #rt: object;
  readonly #requestTimeoutMs: number;
  /** Each open connection, with its request-timeout state when the timeout is on. */
  readonly #sockets = new Map<Duplex, RequestDeadline | undefined>();
  #listener: BackendListener | undefined;
  #listenerClosed: Promise<void> | undefined;
  #closing = false;
  #drained = false;
  /** Called once: after `close()`, when the listener is closed and the last connection is gone. */
  onDrained: (() => void) | undefined;

  constructor(server: Server, rt: object, requestTimeoutMs: number) {
    this.#server = server;
    this.#rt = rt;
    this.#requestTimeoutMs = requestTimeoutMs;
    if (requestTimeoutMs > 0) server.on('request', this.#onRequest);
  }

  /** Binds on the runtime's in-memory network; returns the bound port. */
  async listen(driver: IoDriver, host: string, port: number): Promise<number> {
    this.#listener = await driver.net.listen(host, port, 511, this.#accept);
    // Starts node's connection tracking (idle connections for closeIdleConnections).
    this.#server.emit('listening');
    return this.#listener.address.port;
  }

  readonly #accept = (socket: Duplex): void => {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    let deadline: RequestDeadline | undefined;
    if (this.#requestTimeoutMs > 0) {
      deadline = new RequestDeadline(this.#server, socket, timerDriverOf(this.#rt), this.#requestTimeoutMs);
      // Before node's own listener: a chunk that starts a request is seen before it is parsed.
      socket.on('data', deadline.onData);
    }
    this.#sockets.set(socket, deadline);
    socket.once('close', () => {
      this.#sockets.get(socket)?.stop();
      this.#sockets.delete(socket);
      this.#check();
    });
    this.#server.emit('connection', socket);
  };

  readonly #onRequest = (req: IncomingMessage): void => {
    this.#sockets.get(req.socket)?.onHead(req);
  };

  /** Stops accepting; resolves `onDrained` once every connection has closed. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#listenerClosed = (this.#listener?.close() ?? Promise.resolve()).then(() => this.#check(), () => this.#check());
  }

  /** Destroys the remaining connections (the shutdown timeout expired). */
  destroyAll(): void {
    for (const socket of this.#sockets.keys()) socket.destroy();
  }

  #check(): void {
    if (!this.#closing || this.#drained || this.#sockets.size > 0 || this.#listenerClosed === undefined) return;
    void this.#listenerClosed.then(() => {
      if (this.#drained || this.#sockets.size > 0) return;
      this.#drained = true;
      this.onDrained?.();
    });
  }
}

/**
 * @internal `requestTimeoutMs` of one in-memory connection, with node's rule: a request
 * must arrive whole (head and body) within the limit, counted from its first byte, or
 * from the connection's opening for the first one. Between requests (keep-alive idle,
 * or a response being written) nothing is counted. On expiry the connection gets the
 * same `clientError` (`ERR_HTTP_REQUEST_TIMEOUT`, answered 408) as on the node backend.
 */
class RequestDeadline {
  readonly #server: Server;
  readonly #socket: Duplex;
  readonly #timers: TimerDriver;
  readonly #limitMs: number;
  /** True from a request's first byte (or the connection's opening) until it has arrived whole. */
  #pending = true;
  /** Clock time the pending request started at. */
  #startedAt: number;
  /** The pending request once its head is parsed (its body may still be arriving). */
  #request: IncomingMessage | undefined;
  /** Wheel id of the armed timer, -1 when none. */
  #timer = -1;

  constructor(server: Server, socket: Duplex, timers: TimerDriver, limitMs: number) {
    this.#server = server;
    this.#socket = socket;
    this.#timers = timers;
    this.#limitMs = limitMs;
    this.#startedAt = timers.clock.now();
    this.#arm();
  }

  /** A chunk arrived (before node parses it): it starts a request unless one is pending. */
  readonly onData = (): void => {
    // A pending request whose body ended in an earlier chunk is done: this one starts the next.
    if (this.#pending && (this.#request === undefined || !this.#request.complete)) return;
    this.#pending = true;
    this.#startedAt = this.#timers.clock.now();
    this.#request = undefined;
    if (this.#timer === -1) this.#arm();
  };

  /** node parsed a request head on this connection. */
  onHead(req: IncomingMessage): void {
    if (req.complete) this.#done();
    else this.#request = req;
  }

  /** The connection closed. */
  stop(): void {
    this.#done();
  }

  #done(): void {
    this.#pending = false;
    this.#request = undefined;
    if (this.#timer !== -1) this.#timers.cancel(this.#timer);
    this.#timer = -1;
  }

  #arm(): void {
    if (this.#timers.closed) return;
    this.#timer = this.#timers.add(this.#startedAt + this.#limitMs, this.#onTimer, true);
  }

  readonly #onTimer = (): void => {
    this.#timer = -1;
    if (!this.#pending || this.#request?.complete === true) {
      this.#done();
      return;
    }
    // A later request started since the timer was armed: wait for its own deadline.
    if (this.#timers.clock.now() < this.#startedAt + this.#limitMs) {
      this.#arm();
      return;
    }
    this.#done();
    const err = Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });
    this.#server.emit('clientError', err, this.#socket);
  };
}

function clientErrorResponse(status: number): string {
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`;
}

function onClientError(err: Error & { code?: string }, socket: Duplex): void {
  const code = err.code;
  if (code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = code === 'HPE_HEADER_OVERFLOW' ? 431 : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  socket.end(clientErrorResponse(status));
  (socket as Socket).destroySoon?.();
}

/**
 * Starts an HTTP server; each request runs `handler` in the current runtime's context
 * (what it leaves in flight, a promise or a stream, as a task of that runtime).
 *
 * Use it for services and health endpoints. The handler receives a light request
 * (`method`, `url`, `path`, `headers`, `text()`, `json()`, `bytes()`, `signal`) and returns
 * `{ status, headers, body }`, a WHATWG `Response`, or `sse(...)`. Throw `HttpError` to
 * answer with a status; any other error is a 500.
 *
 * On a runtime built with `.io('memory')` no real port is opened: the server listens on
 * the runtime's in-memory loopback (`server.backend === 'memory'`, `server.port` is a
 * port of that network), and tests reach it with `request(server, ...)` from
 * `zokio/testing` or a `TcpStream` of the same runtime. The limits apply there too, and
 * the timeouts run on the runtime's clock (a `VirtualClock` moves them in tests).
 *
 * @example
 * ```ts
 * import { serve, json } from 'zokio/http';
 * const controller = new AbortController();
 * const server = await serve(async (req) => {
 *   if (req.path === '/health') return { status: 200, body: 'ok' };
 *   if (req.path === '/echo') return json(await req.json());
 *   return new Response('not found', { status: 404 });
 * }, { host: '127.0.0.1', port: 8080, signal: controller.signal, limits: { bodyBytes: 64 * 1024 } });
 * controller.abort(); // graceful shutdown
 * await server.closed;
 * ```
 *
 * *Cancellation*: aborting `signal` shuts the server down gracefully (see
 * {@link HttpServer.close}); runtime shutdown does the same. Each request's
 * `signal` aborts when its client disconnects.
 * @throws the listen error (e.g. `EADDRINUSE`) with Node's `code`.
 */
export async function serve(handler: Handler, options: ServeOptions = {}): Promise<HttpServer> {
  const rt = currentRuntimeObject() as ZokioRuntime;
  const driver = ioDriver(rt);
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const bodyLimit = limits.bodyBytes;
  const requestTimeout = limits.requestTimeoutMs;
  const inMemory = driver.backend === 'memory';
  // node's request timeout reads the real clock; on the memory backend MemoryAcceptor applies it on the runtime's.
  const nodeRequestTimeout = inMemory ? 0 : requestTimeout;
  const server = createServer({
    maxHeaderSize: limits.headerBytes,
    requestTimeout: nodeRequestTimeout,
    headersTimeout: nodeRequestTimeout,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Timeouts are checked on this period; keep it well under the request timeout.
    connectionsCheckingInterval: nodeRequestTimeout > 0 ? Math.max(10, Math.min(30_000, Math.floor(requestTimeout / 4))) : 30_000,
    noDelay: true,
  });
  server.on('clientError', onClientError);

  const signal = options.signal;
  let state: HttpServer | undefined;
  const here = contextStorage.getStore();
  const runStore = here?.runtime === rt ? here : await rt.run(() => contextStorage.getStore()!);

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const http = state!;
    http.requests++;
    http.inFlight++;
    if (http.closing) res.shouldKeepAlive = false;
    const length = contentLength(req.rawHeaders);
    if (length !== undefined && Number(length) > bodyLimit) {
      reject(res, 413, `request body is over the limit of ${bodyLimit} bytes`);
      http.requestDone();
      return;
    }
    const request = new ServerRequest(req, res, bodyLimit);
    // In the runtime's context, as `rt.spawn` would run it: the current store when it
    // belongs to this runtime (node:http's events carry the store the server was started
    // in), else the runtime's own.
    if (contextStorage.getStore()?.runtime === rt) dispatch(http, handler, request, rt);
    else contextStorage.run(runStore, dispatch, http, handler, request, rt);
  };
  server.on('request', onRequest);

  const host = options.host ?? '127.0.0.1';
  let port: number;
  let memory: MemoryAcceptor | undefined;
  if (inMemory) {
    // No real socket: the in-memory loopback's connections are fed to node:http.
    memory = new MemoryAcceptor(server, rt, requestTimeout);
    port = await memory.listen(driver, host, options.port ?? 0);
  } else {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port: options.port ?? 0 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    port = typeof address === 'object' && address !== null ? address.port : options.port ?? 0;
  }
  state = new HttpServer(server, driver, host, port, options.shutdownTimeoutMs ?? 10_000, memory);
  driver.closeables.add(state);
  if (signal !== undefined) {
    if (signal.aborted) void state.close();
    else signal.addEventListener('abort', () => void state!.close(), { once: true });
  }
  return state;
}

/**
 * The Content-Length value in `raw` (Node's `rawHeaders`: name, value, name, ...), read
 * without `req.headers`, which Node would build for this one lookup.
 */
function contentLength(raw: readonly string[]): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 14 && name.toLowerCase() === 'content-length') return raw[i + 1];
  }
  return undefined;
}

/** Answers with `status` and closes the connection (the body may not have been read). */
function reject(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.shouldKeepAlive = false;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(message), connection: 'close' });
  res.end(message);
}

/**
 * Runs one request, inside a store of the runtime. Never throws: every failure becomes a
 * response.
 *
 * A handler that returns a plain response (string, bytes or no body) synchronously is
 * answered right here: no task, no promise. Once any AsyncLocalStorage is enabled (the
 * runtime's context always is), Node 20 calls its promise hooks for every promise, and
 * a spawned task costs five (its async body, and two per `await`), the whole difference
 * to bare `node:http` on a `/health` route. Whatever stays in flight (a promise, a
 * stream, SSE, a WHATWG `Response`) is finished by a runtime task ({@link track}), so
 * that `rt.shutdown()` waits for it and aborts it like any other task.
 */
function dispatch(server: HttpServer, handler: Handler, request: ServerRequest, rt: ZokioRuntime): void {
  const res = request.res;
  let result: unknown;
  try {
    const tracer = currentRequestTracer();
    result = tracer === undefined ? handler(request) : traced(tracer, handler, request);
    if (isPlainInit(result) && writePlain(res, result)) {
      server.requestDone();
      return;
    }
  } catch (err) {
    fail(res, err);
    server.requestDone();
    return;
  }
  track(server, request, result, rt);
}

/**
 * Whether a handler's result is an object literal that is not a promise: a plain response
 * init, the only kind answered without a task. Class instances (`SseBody`, a WHATWG
 * `Response`) take the task path. The prototype check is what spares a plain answer the
 * `instanceof Response`, whose first use loads Node's fetch implementation (undici).
 */
function isPlainInit(result: unknown): result is HttpResponseInit {
  if (typeof result !== 'object' || result === null) return false;
  const proto: unknown = Object.getPrototypeOf(result);
  return (proto === Object.prototype || proto === null) && typeof (result as PromiseLike<unknown>).then !== 'function';
}

/**
 * Writes `result` when its body is a string, bytes or absent, and returns true; returns
 * false (writing nothing) for a streaming body. `result` is not a promise, an `SseBody`
 * or a `Response`.
 */
function writePlain(res: ServerResponse, result: HttpResponseInit): boolean {
  const { body, status, headers } = result;
  if (typeof body === 'string' || body instanceof Uint8Array) {
    res.writeHead(status ?? 200, (headers as OutgoingHttpHeaders | undefined) ?? (typeof body === 'string' ? TEXT_HEADERS : undefined));
    res.end(body);
    return true;
  }
  if (body !== undefined && body !== null) return false;
  if (headers === undefined) res.writeHead(status ?? 200);
  else res.writeHead(status ?? 200, headers as OutgoingHttpHeaders);
  res.end();
  return true;
}

/**
 * Finishes a response that is still in flight (a handler's promise, or a streaming
 * body) as a runtime task: the runtime counts it, waits for it at shutdown, and its
 * signal stops an SSE stream. While the runtime is shutting down it takes no new tasks;
 * the response is then finished untracked (the server's own shutdown still waits for it).
 */
function track(server: HttpServer, request: ServerRequest, result: unknown, rt: ZokioRuntime): void {
  try {
    rt.spawn((cx) => settle(server, request, result, cx));
  } catch {
    void settle(server, request, result, undefined);
  }
}

/** Waits for the handler's promise, if it is one, then writes the response. */
function settle(server: HttpServer, request: ServerRequest, result: unknown, cx: TaskContext | undefined): void | Promise<void> {
  if (result !== null && typeof (result as PromiseLike<unknown>).then === 'function') {
    return Promise.resolve(result as PromiseLike<HandlerResult>).then(
      (value) => finish(server, request, value, cx),
      (err: unknown) => {
        fail(request.res, err);
        server.requestDone();
      },
    );
  }
  return finish(server, request, result as HandlerResult, cx);
}

/**
 * Calls the handler through the registered tracer. `next` is a plain function returning
 * the handler's result as it is (a value, or its promise): the tracing module registers
 * its tracer whenever it is loaded, and with tracing off that tracer returns `next()`
 * unchanged, so a synchronous handler stays synchronous. An `async` wrapper here cost
 * three promises per request (each paid twice under AsyncLocalStorage) plus a `then`,
 * about 0.7 µs of CPU per request with tracing off.
 */
function traced(tracer: RequestTracer, handler: Handler, request: ServerRequest): unknown {
  return tracer(request, () => handler(request) as Promise<unknown>);
}

/** Writes the handler's result; calls `requestDone` once the response is written. */
function finish(server: HttpServer, request: ServerRequest, result: HandlerResult, cx: TaskContext | undefined): void | Promise<void> {
  const res = request.res;
  let pending: Promise<void> | undefined;
  try {
    if (result instanceof SseBody) pending = streamSse(result, res, stopSignals(server, cx));
    else if (result instanceof Response) pending = sendResponse(res, result);
    else if (!writePlain(res, result)) {
      const body = result.body;
      if (body instanceof SseBody) {
        pending = streamSse(body, res, stopSignals(server, cx));
      } else {
        const status = result.status ?? 200;
        const headers = result.headers as OutgoingHttpHeaders | undefined;
        if (headers === undefined) res.writeHead(status);
        else res.writeHead(status, headers);
        pending = pipeChunks(res, body as AsyncIterable<Uint8Array | string>);
      }
    }
  } catch (err) {
    fail(res, err);
  }
  if (pending === undefined) {
    server.requestDone();
    return;
  }
  return pending.then(
    () => server.requestDone(),
    (err: unknown) => {
      fail(res, err);
      server.requestDone();
    },
  );
}

/** What ends an SSE stream besides its client: the server's shutdown and the request task's abort. */
function stopSignals(server: HttpServer, cx: TaskContext | undefined): AbortSignal[] {
  return cx === undefined ? [server.closingSignal] : [server.closingSignal, cx.signal];
}

/** Answers a failure: an `HttpError` with its status, anything else with 500. */
function fail(res: ServerResponse, err: unknown): void {
  if (err instanceof HttpError) {
    const message = err.message;
    // A body over the limit was not read to the end: the connection cannot be reused.
    if (err.status === 413) reject(res, 413, message);
    else if (!res.headersSent) {
      res.writeHead(err.status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(message) });
      res.end(message);
    } else res.destroy();
  } else reject(res, 500, 'Internal Server Error');
}

/** Writes chunks, waiting for `drain` when the client reads slowly. */
async function pipeChunks(res: ServerResponse, chunks: AsyncIterable<Uint8Array | string>): Promise<void> {
  for await (const chunk of chunks) {
    if (res.destroyed) return;
    if (!res.write(chunk)) await waitDrain(res);
  }
  res.end();
}

function waitDrain(res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

async function sendResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    if (key === 'set-cookie') return;
    headers[key] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  res.writeHead(response.status, response.statusText || undefined, headers);
  if (response.body === null) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) {
        await reader.cancel();
        return;
      }
      if (!res.write(value)) await waitDrain(res);
    }
  } finally {
    reader.releaseLock();
  }
  res.end();
}
