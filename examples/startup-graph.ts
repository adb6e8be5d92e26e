/**
 * A service startup graph: services start in parallel as soon as their dependencies are
 * up, each under a timeout with a fallback, with progress printed as it happens; once the
 * app is ready, slow warm-up work goes on in the background and is awaited at shutdown.
 *
 * Run: npx tsx examples/startup-graph.ts
 */
import { Runtime, TimeoutError, now, sleep, timeout, type Task } from '../src/index.js';

interface Service {
  /** Services that must be up first. */
  readonly needs: readonly string[];
  /** How long the (simulated) start takes, in ms. */
  readonly startMs: number;
  /** Give up after this long and use the fallback. */
  readonly timeoutMs: number;
  /** What to use when the start times out. */
  readonly fallback: string;
}

const services: Record<string, Service> = {
  config: { needs: [], startMs: 10, timeoutMs: 100, fallback: 'defaults' },
  database: { needs: ['config'], startMs: 40, timeoutMs: 200, fallback: 'read-only replica' },
  cache: { needs: ['config'], startMs: 500, timeoutMs: 60, fallback: 'no cache (direct reads)' },
  search: { needs: ['database'], startMs: 30, timeoutMs: 200, fallback: 'disabled' },
  http: { needs: ['database', 'cache'], startMs: 15, timeoutMs: 100, fallback: 'maintenance page' },
};

/** Starts every service in dependency order; returns what each one ended up as. */
export async function startAll(rt: Runtime, log: (line: string) => void): Promise<Record<string, string>> {
  const t0 = now(); // the runtime's clock: real time here, virtual time in the tests
  const at = (): string => `${String(Math.round(now() - t0)).padStart(4)} ms`;
  return rt.scope(async (s) => {
    const started = new Map<string, Task<string>>();
    const start = (name: string): Task<string> => {
      let task = started.get(name);
      if (task !== undefined) return task;
      const service = services[name]!;
      task = s.spawn(async () => {
        await Promise.all(service.needs.map(start)); // wait for dependencies, started in parallel
        log(`${at()}  starting ${name}`);
        try {
          const state = await timeout(service.timeoutMs, async ({ signal }) => {
            await sleep(service.startMs, { signal }); // stands in for real start-up work
            return 'up';
          });
          log(`${at()}  ${name} is ${state}`);
          return state;
        } catch (err) {
          if (!(err instanceof TimeoutError)) throw err;
          log(`${at()}  ${name} timed out after ${service.timeoutMs} ms -> ${service.fallback}`);
          return service.fallback;
        }
      }, { name });
      started.set(name, task);
      return task;
    };
    const names = Object.keys(services);
    const states = await Promise.all(names.map(start));
    return Object.fromEntries(names.map((name, i) => [name, states[i]!]));
  });
}

export async function main(log: (line: string) => void = console.log, rt: Runtime = Runtime.builder().build()): Promise<Record<string, string>> {
  try {
    return await rt.run(async () => {
      const states = await startAll(rt, log);
      log(`app ready: ${JSON.stringify(states)}`);
      // Slow work continues in the background after the app is ready.
      const warmUp = rt.spawn(async () => {
        await sleep(50);
        log('background: cache warm-up finished');
      }, { name: 'warm-up' });
      log('serving requests while the warm-up runs');
      await warmUp;
      return states;
    });
  } finally {
    await rt.shutdown();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
