/**
 * `serve()`: an HTTP/1.1 server whose handlers run in the runtime's context.
 *
 * Implementation note. The server is the backend's listener (a libuv TCP listener on
 * `node`, the runtime's in-memory loopback on `memory`) and one {@link Http1Connection}
 * per accepted stream: zokio's own HTTP/1.1 parser and response writer
 * (`connection.ts`, `parser.ts`), the same code on both backends. Per request the hot
 * path is: the head parsed from the socket's chunk, one `ServerRequest` wrapper (no
 * copies), the handler call in the runtime's context (through the tracing hook when one
 * is registered), and, when the handler returned a plain response synchronously, one
 * `socket.write` of head and body: no task, no promise, no timer. A response still in
 * flight (a promise, a stream, SSE) is finished by a runtime task, which the runtime's
 * shutdown waits for and aborts (see {@link dispatch}).
 *
 * Refused requests (each answered, then the connection is closed): 400 for a malformed
 * request or one framed in any way llhttp would not frame it (see `parser.ts`), 501 for
 * CONNECT and for a method llhttp does not know (unless `methods: 'any'`), 431 for a head over `headerBytes`, 413 for a declared body over `bodyBytes`
 * (before the handler runs), 408 when a request has not arrived whole within
 * `requestTimeoutMs`. Both timeouts run on the runtime's clock on both backends (a
 * `VirtualClock` moves them in tests).
 *
 * Graceful shutdown (`server.close()`, the `signal` option, `rt.shutdown()`, or a signal
 * handler in shutdown mode): stop accepting, abort SSE streams, let in-flight requests
 * finish (their responses carry `connection: close`), close idle keep-alive connections,
 * and resolve when the last connection is gone; after `shutdownTimeoutMs` the remaining
 * connections are destroyed.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Duplex } from 'node:stream';
import { contextStorage } from '../../runtime/context.js';
import { currentRuntimeObject } from '../../runtime/current.js';
import type { ZokioRuntime } from '../../runtime/runtime.js';
import { taskWait, type TaskContext } from '../../scheduler/task.js';
import { timerDriverOf, type TimerDriver } from '../../scheduler/time.js';
import { ioDriver, type IoBackendKind, type IoDriver } from '../driver.js';
import type { BackendListener } from '../net/backend.js';
import { tlsListen, type TlsServerOptions } from '../net/tls.js';
import { checkSocketPath } from '../net/unix-socket-path.js';
import { Http1Connection, type ConnectionHost, type ConnectionLimits } from './connection.js';
import { HttpError } from './http-error.js';
import type { HeadOptions, RequestHead } from './parser.js';
import { currentRequestTracer, type RequestTracer } from './request-tracer.js';
import type { OutgoingHeaders, Reply } from './reply.js';
import type { RequestBody } from './request-body.js';
import { ServerRequest, type HttpRequest } from './request.js';
import { SseBody, streamSse } from './sse.js';

/** Limits that protect the server from bad or slow clients. */
export interface ServeLimits {
  /**
   * Largest request head in bytes, counted as node:http counts it (so that no head node
   * accepts at its defaults is refused): the bytes of the request target and of every
   * header name and value (values without surrounding whitespace). Not counted: the
   * method, the HTTP version, the `:` and whitespace around values, and line ends. More is
   * answered with 431; so is a head still incomplete after `4 × headerBytes + 1024` bytes
   * on the wire (more than any head within the limit can take).
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
   * (advertised as `keep-alive: timeout=<seconds>`; the connection closes 1 s later
   * than this, as with node:http, so that a client reusing it at the advertised limit is
   * not cut off). 0 keeps idle connections open.
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
  /** A Unix socket path to listen on instead of `host:port` (see `UnixListener.bind`). */
  readonly path?: string;
  /** Aborting it shuts the server down gracefully. */
  readonly signal?: AbortSignal;
  /** Serve HTTPS with these node:tls options (`key`, `cert`, ...); on `memory` too (node:tls over the in-memory loopback). */
  readonly tls?: TlsServerOptions;
  /** Request limits. */
  readonly limits?: ServeLimits;
  /**
   * Which request methods reach the handler. `'known'`: the methods llhttp (node:http's
   * parser) knows, such as `GET`, `POST`, `PATCH`, `PROPFIND`, `QUERY`; any other is
   * answered with 501, as a method a proxy in front may not parse the same way. `'any'`:
   * every RFC 9110 token (extension methods). CONNECT is a 501 either way (no tunnels).
   * @default 'known'
   */
  readonly methods?: 'known' | 'any';
  /**
   * How long graceful shutdown waits for in-flight requests before destroying the
   * remaining connections, in ms.
   * @default 10000
   */
  readonly shutdownTimeoutMs?: number;
  /**
   * Name of the runtime tasks that finish in-flight responses (a handler's promise, a
   * streaming body): shown in the console and in traces. Unnamed by default.
   */
  readonly taskName?: string;
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

/** What a server does with each request. */
type RequestCallback = (core: ServerCore, head: RequestHead, body: RequestBody | undefined, reply: Reply) => void;

/**
 * @internal The state a server shares with its connections: limits, timers, counters,
 * the open connections, and the request callback.
 */
class ServerCore implements ConnectionHost {
  readonly limits: ConnectionLimits;
  readonly headOptions: HeadOptions;
  readonly timers: TimerDriver;
  readonly keepAliveLines: string;
  readonly connections = new Set<Http1Connection>();
  readonly #closingController = new AbortController();
  readonly #onRequest: RequestCallback;
  closing = false;
  requests = 0;
  inFlight = 0;
  /** Called when the last connection of a closing server is gone. */
  onDrained: (() => void) | undefined;
  /** Spawn options of the response tasks (`ServeOptions.taskName`), made once. */
  spawnOptions: { readonly name: string } | undefined = undefined;

  constructor(limits: ConnectionLimits, anyMethod: boolean, timers: TimerDriver, onRequest: RequestCallback) {
    this.limits = limits;
    this.headOptions = { headerBytes: limits.headerBytes, anyMethod };
    this.timers = timers;
    const ms = limits.keepAliveTimeoutMs;
    // node:http's form of the advertised idle limit (whole seconds).
    this.keepAliveLines = ms > 0 ? `connection: keep-alive\r\nkeep-alive: timeout=${Math.floor(ms / 1000)}\r\n` : 'connection: keep-alive\r\n';
    this.#onRequest = onRequest;
  }

  get closingSignal(): AbortSignal {
    return this.#closingController.signal;
  }

  readonly accept = (socket: Duplex): void => {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.connections.add(new Http1Connection(socket, this));
  };

  onRequest(head: RequestHead, body: RequestBody | undefined, reply: Reply): void {
    this.requests++;
    this.inFlight++;
    this.#onRequest(this, head, body, reply);
  }

  onClose(connection: Http1Connection): void {
    this.connections.delete(connection);
    if (this.closing && this.connections.size === 0) this.onDrained?.();
  }

  /** A response was written (or abandoned). */
  requestDone(): void {
    this.inFlight--;
  }

  /** Begins graceful shutdown: idle connections close now, busy ones after their response. */
  close(): void {
    this.closing = true;
    this.#closingController.abort();
    for (const connection of this.connections) connection.shutdown();
  }
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
  readonly #core: ServerCore;
  readonly #listener: BackendListener;
  readonly #driver: IoDriver;
  readonly #shutdownTimeoutMs: number;
  readonly #closed: Promise<void>;
  #resolveClosed!: () => void;
  #closeStarted = false;
  /** The bound host. */
  readonly host: string;
  /** The bound port (a port of the in-memory network on the `memory` backend). */
  readonly port: number;
  /** The Unix socket path when listening on one (`serve(handler, { path })`); `port` is 0 then. */
  readonly path: string | undefined;
  /** The I/O backend the server runs on: `node` (a listening libuv socket) or `memory` (the runtime's in-memory loopback, no real socket). */
  readonly backend: IoBackendKind;

  /** @internal Use {@link serve}. */
  constructor(core: ServerCore, listener: BackendListener, driver: IoDriver, host: string, shutdownTimeoutMs: number) {
    this.#core = core;
    this.#listener = listener;
    this.#driver = driver;
    this.host = host;
    this.port = listener.address.port;
    this.path = listener.path;
    this.backend = driver.backend;
    this.#shutdownTimeoutMs = shutdownTimeoutMs;
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  /** Requests received since start. */
  get requests(): number {
    return this.#core.requests;
  }

  /** @internal Requests whose response has not finished. */
  get inFlight(): number {
    return this.#core.inFlight;
  }

  /**
   * @internal Opens a connection to this server over its backend's network (the
   * in-memory loopback, or a TCP connection to the bound address). Used by the
   * `request` helper of `zokio/testing`.
   */
  connect(signal?: AbortSignal): Promise<Duplex> {
    if (this.path !== undefined) return this.#driver.net.connectPath(this.path, signal);
    const host = this.host === '0.0.0.0' ? '127.0.0.1' : this.host === '::' ? '::1' : this.host;
    return this.#driver.net.connect(host, this.port, signal);
  }

  /** `http://host:port`. */
  get url(): string {
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  /** True once shutdown has begun. */
  get closing(): boolean {
    return this.#closeStarted;
  }

  /** Resolves when the server has shut down and every connection is closed. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /**
   * Shuts down gracefully: stops accepting, ends SSE streams, lets in-flight requests
   * finish, closes idle keep-alive connections, and resolves when all are closed (or
   * destroys what remains after `shutdownTimeoutMs`).
   *
   * *Cancellation*: not cancellable; calling it again returns the same promise.
   */
  close(): Promise<void> {
    if (this.#closeStarted) return taskWait(this.#closed);
    this.#closeStarted = true;
    const core = this.#core;
    const drained = new Promise<void>((resolve) => {
      core.onDrained = resolve;
    });
    core.close();
    if (core.connections.size === 0) core.onDrained!();
    const force = setTimeout(() => {
      for (const connection of core.connections) connection.destroy();
    }, this.#shutdownTimeoutMs);
    force.unref();
    // The listener's close resolves once it stopped accepting; the connections are this
    // server's to drain (or destroy after the timeout).
    void Promise.all([this.#listener.close().catch(() => undefined), drained]).then(() => {
      clearTimeout(force);
      this.#driver.closeables.delete(this);
      this.#resolveClosed();
    });
    return taskWait(this.#closed);
  }

  /** `await using server = await serve(...)` closes it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
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
export function serve(handler: Handler, options: ServeOptions = {}): Promise<HttpServer> {
  return taskWait(serveNow(handler, options));
}

async function serveNow(handler: Handler, options: ServeOptions): Promise<HttpServer> {
  const rt = currentRuntimeObject() as ZokioRuntime;
  const driver = ioDriver(rt);
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const here = contextStorage.getStore();
  const runStore = here?.runtime === rt ? here : await rt.run(() => contextStorage.getStore()!);
  // The context the handler runs in, captured once: on Node 24 (AsyncContextFrame) the
  // events of an accepted socket do not carry the store `serve()` was called in, and a
  // `contextStorage.run()` per request allocated a new context frame each time; entering
  // a captured frame allocates nothing.
  const inRuntime = contextStorage.run(runStore, () => AsyncLocalStorage.snapshot());
  const core = new ServerCore(limits, options.methods === 'any', timerDriverOf(rt), (server, head, body, reply) => {
    const request = new ServerRequest(head, reply, body);
    // In the runtime's context, as `rt.spawn` would run it: the current store when it
    // belongs to this runtime, else the one `serve()` was called in.
    if (contextStorage.getStore()?.runtime === rt) dispatch(server, handler, request, rt);
    else inRuntime(dispatch, server, handler, request, rt);
  });
  if (options.taskName !== undefined) core.spawnOptions = { name: options.taskName };
  const host = options.host ?? '127.0.0.1';
  const listener = options.path !== undefined
    ? await driver.net.listenPath(checkSocketPath(options.path), 511, core.accept, { allowHalfOpen: true })
    : options.tls === undefined
      ? await driver.net.listen(host, options.port ?? 0, 511, core.accept, { allowHalfOpen: true })
      : await tlsListen(driver, host, options.port ?? 0, 511, core.accept, options.tls);
  const server = new HttpServer(core, listener, driver, host, options.shutdownTimeoutMs ?? 10_000);
  driver.closeables.add(server);
  const signal = options.signal;
  if (signal !== undefined) {
    if (signal.aborted) void server.close();
    else signal.addEventListener('abort', () => void server.close(), { once: true });
  }
  return server;
}

/** Answers with `status` and closes the connection (the body may not have been read). */
function reject(res: Reply, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.closeConnection();
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(message);
}

/**
 * Runs one request, inside a store of the runtime. Never throws: every failure becomes a
 * response.
 *
 * A handler that returns a plain response (string, bytes or no body) synchronously is
 * answered right here: no task, no promise. Once any AsyncLocalStorage is enabled (the
 * runtime's context always is), Node 20 calls its promise hooks for every promise, and
 * a spawned task costs five (its async body, and two per `await`), more than the rest
 * of a `/health` request. Whatever stays in flight (a promise, a
 * stream, SSE, a WHATWG `Response`) is finished by a runtime task ({@link track}), so
 * that `rt.shutdown()` waits for it and aborts it like any other task.
 */
function dispatch(server: ServerCore, handler: Handler, request: ServerRequest, rt: ZokioRuntime): void {
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
function writePlain(res: Reply, result: HttpResponseInit): boolean {
  const { body, status, headers } = result;
  if (typeof body === 'string' || body instanceof Uint8Array) {
    res.writeHead(status ?? 200, (headers as OutgoingHeaders | undefined) ?? (typeof body === 'string' ? TEXT_HEADERS : undefined));
    res.end(body);
    return true;
  }
  if (body !== undefined && body !== null) return false;
  if (headers === undefined) res.writeHead(status ?? 200);
  else res.writeHead(status ?? 200, headers as OutgoingHeaders);
  res.end();
  return true;
}

/**
 * Finishes a response that is still in flight (a handler's promise, or a streaming
 * body) as a runtime task: the runtime counts it, waits for it at shutdown, and its
 * signal stops an SSE stream. While the runtime is shutting down it takes no new tasks;
 * the response is then finished untracked (the server's own shutdown still waits for it).
 */
function track(server: ServerCore, request: ServerRequest, result: unknown, rt: ZokioRuntime): void {
  try {
    rt.spawn((cx) => settle(server, request, result, cx), server.spawnOptions);
  } catch {
    void settle(server, request, result, undefined);
  }
}

/** Waits for the handler's promise, if it is one, then writes the response. */
function settle(server: ServerCore, request: ServerRequest, result: unknown, cx: TaskContext | undefined): void | Promise<void> {
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
function finish(server: ServerCore, request: ServerRequest, result: HandlerResult, cx: TaskContext | undefined): void | Promise<void> {
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
        const headers = result.headers as OutgoingHeaders | undefined;
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
function stopSignals(server: ServerCore, cx: TaskContext | undefined): AbortSignal[] {
  return cx === undefined ? [server.closingSignal] : [server.closingSignal, cx.signal];
}

/** Answers a failure: an `HttpError` with its status, anything else with 500. */
function fail(res: Reply, err: unknown): void {
  if (err instanceof HttpError) {
    const message = err.message;
    // A body over the limit was not read to the end: the connection cannot be reused.
    if (err.status === 413) reject(res, 413, message);
    else if (!res.headersSent) {
      res.writeHead(err.status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(message);
    } else res.destroy();
  } else reject(res, 500, 'Internal Server Error');
}

/** Writes chunks, waiting for the socket to drain when the client reads slowly. */
async function pipeChunks(res: Reply, chunks: AsyncIterable<Uint8Array | string>): Promise<void> {
  for await (const chunk of chunks) {
    if (res.destroyed) return;
    if (!res.write(chunk)) await res.drained();
  }
  res.end();
}

async function sendResponse(res: Reply, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    if (key === 'set-cookie') return;
    headers[key] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  res.writeHead(response.status, headers, response.statusText || undefined);
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
      if (!res.write(value)) await res.drained();
    }
  } finally {
    reader.releaseLock();
  }
  res.end();
}
