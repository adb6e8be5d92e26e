/**
 * The work-stealing pool beside piscina and poolifier: 2 threads each, a task returning
 * x + 1, 100,000 tasks with one promise each (`rt.exec`), and the same inputs through
 * `rt.map` (batched). Throughput in tasks/s.
 *
 * Large payloads: `exec` with a 1 MiB ArrayBuffer argument, copied and transferred
 * (`{ transfer: [buffer] }`), beside piscina without and with `transferList` (a fresh
 * buffer per call in every case, 8 calls in flight, 128 calls a round); and 64 concurrent
 * execs of 1 MiB each under the default memory strategy (every one must succeed; the
 * shared arena overflows into buffers of their own).
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { FixedThreadPool } from 'poolifier';
import { Runtime } from '../src/index.js';
import { defineSuite, teardownStep, type MeasureOptions } from './harness.js';
import { tasks } from './fixtures/scheduler-tasks.js';
import { bytes } from './fixtures/bytes-tasks.js';

const N = 100_000;
/** Tasks per run in the quick smoke run (the peers take seconds per 100,000). */
const N_QUICK = 20_000;
const THREADS = 2;
const inputs = Array.from({ length: N }, (_, i) => i);
const quickInputs = inputs.slice(0, N_QUICK);

function tasksPerRun(options: MeasureOptions): number {
  return options.quick ? N_QUICK : N;
}

let rt: ReturnType<typeof makeRuntime> | undefined;
let piscina: Piscina | undefined;
let poolifier: FixedThreadPool<number, number> | undefined;
let piscinaBytes: Piscina | undefined;

const MIB = 1 << 20;
const BIG_CALLS = 128;
const IN_FLIGHT = 8;

/** Calls per second of `BIG_CALLS` calls with a fresh 1 MiB buffer each, `IN_FLIGHT` at a time. */
async function bigRate(call: (buffer: ArrayBuffer) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  for (let done = 0; done < BIG_CALLS; done += IN_FLIGHT) {
    const out = await Promise.all(Array.from({ length: IN_FLIGHT }, () => call(new ArrayBuffer(MIB))));
    if (out[IN_FLIGHT - 1] !== MIB) throw new Error(`wrong result: ${String(out[IN_FLIGHT - 1])}`);
  }
  return BIG_CALLS / ((performance.now() - t0) / 1000);
}

/** 64 concurrent execs of 1 MiB each under the default strategy: all must succeed. Calls/s. */
async function burst64(): Promise<number> {
  const arg = new Uint8Array(MIB).fill(1);
  const t0 = performance.now();
  const out = await Promise.all(Array.from({ length: 64 }, () => rt!.exec(bytes.byteLength, arg)));
  if (out.some((n) => n !== MIB)) throw new Error('a 1 MiB exec failed');
  return 64 / ((performance.now() - t0) / 1000);
}

function makeRuntime() {
  return Runtime.builder().workers(THREADS).build();
}

/** Tasks per second of one run of `round` over `n` tasks. */
async function rate(n: number, round: (n: number) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await round(n);
  return n / ((performance.now() - t0) / 1000);
}

async function each<T>(n: number, run: (x: number) => Promise<T>): Promise<T[]> {
  const ps = new Array<Promise<T>>(n);
  for (let i = 0; i < n; i++) ps[i] = run(i);
  return Promise.all(ps);
}

function check(out: unknown[]): void {
  const n = out.length;
  if (out[n - 1] !== n) throw new Error(`wrong result: ${String(out[n - 1])}`);
}

export default defineSuite({
  name: 'scheduler',
  title: 'work-stealing pool vs piscina and poolifier (2 threads, 100,000 tasks of x + 1)',
  async setup() {
    rt = makeRuntime();
    piscina = new Piscina({ filename: fileURLToPath(new URL('./fixtures/inc-piscina.mjs', import.meta.url)), minThreads: THREADS, maxThreads: THREADS });
    poolifier = new FixedThreadPool<number, number>(THREADS, fileURLToPath(new URL('./fixtures/inc-poolifier.mjs', import.meta.url)));
    piscinaBytes = new Piscina({ filename: fileURLToPath(new URL('./fixtures/bytes-piscina.mjs', import.meta.url)), minThreads: THREADS, maxThreads: THREADS });
    await bigRate((b) => rt!.exec(bytes.byteLength, b));
    await bigRate((b) => rt!.exec({ transfer: [b] }, bytes.byteLength, b));
    await bigRate((b) => piscinaBytes!.run(b) as Promise<number>);
    await burst64();
    // Warm up every pool (threads booted, code hot).
    for (let k = 0; k < 2; k++) {
      check(await each(N_QUICK, (x) => rt!.exec(tasks.inc, x)));
      check(await rt.map(tasks.inc, quickInputs));
      check(await each(N_QUICK, (x) => piscina!.run(x) as Promise<number>));
      check(await each(N_QUICK, (x) => poolifier!.execute(x)));
    }
  },
  async teardown() {
    // One step at a time, each named on stderr: a step that never settles is named in the log.
    // The peers' own teardowns are bounded: poolifier's destroy() once never settled in a
    // CI smoke run (after every case had run), which failed the run.
    await teardownStep('zokio shutdown', () => rt?.shutdown());
    await teardownStep('piscina destroy', () => piscina?.destroy(), 30_000);
    await teardownStep('poolifier destroy', () => poolifier?.destroy(), 30_000);
    await teardownStep('piscina (bytes) destroy', () => piscinaBytes?.destroy(), 30_000);
  },
  cases: [
    { group: 'exec: one promise per task', subject: 'zokio', unit: 'tasks/s', better: 'higher', measure: (o) => rate(tasksPerRun(o), async (n) => check(await each(n, (x) => rt!.exec(tasks.inc, x)))) },
    { group: 'exec: one promise per task', subject: 'piscina', unit: 'tasks/s', better: 'higher', measure: (o) => rate(tasksPerRun(o), async (n) => check(await each(n, (x) => piscina!.run(x) as Promise<number>))) },
    { group: 'exec: one promise per task', subject: 'poolifier', unit: 'tasks/s', better: 'higher', measure: (o) => rate(tasksPerRun(o), async (n) => check(await each(n, (x) => poolifier!.execute(x)))) },
    { group: 'map: rt.map vs one promise per task', subject: 'zokio', unit: 'tasks/s', better: 'higher', measure: (o) => rate(tasksPerRun(o), async (n) => check(await rt!.map(tasks.inc, n === N ? inputs : quickInputs))) },
    { group: 'map: rt.map vs one promise per task', subject: 'piscina', unit: 'tasks/s', better: 'higher', measure: (o) => rate(tasksPerRun(o), async (n) => check(await each(n, (x) => piscina!.run(x) as Promise<number>))) },
    { group: 'map: rt.map vs one promise per task', subject: 'poolifier', unit: 'tasks/s', better: 'higher', measure: (o) => rate(tasksPerRun(o), async (n) => check(await each(n, (x) => poolifier!.execute(x)))) },
    { group: 'exec: 1 MiB argument', subject: 'zokio (copied)', unit: 'calls/s', better: 'higher', measure: () => bigRate((b) => rt!.exec(bytes.byteLength, b)) },
    { group: 'exec: 1 MiB argument', subject: 'zokio (transferred)', unit: 'calls/s', better: 'higher', measure: () => bigRate((b) => rt!.exec({ transfer: [b] }, bytes.byteLength, b)) },
    { group: 'exec: 1 MiB argument', subject: 'piscina', unit: 'calls/s', better: 'higher', measure: () => bigRate((b) => piscinaBytes!.run(b) as Promise<number>) },
    { group: 'exec: 1 MiB argument', subject: 'piscina (transferList)', unit: 'calls/s', better: 'higher', measure: () => bigRate((b) => piscinaBytes!.run(b, { transferList: [b] }) as Promise<number>) },
    { group: 'exec: 64 concurrent 1 MiB arguments, default strategy', subject: 'zokio', unit: 'calls/s', better: 'higher', measure: () => burst64() },
  ],
  targets: [
    { group: 'exec: one promise per task', text: 'rt.exec >= 10× piscina', check: (z, p) => z >= 10 * (p.piscina ?? Infinity) },
    { group: 'map: rt.map vs one promise per task', text: 'rt.map >= 40× piscina', check: (z, p) => z >= 40 * (p.piscina ?? Infinity) },
  ],
});
