/**
 * Local tasks: spawn+join throughput, and heap bytes per task with 1,000,000 tasks
 * concurrently awaiting a sleep — beside Effect (`Effect.forkChild` + `Fiber.join`,
 * `Effect.sleep`) and plain async functions (with `setTimeout` for the sleep).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Effect, Fiber } from 'effect';
import { Runtime, sleep, type Task } from '../src/index.js';
import { defineSuite, heapBytesPerItem, throughput, type MeasureOptions } from './harness.js';

const BATCH = 1000;

async function zokioSpawnJoin(options: MeasureOptions): Promise<number> {
  const rt = Runtime.builder().build();
  try {
    return await rt.run(() =>
      throughput(async () => {
        const tasks: Task<number>[] = new Array(BATCH);
        for (let i = 0; i < BATCH; i++) tasks[i] = rt.spawn(async () => i);
        for (let i = 0; i < BATCH; i++) await tasks[i];
      }, BATCH, options),
    );
  } finally {
    await rt.shutdown();
  }
}

function plainSpawnJoin(options: MeasureOptions): Promise<number> {
  return throughput(async () => {
    const tasks: Promise<number>[] = new Array(BATCH);
    for (let i = 0; i < BATCH; i++) tasks[i] = (async () => i)();
    for (let i = 0; i < BATCH; i++) await tasks[i];
  }, BATCH, options);
}

/**
 * Not a peer: runs a plain-async-function case inside one AsyncLocalStorage, as every zokio
 * task runs inside the runtime's. On Node 20 entering one installs async hooks for the whole
 * process; this shows, in the same run, what they alone cost plain async functions. The
 * storage is disabled afterwards, so that the hooks do not outlive the case.
 */
async function withOneStorage(measure: (options: MeasureOptions) => Promise<number>, options: MeasureOptions): Promise<number> {
  const storage = new AsyncLocalStorage<object>();
  try {
    return await storage.run({}, () => measure(options));
  } finally {
    storage.disable();
  }
}
const ALS_REFERENCE = 'one AsyncLocalStorage entered (reference)';

const effectBatch = Effect.gen(function* () {
  const fibers: Fiber.Fiber<number>[] = new Array(BATCH);
  for (let i = 0; i < BATCH; i++) fibers[i] = yield* Effect.forkChild(Effect.succeed(i));
  for (let i = 0; i < BATCH; i++) yield* Fiber.join(fibers[i]!);
});

function effectSpawnJoin(options: MeasureOptions): Promise<number> {
  return throughput(() => Effect.runPromise(effectBatch), BATCH, options);
}

const SLEEPERS = 1_000_000;
const LONG_MS = 600_000;

function sleepers(options: MeasureOptions): number {
  return options.quick ? 200_000 : SLEEPERS;
}

async function zokioHeap(options: MeasureOptions): Promise<number> {
  return heapBytesPerItem(sleepers(options), async (count) => {
    const rt = Runtime.builder().build();
    const tasks: Task<void>[] = new Array(count);
    await rt.run(async () => {
      for (let i = 0; i < count; i++) tasks[i] = rt.spawn(() => sleep(LONG_MS));
    });
    await new Promise((resolve) => setImmediate(resolve)); // every task has started and sleeps
    return async () => {
      await rt.shutdown({ timeoutMs: 0 });
      tasks.length = 0;
    };
  });
}

async function plainHeap(options: MeasureOptions): Promise<number> {
  return heapBytesPerItem(sleepers(options), async (count) => {
    const timers: NodeJS.Timeout[] = new Array(count);
    const tasks: Promise<void>[] = new Array(count);
    for (let i = 0; i < count; i++) {
      tasks[i] = (async () => {
        await new Promise<void>((resolve) => (timers[i] = setTimeout(resolve, LONG_MS)));
      })();
    }
    await new Promise((resolve) => setImmediate(resolve));
    return async () => {
      for (const t of timers) clearTimeout(t);
      tasks.length = 0;
    };
  });
}

async function effectHeap(options: MeasureOptions): Promise<number> {
  return heapBytesPerItem(sleepers(options), async (count) => {
    let started = 0;
    const child = Effect.sync(() => void started++).pipe(Effect.andThen(Effect.sleep(LONG_MS)));
    const root = Effect.runFork(
      Effect.gen(function* () {
        for (let i = 0; i < count; i++) yield* Effect.forkChild(child);
        yield* Effect.never;
      }),
    );
    // Effect's scheduler starts forked fibers in batches across macrotask turns.
    while (started < count) await new Promise((resolve) => setImmediate(resolve));
    return async () => {
      await Effect.runPromise(Fiber.interrupt(root));
    };
  });
}

export default defineSuite({
  name: 'tasks',
  title: 'local tasks: spawn+join throughput and heap per sleeping task',
  cases: [
    { group: 'spawn+join (batches of 1000)', subject: 'zokio', unit: 'tasks/s', better: 'higher', measure: zokioSpawnJoin },
    { group: 'spawn+join (batches of 1000)', subject: 'effect', unit: 'tasks/s', better: 'higher', measure: effectSpawnJoin },
    { group: 'spawn+join (batches of 1000)', subject: 'async fn', unit: 'tasks/s', better: 'higher', measure: plainSpawnJoin },
    { group: 'spawn+join (batches of 1000)', subject: `async fn, ${ALS_REFERENCE}`, unit: 'tasks/s', better: 'higher', measure: (o) => withOneStorage(plainSpawnJoin, o) },
    { group: 'heap per task awaiting sleep', subject: 'zokio', unit: 'B/task', better: 'lower', measure: zokioHeap },
    { group: 'heap per task awaiting sleep', subject: 'effect', unit: 'B/task', better: 'lower', measure: effectHeap },
    { group: 'heap per task awaiting sleep', subject: 'async fn + setTimeout', unit: 'B/task', better: 'lower', measure: plainHeap },
    { group: 'heap per task awaiting sleep', subject: `async fn + setTimeout, ${ALS_REFERENCE}`, unit: 'B/task', better: 'lower', measure: (o) => withOneStorage(plainHeap, o) },
  ],
  targets: [
    { group: 'spawn+join (batches of 1000)', text: '>= 3,000,000 tasks/s', check: (z) => z >= 3_000_000 },
    { group: 'heap per task awaiting sleep', text: '<= 300 B per task', check: (z) => z <= 300 },
  ],
});
