/**
 * `rt.console(...)`: the console's HTTP server, on Zokio's own `serve()` and `sse()`.
 *
 * Implementation note. Every request is checked in this order: method (GET or HEAD, else
 * 405), `Host` header (one of the loopback names or the configured host, with the port,
 * else 403: DNS rebinding), token (`?token=` or `authorization: Bearer`, compared in
 * constant time, else 401). No response carries CORS headers; every one carries the
 * Content-Security-Policy, `no-store` and `no-referrer` (the token is in the URL). Nothing
 * can change the runtime through the console: it is read-only.
 *
 * Costs: this module is loaded by the first `rt.console()` call. The resource registry
 * and the span subscription run from start to close; sampling, the event-loop delay
 * histogram and the HTTP counters run only while a stream client is connected.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { RuntimeClosedError } from '../errors.js';
import { serve, type HandlerResult, type HttpServer } from '../io/http/serve.js';
import type { HttpRequest } from '../io/http/request.js';
import { sse } from '../io/http/sse.js';
import type { LocalExecutor } from '../scheduler/local-executor.js';
import { timerDriverOf } from '../scheduler/time.js';
import { contextStorage } from '../runtime/context.js';
import type { ZokioRuntime } from '../runtime/runtime.js';
import type { ConsolePart } from './console-part.js';
import { ConsoleFeed } from './feed.js';
import { HttpStats } from './http-stats.js';
import { CONSOLE_SCHEMA, type ConsoleTaskDetail } from './model.js';
import { resolveConsoleOptions, type ConsoleOptions, type ResolvedConsoleOptions, type RuntimeConsole } from './options.js';
import { CONSOLE_CSP, CONSOLE_CSS, consoleHtml, consoleScript } from './page.js';
import { ResourceRegistry } from './resources.js';
import { Sampler } from './sampler.js';
import { SpanWindow } from './spans.js';

const SECURITY_HEADERS = Object.freeze({
  'content-security-policy': CONSOLE_CSP,
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
});

function json(status: number, value: unknown): HandlerResult {
  return { status, headers: { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8' }, body: typeof value === 'string' ? value : JSON.stringify(value) };
}

function error(status: number, message: string): HandlerResult {
  return json(status, { schema: CONSOLE_SCHEMA, error: message });
}

function header(request: HttpRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** @internal The parts of one console, exposed for tests that drive the feed directly. */
export interface ConsoleInternals {
  readonly feed: ConsoleFeed;
  readonly options: ResolvedConsoleOptions;
  readonly server: HttpServer;
}

/** @internal Name of the console's own response tasks (left out of the task tree). */
export const CONSOLE_TASK_NAME = 'zokio:console';

const internals = new WeakMap<RuntimeConsole, ConsoleInternals>();

/** @internal The feed and server behind a console (tests). */
export function consoleInternals(handle: RuntimeConsole): ConsoleInternals {
  return internals.get(handle)!;
}

/** @internal Starts a console for `runtime` (called by `rt.console`). */
export async function startConsole(rt: object, exec: object, part: ConsolePart, input: ConsoleOptions | undefined): Promise<RuntimeConsole> {
  const runtime = rt as ZokioRuntime;
  const executor = exec as LocalExecutor;
  if (runtime.closed) throw new RuntimeClosedError('runtime is shut down: cannot open a console');
  const options = resolveConsoleOptions(input, () => randomBytes(16).toString('hex'));
  const resources = new ResourceRegistry();
  const http = new HttpStats();
  const spans = new SpanWindow(options.retention.spans);
  resources.install();
  spans.listen();
  // The server runs in a store of its own, and its response tasks (the streams) carry a
  // name of their own: the sampler leaves them out of the task tree.
  const ownStore = { runtime, task: undefined, span: undefined, signal: runtime.signal };
  const sampler = new Sampler(runtime as never, executor, options, resources, http, spans, CONSOLE_TASK_NAME);
  const feed = new ConsoleFeed(sampler, http, timerDriverOf(runtime), options, runtime.report, () => executor.closed);
  const expected = Buffer.from(options.token);
  let allowedHosts: Set<string> = new Set();

  const authorized = (request: HttpRequest): boolean => {
    const query = request.url.indexOf('?');
    let given = query < 0 ? null : new URLSearchParams(request.url.slice(query + 1)).get('token');
    const auth = header(request, 'authorization');
    if (given === null && auth !== undefined && auth.startsWith('Bearer ')) given = auth.slice(7);
    if (given === null) return false;
    const bytes = Buffer.from(given);
    return bytes.length === expected.length && timingSafeEqual(bytes, expected);
  };

  const handler = (request: HttpRequest): HandlerResult => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return { status: 405, headers: { ...SECURITY_HEADERS, allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }, body: 'read-only' };
    }
    const host = header(request, 'host');
    if (host === undefined || !allowedHosts.has(host.toLowerCase())) return error(403, 'foreign Host header');
    if (!authorized(request)) return { status: 401, headers: { ...SECURITY_HEADERS, 'www-authenticate': 'Bearer realm="zokio console"', 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify({ schema: CONSOLE_SCHEMA, error: 'token required' }) };
    const path = request.path;
    switch (path) {
      case '/':
        return { status: 200, headers: { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8' }, body: consoleHtml(options.token) };
      case '/app.js':
        return { status: 200, headers: { ...SECURITY_HEADERS, 'content-type': 'text/javascript; charset=utf-8' }, body: script };
      case '/app.css':
        return { status: 200, headers: { ...SECURITY_HEADERS, 'content-type': 'text/css; charset=utf-8' }, body: CONSOLE_CSS };
      case '/api/v1/snapshot':
        return json(200, feed.snapshot());
      case '/api/v1/trace.json':
        return json(200, { schema: CONSOLE_SCHEMA, displayTimeUnit: 'ms', traceEvents: spans.chromeTrace() });
      case '/api/v1/stream': {
        const last = header(request, 'last-event-id');
        const lastId = last !== undefined && /^\d+$/.test(last) ? Number(last) : undefined;
        const client = feed.attach(lastId);
        if (client === undefined) return error(503, `at most ${options.maxClients} stream clients`);
        return sse(client, { heartbeatMs: 15_000, headers: { ...SECURITY_HEADERS } });
      }
      default: {
        const match = /^\/api\/v1\/tasks\/(\d+)$/.exec(path);
        if (match === null) return error(404, 'not found');
        const state = feed.snapshot();
        const task = state.tasks[match[1]!];
        if (task === undefined) return error(404, `no live task #${match[1]}`);
        const detail: ConsoleTaskDetail = { schema: CONSOLE_SCHEMA, seq: state.seq, time: state.time, task, ageMs: state.time - task.spawnedAt };
        return json(200, detail);
      }
    }
  };

  const script = consoleScript();
  const server = await contextStorage.run(ownStore, () => serve(handler, { port: options.port, host: options.host, shutdownTimeoutMs: 1000, taskName: CONSOLE_TASK_NAME }));
  const port = server.port;
  allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`.toLowerCase()]);
  const origin = server.url;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      unregister();
      feed.close();
      spans.stop();
      resources.uninstall();
      await server.close();
    })();
    return closing;
  };
  const unregister = part.add(close);
  const handle: RuntimeConsole = {
    url: `${origin}/?token=${encodeURIComponent(options.token)}`,
    origin,
    token: options.token,
    port,
    close,
    [Symbol.asyncDispose]: close,
  };
  internals.set(handle, { feed, options, server });
  return handle;
}
