/**
 * Timers: the runtime's timer engine (one `TimerWheel` per runtime woken by one host timer,
 * the engine behind `sleep`, `timeout` and `interval`) beside Node's `setTimeout` /
 * `clearTimeout`, callback timers on both sides, one shared callback:
 * - schedule 1,000,000 timers with 5,000 distinct delays;
 * - cancel them (zokio cancels lazily: it marks the entry and drops its callback, and the
 *   entry is unlinked when its slot is next processed; when the last armed timer goes, as
 *   at the end of this case, every such entry is dropped at once, inside the timed loop;
 *   three timed rounds per sample on both sides, as for scheduling: see `timedRounds`);
 * - memory per armed timer: V8 heap *plus* ArrayBuffer memory (the wheel keeps its timers
 *   in typed arrays, which live outside the V8 heap), 1,000,000 timers armed;
 * - 1,000,000 timers spread over 0..1000 ms: time from the first schedule to the last fire;
 * and, for the tasks budget, memory per pending `sleep(ms)` promise beside a promise around
 * `setTimeout` (5,000 distinct delays, so that no two consecutive sleeps share a promise).
 *
 * Both sides keep what they schedule in an array allocated before the timed loop (a
 * Float64Array of zokio ids, a packed array of Node `Timeout` objects), so the loops time
 * the timer calls rather than the growth of the caller's array.
 *
 * Every zokio case reads the runtime clock per timer, as `sleep` does (the system clock
 * reads `performance.now()` once per synchronous run, as Node's timers use libuv's cached
 * loop time). The rate cases use one long-lived driver, as a runtime does; the memory case
 * builds a fresh one so that all of its arrays count.
 */
import { setTimeout as sleepPromise } from 'node:timers/promises';
import { systemClock } from '../src/scheduler/clock.js';
import { sleep, TimerDriver } from '../src/scheduler/time.js';
import { Runtime } from '../src/index.js';
import { collectGarbage, defineSuite, median, type BenchCase, type MeasureOptions } from './harness.js';

const N = 1_000_000;
const DISTINCT = 5_000;
const NODE = 'node:setTimeout';
const noop = (): void => {};
/**
 * Warm-up before each rate case, the same on both sides: a few rounds, so that the timed
 * loop runs settled code. With one round of 50,000, zokio's cancel rate swung between about
 * 60 M and 145 M/s from one repeat to the next.
 */
const WARMUP_TIMERS = 100_000;
const WARMUP_ROUNDS = 4;

function count(options: MeasureOptions): number {
  return options.quick ? 200_000 : N;
}

/**
 * Timed rounds per schedule and cancel measurement (their median is the case's sample), on
 * both sides. Each round collects garbage and schedules 1M timers, then cancels them all;
 * one of the two steps is timed.
 * One round alone often timed a loop that had just lost its optimized code: the forced
 * collection before it drops code that embedded objects of the warm-up (V8's
 * `--trace-deopt`: "embedded weak objects cleared"), and the loop is then re-optimized
 * on the stack while it runs. Measured in a script with this warm-up, 8 rounds in a row:
 * zokio 68 M/s in the first, 145–220 M/s in the others.
 */
function timedRounds(options: MeasureOptions): number {
  return options.quick ? 1 : 3;
}

/** Delay of timer i in the schedule and cancel cases: 5,000 distinct values, 1..5000 ms. */
function delayOf(i: number): number {
  return 1 + (i % DISTINCT);
}

/** Heap plus ArrayBuffer bytes in use (typed arrays' backing stores are outside the heap). */
function memoryInUse(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/**
 * Collects garbage, then starts the measurement on a new event-loop turn, so that neither
 * side counts its delays from a loop time (Node) or cached clock read (zokio) taken before
 * the collection.
 */
async function freshTurn(): Promise<void> {
  collectGarbage();
  await new Promise((resolve) => setImmediate(resolve));
}

// --- zokio ------------------------------------------------------------------------------

/**
 * One driver for the rate cases, living as long as the suite, as a runtime's does (a
 * fresh wheel per measurement would also measure array growth and, with the forced
 * collections between cases, V8 dropping optimized code tied to the previous wheel).
 */
let shared: TimerDriver | undefined;
function sharedDriver(): TimerDriver {
  shared ??= new TimerDriver(systemClock, 1);
  return shared;
}

function zokioSchedule(driver: TimerDriver, n: number, ids: Float64Array): number {
  const clock = driver.clock;
  const start = performance.now();
  for (let i = 0; i < n; i++) ids[i] = driver.add(clock.now() + delayOf(i), noop, false);
  return performance.now() - start;
}

function zokioCancelAll(driver: TimerDriver, ids: Float64Array): void {
  for (let i = 0; i < ids.length; i++) driver.cancel(ids[i]!);
  if (driver.wheel.size !== 0) throw new Error('zokio: timers left after cancelling all');
}

function zokioWarmup(driver: TimerDriver): void {
  const ids = new Float64Array(WARMUP_TIMERS);
  for (let round = 0; round < WARMUP_ROUNDS; round++) {
    zokioSchedule(driver, WARMUP_TIMERS, ids);
    zokioCancelAll(driver, ids);
  }
}

async function zokioScheduleRate(options: MeasureOptions): Promise<number> {
  const n = count(options);
  const driver = sharedDriver();
  zokioWarmup(driver);
  const ids = new Float64Array(n);
  const rates: number[] = [];
  for (let round = 0; round < timedRounds(options); round++) {
    await freshTurn();
    const ms = zokioSchedule(driver, n, ids);
    zokioCancelAll(driver, ids);
    rates.push(n / (ms / 1000));
  }
  return median(rates);
}

async function zokioCancelRate(options: MeasureOptions): Promise<number> {
  const n = count(options);
  const driver = sharedDriver();
  zokioWarmup(driver);
  const ids = new Float64Array(n);
  const rates: number[] = [];
  for (let round = 0; round < timedRounds(options); round++) {
    zokioSchedule(driver, n, ids);
    await freshTurn();
    const start = performance.now();
    zokioCancelAll(driver, ids);
    rates.push(n / ((performance.now() - start) / 1000));
  }
  return median(rates);
}

async function zokioMemory(options: MeasureOptions): Promise<number> {
  const n = count(options);
  const ids = new Float64Array(n); // allocated before the baseline
  collectGarbage();
  const before = memoryInUse();
  const driver = new TimerDriver(systemClock, 1); // a fresh wheel: its arrays count in full
  zokioSchedule(driver, n, ids);
  collectGarbage();
  const after = memoryInUse();
  driver.shutdown();
  return (after - before) / n;
}

function spreadDelay(i: number, n: number): number {
  return Math.floor((i * 1001) / n); // 0..1000 ms, evenly
}

async function zokioFireAll(options: MeasureOptions): Promise<number> {
  const n = count(options);
  const driver = sharedDriver();
  zokioWarmup(driver);
  await freshTurn();
  const clock = driver.clock;
  let fired = 0;
  const ms = await new Promise<number>((resolve) => {
    const start = performance.now();
    const onFire = (): void => {
      if (++fired === n) resolve(performance.now() - start);
    };
    for (let i = 0; i < n; i++) driver.add(clock.now() + spreadDelay(i, n), onFire, false);
  });
  return ms;
}

async function zokioSleepMemory(options: MeasureOptions): Promise<number> {
  const n = count(options);
  const rt = Runtime.builder().build();
  const promises: Promise<void>[] = Array.from({ length: n }, () => undefined as never);
  collectGarbage();
  const before = memoryInUse();
  await rt.run(() => {
    // Distinct consecutive deadlines: no two neighbours share a promise.
    for (let i = 0; i < n; i++) promises[i] = sleep(600_000 + delayOf(i));
  });
  collectGarbage();
  const after = memoryInUse();
  // Shutdown rejects every pending sleep with RuntimeClosedError; these were only measured.
  for (const promise of promises) promise.catch(() => undefined);
  await rt.shutdown({ timeoutMs: 0 });
  return (after - before) / n;
}

// --- node -------------------------------------------------------------------------------

/** A packed array for `n` Node timer handles, allocated before any timing starts. */
function timeoutArray(n: number): NodeJS.Timeout[] {
  return Array.from({ length: n }, () => undefined as never);
}

function nodeSchedule(n: number, handles: NodeJS.Timeout[]): number {
  const start = performance.now();
  for (let i = 0; i < n; i++) handles[i] = setTimeout(noop, delayOf(i));
  return performance.now() - start;
}

/** The timed cancel loop of the node side (the warm-up runs this very function, as zokio's does `zokioCancelAll`). */
function nodeCancelAll(handles: NodeJS.Timeout[], n: number): void {
  for (let i = 0; i < n; i++) clearTimeout(handles[i]);
}

function nodeWarmup(): void {
  const handles = timeoutArray(WARMUP_TIMERS);
  for (let round = 0; round < WARMUP_ROUNDS; round++) {
    nodeSchedule(WARMUP_TIMERS, handles);
    nodeCancelAll(handles, WARMUP_TIMERS);
  }
}

async function nodeScheduleRate(options: MeasureOptions): Promise<number> {
  const n = count(options);
  nodeWarmup();
  const rates: number[] = [];
  for (let round = 0; round < timedRounds(options); round++) {
    // A fresh array each round, as in the first: one still holding the last round's
    // (cleared) Timeouts, now in old space, makes every store of a new one an old-to-new
    // pointer, which slowed node's later rounds.
    const handles = timeoutArray(n);
    await freshTurn();
    const ms = nodeSchedule(n, handles);
    nodeCancelAll(handles, n);
    rates.push(n / (ms / 1000));
  }
  return median(rates);
}

async function nodeCancelRate(options: MeasureOptions): Promise<number> {
  const n = count(options);
  nodeWarmup();
  const handles = timeoutArray(n);
  const rates: number[] = [];
  for (let round = 0; round < timedRounds(options); round++) {
    nodeSchedule(n, handles);
    await freshTurn();
    const start = performance.now();
    nodeCancelAll(handles, n);
    rates.push(n / ((performance.now() - start) / 1000));
  }
  return median(rates);
}

async function nodeMemory(options: MeasureOptions): Promise<number> {
  const n = count(options);
  const handles = timeoutArray(n); // before the baseline
  collectGarbage();
  const before = memoryInUse();
  nodeSchedule(n, handles);
  collectGarbage();
  const after = memoryInUse();
  for (const h of handles) clearTimeout(h);
  return (after - before) / n;
}

async function nodeFireAll(options: MeasureOptions): Promise<number> {
  const n = count(options);
  nodeWarmup();
  await freshTurn();
  let fired = 0;
  return new Promise<number>((resolve) => {
    const start = performance.now();
    const onFire = (): void => {
      if (++fired === n) resolve(performance.now() - start);
    };
    for (let i = 0; i < n; i++) setTimeout(onFire, spreadDelay(i, n));
  });
}

async function nodeSleepMemory(options: MeasureOptions): Promise<number> {
  const n = count(options);
  const handles = timeoutArray(n);
  const promises: Promise<void>[] = Array.from({ length: n }, () => undefined as never);
  collectGarbage();
  const before = memoryInUse();
  for (let i = 0; i < n; i++) promises[i] = new Promise<void>((resolve) => (handles[i] = setTimeout(resolve, 600_000 + delayOf(i))));
  collectGarbage();
  const after = memoryInUse();
  for (const h of handles) clearTimeout(h);
  return (after - before) / n;
}

/** 1,000,000 `sleep(ms)` promises spread over 0..1000 ms: ms from the first call to the last settle. */
async function zokioSleepFireAll(options: MeasureOptions): Promise<number> {
  const n = count(options);
  const rt = Runtime.builder().build();
  try {
    await freshTurn();
    return await rt.run(
      () =>
        new Promise<number>((resolve) => {
          let fired = 0;
          const onFire = (): void => {
            if (++fired === n) resolve(performance.now() - start);
          };
          const start = performance.now();
          for (let i = 0; i < n; i++) void sleep(spreadDelay(i, n)).then(onFire);
        }),
    );
  } finally {
    await rt.shutdown();
  }
}

/** The same with `node:timers/promises` `setTimeout`. */
async function nodeSleepFireAll(options: MeasureOptions): Promise<number> {
  const n = count(options);
  await freshTurn();
  return new Promise<number>((resolve) => {
    let fired = 0;
    const onFire = (): void => {
      if (++fired === n) resolve(performance.now() - start);
    };
    const start = performance.now();
    for (let i = 0; i < n; i++) void sleepPromise(spreadDelay(i, n)).then(onFire);
  });
}

// ----------------------------------------------------------------------------------------

const SCHEDULE = 'schedule 1M timers, 5,000 distinct delays';
const CANCEL = 'cancel 1M armed timers';
const MEMORY = 'memory per armed timer (heap + ArrayBuffers)';
const FIRE = '1M timers over 0..1000 ms, start to last fire';
const SLEEP_MEMORY = 'memory per pending sleep promise, distinct deadlines';
const SLEEP_FIRE = '1M sleep() promises over 0..1000 ms, start to last settle';

function timerCase(group: string, subject: string, unit: string, better: 'higher' | 'lower', measure: (o: MeasureOptions) => Promise<number>): BenchCase {
  return { group, subject, unit, better, measure };
}

const node = (peers: Readonly<Record<string, number>>): number => peers[NODE] ?? NaN;

export default defineSuite({
  name: 'timers',
  title: "timer wheel vs Node's setTimeout/clearTimeout (callback timers)",
  cases: [
    timerCase(SCHEDULE, 'zokio', 'timers/s', 'higher', zokioScheduleRate),
    timerCase(SCHEDULE, NODE, 'timers/s', 'higher', nodeScheduleRate),
    timerCase(CANCEL, 'zokio', 'timers/s', 'higher', zokioCancelRate),
    timerCase(CANCEL, NODE, 'timers/s', 'higher', nodeCancelRate),
    timerCase(MEMORY, 'zokio', 'B/timer', 'lower', zokioMemory),
    timerCase(MEMORY, NODE, 'B/timer', 'lower', nodeMemory),
    timerCase(FIRE, 'zokio', 'ms', 'lower', zokioFireAll),
    timerCase(FIRE, NODE, 'ms', 'lower', nodeFireAll),
    timerCase(SLEEP_FIRE, 'zokio', 'ms', 'lower', zokioSleepFireAll),
    timerCase(SLEEP_FIRE, 'node:timers/promises', 'ms', 'lower', nodeSleepFireAll),
    timerCase(SLEEP_MEMORY, 'zokio', 'B/sleep', 'lower', zokioSleepMemory),
    timerCase(SLEEP_MEMORY, 'node:new Promise+setTimeout', 'B/sleep', 'lower', nodeSleepMemory),
  ],
  teardown: async () => {
    shared?.shutdown();
    shared = undefined;
  },
  targets: [
    { group: SCHEDULE, text: ">= 5× Node's setTimeout rate", check: (z, peers) => z >= 5 * node(peers) },
    { group: CANCEL, text: ">= 5× Node's clearTimeout rate", check: (z, peers) => z >= 5 * node(peers) },
    { group: MEMORY, text: '<= 48 B per armed timer', check: (z) => z <= 48 },
    { group: FIRE, text: '<= 1,050 ms from start to the last fire', check: (z) => z <= 1050 },
    { group: SLEEP_FIRE, text: 'all settled >= 1.5× sooner than node:timers/promises', check: (z, peers) => 1.5 * z <= peers['node:timers/promises']! },
  ],
});
