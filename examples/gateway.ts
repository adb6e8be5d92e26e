/**
 * An API gateway in front of an LLM-style upstream: `npx tsx examples/gateway.ts`, then
 *
 *   curl http://127.0.0.1:8080/health
 *   curl -d '{"messages":[{"role":"user","content":"hi"}]}' http://127.0.0.1:8080/v1/chat/completions
 *   curl -N -d '{"stream":true,"messages":[]}' http://127.0.0.1:8080/v1/chat/completions
 *
 * The four scenarios of the runtime evaluation this project grew from:
 * - `GET /health`: answered at once, whatever the other routes are doing;
 * - `POST /v1/chat/completions`: the JSON body is parsed and forwarded to the upstream
 *   with `request()` (pooled keep-alive connections, a deadline on the runtime's clock),
 *   and the upstream's JSON answer is returned;
 * - the same with `"stream": true`: the upstream's server-sent events are read with
 *   `events()` and relayed with `sse()`. The relay pulls one upstream event only when the
 *   client's socket has room (below `sseThresholdBytes`), so a slow client makes the
 *   gateway stop reading the upstream instead of buffering for it;
 * - mixed load: all of the above at once (see bench/gateway.bench.ts).
 *
 * Faults: an upstream that refuses or resets the connection, or answers more than
 * `maxUpstreamBytes`, gives 502; one that does not answer within `upstreamTimeoutMs`
 * gives 504. The cause is recorded on the request's span, and the client always gets an
 * answer. A client that goes away aborts its upstream request (`req.signal`).
 * SIGINT/SIGTERM shut down gracefully: stop accepting, end streams, finish requests.
 *
 * Without `UPSTREAM`, the script also starts the upstream stub (a second `serve()` that
 * answers JSON after `UPSTREAM_DELAY_MS` and streams `UPSTREAM_TOKENS` tokens as SSE).
 */
import { pathToFileURL } from 'node:url';
import { createRuntime, sleep, TimeoutError, type Runtime } from '../src/index.js';
import { HttpClientError, HttpError, events, json, request, serve, sse, type HttpRequest, type HttpServer } from '../src/io/http/index.js';
import { currentSpan } from '../src/trace/index.js';

/** Options of {@link startUpstream}: the stub an evaluation's gateway talks to. */
export interface UpstreamOptions {
  /** @default 0 (any free port) */
  readonly port?: number;
  /** Time before a JSON answer, in ms. @default 50 */
  readonly delayMs?: number;
  /** Tokens in a streamed answer. @default 20 */
  readonly tokens?: number;
  /** Time between streamed tokens, in ms. @default 10 */
  readonly tokenDelayMs?: number;
  /** The runtime to serve on; a new `node` one when omitted (shut down by `stop()`). */
  readonly runtime?: Runtime;
}

/** The upstream stub: `POST /v1/chat/completions` answers JSON, or SSE tokens with `"stream": true`. */
export async function startUpstream(options: UpstreamOptions = {}): Promise<{ server: HttpServer; url: string; stop(): Promise<void> }> {
  const rt = options.runtime ?? createRuntime({ io: 'node' });
  const delayMs = options.delayMs ?? 50;
  const tokens = options.tokens ?? 20;
  const tokenDelayMs = options.tokenDelayMs ?? 10;
  const server = await rt.run(() =>
    serve(async (req) => {
      if (req.path !== '/v1/chat/completions' || req.method !== 'POST') return { status: 404, body: 'not found' };
      const body = (await req.json()) as { stream?: boolean; model?: string };
      const model = body.model ?? 'stub-1';
      if (body.stream === true) {
        return sse(async function* (signal) {
          for (let i = 0; i < tokens; i++) {
            if (i > 0 && tokenDelayMs > 0) await sleep(tokenDelayMs, { signal });
            yield { id: i + 1, data: { model, choices: [{ index: 0, delta: { content: `token${i} ` } }] } };
          }
          yield { data: '[DONE]' };
        }, { heartbeatMs: 0 });
      }
      if (delayMs > 0) await sleep(delayMs, { signal: req.signal });
      return json({ id: 'cmpl-1', model, choices: [{ index: 0, message: { role: 'assistant', content: 'hello from upstream' } }] });
    }, { port: options.port ?? 0 }),
  );
  return { server, url: `http://127.0.0.1:${server.port}`, stop: async () => (options.runtime === undefined ? rt.shutdown() : server.close()) };
}

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  /** Base URL of the upstream, e.g. `http://127.0.0.1:9000`. */
  readonly upstream: string;
  /** @default 0 (any free port) */
  readonly port?: number;
  /** Deadline for the upstream's answer head, then for each chunk, in ms: a miss is 504. @default 30000 */
  readonly upstreamTimeoutMs?: number;
  /** Largest upstream JSON answer, in bytes: more is 502. @default 1048576 */
  readonly maxUpstreamBytes?: number;
  /** Bytes the gateway lets wait in a streaming client's socket before it stops reading the upstream. @default 16384 */
  readonly sseThresholdBytes?: number;
  /** The runtime to serve on; a new `node` one with a pool of 1024 upstream connections when omitted. */
  readonly runtime?: Runtime;
}

/** What the gateway counts. */
export interface GatewayStats {
  /** Requests answered by route. */
  health: number;
  forwarded: number;
  streams: number;
  /** Upstream failures answered with 502 or 504. */
  upstreamErrors: number;
  /** Events relayed to streaming clients. */
  relayedEvents: number;
}

/** A chat completion request as the gateway reads it (everything else is passed on). */
interface ChatRequest {
  readonly stream?: boolean;
  readonly [key: string]: unknown;
}

/** Starts the gateway; `stop()` shuts its runtime down (or closes its server, on a runtime that was passed in). */
export async function startGateway(options: GatewayOptions): Promise<{ server: HttpServer; stats: GatewayStats; stop(): Promise<void> }> {
  const rt = options.runtime ?? createRuntime({ io: 'node', http: { connections: 1024, keepAliveTimeoutMs: 30_000 } });
  const target = `${options.upstream}/v1/chat/completions`;
  const timeoutMs = options.upstreamTimeoutMs ?? 30_000;
  const maxBodyBytes = options.maxUpstreamBytes ?? 1024 * 1024;
  const threshold = options.sseThresholdBytes ?? 16 * 1024;
  const stats: GatewayStats = { health: 0, forwarded: 0, streams: 0, upstreamErrors: 0, relayedEvents: 0 };

  /** 502 or 504 for an upstream failure, with the cause on the request's span. */
  const upstreamFailure = (err: unknown, req: HttpRequest): never => {
    if (req.signal.aborted) throw err; // the client left: nobody to answer
    stats.upstreamErrors++;
    const span = currentSpan();
    span?.recordException(err);
    const timedOut = err instanceof TimeoutError;
    const kind = timedOut ? 'timeout' : err instanceof HttpClientError ? err.kind : 'error';
    span?.setAttribute('gateway.upstream.error', kind);
    throw new HttpError(timedOut ? 504 : 502, timedOut ? 'upstream timed out' : `upstream failed: ${kind}`, { cause: err });
  };

  const chat = async (req: HttpRequest) => {
    if (req.method !== 'POST') throw new HttpError(405, 'use POST');
    const body = (await req.json()) as ChatRequest;
    if (typeof body !== 'object' || body === null) throw new HttpError(400, 'expected a JSON object');
    const res = await request(target, { json: body, timeoutMs, maxBodyBytes, signal: req.signal }).catch((err: unknown) => upstreamFailure(err, req));
    if (body.stream !== true || res.status !== 200) {
      const answer = await res.bytes().catch((err: unknown) => upstreamFailure(err, req));
      stats.forwarded++;
      return { status: res.status, headers: { 'content-type': String(res.headers['content-type'] ?? 'application/json') }, body: answer };
    }
    stats.streams++;
    return sse(async function* (signal) {
      // One upstream event is read only when the client's socket has room for it.
      for await (const e of events(res, { signal, timeoutMs })) {
        stats.relayedEvents++;
        yield e.event === 'message' ? { id: e.id, data: e.data } : { event: e.event, id: e.id, data: e.data };
      }
    }, { heartbeatMs: 15_000, highWaterMark: threshold });
  };

  const server = await rt.run(() =>
    serve((req) => {
      if (req.path === '/health') {
        stats.health++;
        return { body: 'ok' };
      }
      if (req.path === '/v1/chat/completions') return chat(req);
      return { status: 404, body: 'not found' };
    }, { port: options.port ?? 0 }),
  );
  return { server, stats, stop: async () => (options.runtime === undefined ? rt.shutdown() : server.close()) };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rt = createRuntime({ io: 'node', http: { connections: 1024, keepAliveTimeoutMs: 30_000 } });
  let upstream = process.env.UPSTREAM;
  if (upstream === undefined) {
    const stub = await startUpstream({
      runtime: rt,
      delayMs: Number(process.env.UPSTREAM_DELAY_MS ?? 50),
      tokens: Number(process.env.UPSTREAM_TOKENS ?? 20),
      tokenDelayMs: Number(process.env.UPSTREAM_TOKEN_DELAY_MS ?? 10),
    });
    upstream = stub.url;
  }
  const { server } = await startGateway({ runtime: rt, upstream, port: Number(process.env.PORT ?? 8080) });
  rt.onSignal(['SIGINT', 'SIGTERM'], 'shutdown', { timeoutMs: 10_000 });
  console.log(`gateway on http://127.0.0.1:${server.port} -> ${upstream}; Ctrl-C to stop`);
}
