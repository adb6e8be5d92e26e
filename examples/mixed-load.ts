/**
 * Mixed load: `/health` stays fast while `/cpu` runs a 2 ms computation on the
 * work-stealing pool instead of the event loop. `npx tsx examples/mixed-load.ts`, then
 * e.g. `npx autocannon -c 50 http://127.0.0.1:8080/cpu` alongside
 * `npx autocannon http://127.0.0.1:8080/health`.
 *
 * The task module is this file: workers import it to find `tasks.spin`, so the server
 * starts only when the file is run directly.
 */
import { pathToFileURL } from 'node:url';
import { Runtime } from '../src/index.js';
import { defineTasks } from '../src/scheduler/task-registry.js';
import { json, serve, type HttpServer } from '../src/io/http/index.js';

/** Worker tasks of this example. */
export const tasks = defineTasks(import.meta.url, {
  /** Burns `ms` milliseconds of CPU and returns how many loop turns that took. */
  spin(ms: number): number {
    const end = performance.now() + ms;
    let turns = 0;
    while (performance.now() < end) turns++;
    return turns;
  },
});

/** Options of {@link startMixedLoad}. */
export interface MixedLoadOptions {
  readonly port?: number;
  /** Worker threads of the pool. @default 2 */
  readonly workers?: number;
  /** CPU time per /cpu request in ms. @default 2 */
  readonly cpuMs?: number;
}

/** Starts the server on a new multi-thread runtime; `stop()` shuts both down. */
export async function startMixedLoad(options: MixedLoadOptions = {}): Promise<{ server: HttpServer; stop(): Promise<void> }> {
  const rt = Runtime.builder().workers(options.workers ?? 2).io('node').build();
  const cpuMs = options.cpuMs ?? 2;
  const server = await rt.run(() =>
    serve(async (req) => {
      if (req.path === '/health') return { status: 200, body: 'ok' };
      if (req.path === '/cpu') return json({ turns: await rt.exec(tasks.spin, cpuMs) });
      return { status: 404, body: 'not found' };
    }, { host: '127.0.0.1', port: options.port ?? 8080 }),
  );
  rt.onSignal(['SIGINT', 'SIGTERM'], 'shutdown');
  return { server, stop: () => rt.shutdown() };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { server } = await startMixedLoad({ port: Number(process.env.PORT ?? 8080) });
  console.log(`mixed load demo on ${server.url} (/health, /cpu); Ctrl-C to stop`);
}
