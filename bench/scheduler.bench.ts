/**
 * The work-stealing pool beside piscina and poolifier: 2 threads each, a task returning
 * x + 1, 100,000 tasks with one promise each (`rt.exec`), and the same inputs through
 * `rt.map` (batched). Throughput in tasks/s.
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { FixedThreadPool } from 'poolifier';
import { Runtime } from '../src/index.js';
import { defineSuite, type MeasureOptions } from './harness.js';
import { tasks } from './fixtures/scheduler-tasks.js';

const N = 100_000;
const THREADS = 2;
const inputs = Array.from({ length: N }, (_, i) => i);

let rt: ReturnType<typeof makeRuntime> | undefined;
let piscina: Piscina | undefined;
let poolifier: FixedThreadPool<number, number> | undefined;

function makeRuntime() {
  return Runtime.builder().workers(THREADS).build();
}

/** Tasks per second of one run of `round` over N tasks. */
async function rate(round: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await round();
  return N / ((performance.now() - t0) / 1000);
}

async function each<T>(run: (x: number) => Promise<T>): Promise<T[]> {
  const ps = new Array<Promise<T>>(N);
  for (let i = 0; i < N; i++) ps[i] = run(i);
  return Promise.all(ps);
}

function check(out: unknown[]): void {
  if (out[N - 1] !== N) throw new Error(`wrong result: ${String(out[N - 1])}`);
}

export default defineSuite({
  name: 'scheduler',
  title: 'work-stealing pool vs piscina and poolifier (2 threads, 100,000 tasks of x + 1)',
  async setup() {
    rt = makeRuntime();
    piscina = new Piscina({ filename: fileURLToPath(new URL('./fixtures/inc-piscina.mjs', import.meta.url)), minThreads: THREADS, maxThreads: THREADS });
    poolifier = new FixedThreadPool<number, number>(THREADS, fileURLToPath(new URL('./fixtures/inc-poolifier.mjs', import.meta.url)));
    // Warm up every pool (threads booted, code hot).
    for (let k = 0; k < 2; k++) {
      check(await each((x) => rt!.exec(tasks.inc, x)));
      check(await rt.map(tasks.inc, inputs));
      check(await each((x) => piscina!.run(x) as Promise<number>));
      check(await each((x) => poolifier!.execute(x)));
    }
  },
  async teardown() {
    await rt?.shutdown();
    await piscina?.destroy();
    await poolifier?.destroy();
  },
  cases: [
    { group: 'exec: one promise per task', subject: 'zokio', unit: 'tasks/s', better: 'higher', measure: (_o: MeasureOptions) => rate(async () => check(await each((x) => rt!.exec(tasks.inc, x)))) },
    { group: 'exec: one promise per task', subject: 'piscina', unit: 'tasks/s', better: 'higher', measure: () => rate(async () => check(await each((x) => piscina!.run(x) as Promise<number>))) },
    { group: 'exec: one promise per task', subject: 'poolifier', unit: 'tasks/s', better: 'higher', measure: () => rate(async () => check(await each((x) => poolifier!.execute(x)))) },
    { group: 'map: rt.map vs one promise per task', subject: 'zokio', unit: 'tasks/s', better: 'higher', measure: () => rate(async () => check(await rt!.map(tasks.inc, inputs))) },
    { group: 'map: rt.map vs one promise per task', subject: 'piscina', unit: 'tasks/s', better: 'higher', measure: () => rate(async () => check(await each((x) => piscina!.run(x) as Promise<number>))) },
    { group: 'map: rt.map vs one promise per task', subject: 'poolifier', unit: 'tasks/s', better: 'higher', measure: () => rate(async () => check(await each((x) => poolifier!.execute(x)))) },
  ],
  targets: [
    { group: 'exec: one promise per task', text: 'rt.exec >= 10× piscina', check: (z, p) => z >= 10 * (p.piscina ?? Infinity) },
    { group: 'map: rt.map vs one promise per task', text: 'rt.map >= 40× piscina', check: (z, p) => z >= 40 * (p.piscina ?? Infinity) },
  ],
});
