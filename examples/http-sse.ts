/**
 * Server-sent events with heartbeats: `npx tsx examples/http-sse.ts`, then open
 * http://127.0.0.1:8080/ (or `curl -N http://127.0.0.1:8080/events`).
 *
 * /events streams a `tick` event every `tickMs` and a heartbeat comment every
 * `heartbeatMs`; a slow client is not buffered for (the ticker just waits), and Ctrl-C
 * shuts down gracefully, ending open streams.
 */
import { pathToFileURL } from 'node:url';
import { createRuntime, sleep, type Runtime } from '../src/index.js';
import { serve, sse, type HttpServer } from '../src/io/http/index.js';

const PAGE = `<!doctype html><title>zokio sse</title><pre id=log></pre>
<script>const es = new EventSource('/events');
es.addEventListener('tick', (e) => { document.getElementById('log').textContent += e.data + '\\n'; });</script>`;

/** Options of {@link startSseDemo}. */
export interface SseDemoOptions {
  readonly port?: number;
  readonly tickMs?: number;
  readonly heartbeatMs?: number;
  /**
   * The runtime to serve on (shut down by `stop()`); a new one on the `node` backend when
   * omitted. Tests pass one built with `.io('memory')` and a `VirtualClock`.
   */
  readonly runtime?: Runtime;
}

/** Starts the demo server on a new runtime; `stop()` shuts both down. */
export async function startSseDemo(options: SseDemoOptions = {}): Promise<{ server: HttpServer; stop(): Promise<void> }> {
  const rt = options.runtime ?? createRuntime({ io: 'node' });
  const tickMs = options.tickMs ?? 1000;
  const server = await rt.run(() =>
    serve((req) => {
      if (req.path === '/') return { headers: { 'content-type': 'text/html; charset=utf-8' }, body: PAGE };
      if (req.path !== '/events') return { status: 404, body: 'not found' };
      return sse(async function* (signal) {
        for (let n = 1; ; n++) {
          yield { event: 'tick', id: n, data: { n, at: new Date().toISOString() } };
          await sleep(tickMs, { signal });
        }
      }, { heartbeatMs: options.heartbeatMs ?? 15_000 });
    }, { host: '127.0.0.1', port: options.port ?? 8080 }),
  );
  rt.onSignal(['SIGINT', 'SIGTERM'], 'shutdown');
  return { server, stop: () => rt.shutdown() };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { server } = await startSseDemo({ port: Number(process.env.PORT ?? 8080), heartbeatMs: 5000 });
  console.log(`SSE demo on ${server.url}/ (events at ${server.url}/events); Ctrl-C to stop`);
}
