/**
 * Local tasks: spawn+join throughput, and heap bytes per task with 1,000,000 tasks
 * concurrently awaiting a sleep — beside Effect (`Effect.forkChild` + `Fiber.join`,
 * `Effect.sleep`) and plain async functions (with `setTimeout` for the sleep); and joining a
 * batch through a JoinSet beside `Promise.all` over the same tasks.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Deferred, Effect, Fiber } from 'effect';
import { JoinSet, Runtime, sleep, type Task } from '../src/index.js';
import { defineSuite, heapBytesPerItem, throughput, type MeasureOptions } from './harness.js';

const BATCH = 1000;

async function zokioSpawnJoin(options: MeasureOptions, body: (i: number) => () => number | Promise<number>): Promise<number> {
  const rt = Runtime.builder().build();
  try {
    return await rt.run(() =>
      throughput(async () => {
        const tasks: Task<number>[] = new Array(BATCH);
        for (let i = 0; i < BATCH; i++) tasks[i] = rt.spawn(body(i));
        for (let i = 0; i < BATCH; i++) await tasks[i];
      }, BATCH, options),
    );
  } finally {
    await rt.shutdown();
  }
}
/** The body of the main spawn+join case: an async function, as a plain async caller would write. */
const asyncBody = (i: number) => async (): Promise<number> => i;
/** A body that returns its value: the closer match of Effect's `Effect.succeed(i)`. */
const syncBody = (i: number) => (): number => i;

function plainSpawnJoin(options: MeasureOptions): Promise<number> {
  return throughput(async () => {
    const tasks: Promise<number>[] = new Array(BATCH);
    for (let i = 0; i < BATCH; i++) tasks[i] = (async () => i)();
    for (let i = 0; i < BATCH; i++) await tasks[i];
  }, BATCH, options);
}

/** A resolved promise to start on, as zokio's tasks do. */
const STARTED = Promise.resolve();

/** The bare life of a task: start on a microtask, then wait for the body's promise. */
async function bareTask(body: () => Promise<number>): Promise<number> {
  await STARTED;
  return await body();
}

/**
 * Not a peer: the floor under a zokio task's spawn+join. What a task must do at the least
 * (the body starts on a microtask, not inside the spawn, so that a task is first
 * `pending`; and the handle settles when the body's promise does), with no record, id,
 * state or owner: run inside one AsyncLocalStorage, as zokio's tasks are. Its own copy of
 * the batch loop, as each case has: one loop shared by every case would make its call site
 * polymorphic and slow down whichever case runs later.
 */
function bareTaskSpawnJoin(options: MeasureOptions): Promise<number> {
  return throughput(async () => {
    const tasks: Promise<number>[] = new Array(BATCH);
    for (let i = 0; i < BATCH; i++) tasks[i] = bareTask(async () => i);
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

/**
 * Joining a batch through a {@link JoinSet} (results in completion order, one `joinNext`
 * per task) against `Promise.all` over the batch's handles (results in spawn order, one
 * await), both on zokio tasks with an async body.
 */
async function zokioJoinSet(options: MeasureOptions): Promise<number> {
  const rt = Runtime.builder().build();
  try {
    return await rt.run(() =>
      throughput(async () => {
        const set = new JoinSet<number>();
        for (let i = 0; i < BATCH; i++) set.spawn(asyncBody(i));
        let joined = 0;
        while ((await set.joinNext()) !== undefined) joined++;
        if (joined !== BATCH) throw new Error(`JoinSet joined ${joined} of ${BATCH}`);
      }, BATCH, options),
    );
  } finally {
    await rt.shutdown();
  }
}

async function zokioPromiseAll(options: MeasureOptions): Promise<number> {
  const rt = Runtime.builder().build();
  try {
    return await rt.run(() =>
      throughput(async () => {
        const tasks: Task<number>[] = new Array(BATCH);
        for (let i = 0; i < BATCH; i++) tasks[i] = rt.spawn(asyncBody(i));
        const values = await Promise.all(tasks);
        if (values.length !== BATCH) throw new Error('Promise.all lost tasks');
      }, BATCH, options),
    );
  } finally {
    await rt.shutdown();
  }
}
const JOIN_SET = 'JoinSet spawn+joinNext vs Promise.all over tasks (batches of 1000)';

/** Tasks alive at once in the all-alive case: every task spawned, then every one awaited. */
const ALIVE = 200_000;

function alive(options: MeasureOptions): number {
  return options.quick ? 50_000 : ALIVE;
}

/** Runs `round` (which does `n` operations) `rounds` times and returns operations/s of the median round. */
async function medianRate(n: number, rounds: number, round: () => Promise<void>): Promise<number> {
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    await round();
    rates.push(n / ((performance.now() - start) / 1000));
  }
  rates.sort((a, b) => a - b);
  return rates[rates.length >> 1]!;
}

/**
 * spawn+join the way a server holds its connections: every task alive at once, then all
 * awaited. Each body waits on one gate that opens after the last spawn (a connection
 * waits on its socket), in every subject: without it the case does not hold its tasks
 * alive in Effect. Effect's parent fiber yields every 2048 operations, and the forked
 * children run then: measured here (effect 4.1, Node 24), 199,485 of 200,000 children
 * with bodies that return at once had run and finished by the end of the fork loop, so
 * Effect held about 2,000 at a time where zokio, whose spawner does not yield inside a
 * plain `for` loop, held all 200,000. The ungated case is still reported below.
 */
async function zokioAllAlive(options: MeasureOptions): Promise<number> {
  const n = alive(options);
  const rt = Runtime.builder().build();
  try {
    return await rt.run(() =>
      medianRate(n, 3, async () => {
        const gate = opener();
        const tasks: Task<number>[] = new Array(n);
        for (let i = 0; i < n; i++) tasks[i] = rt.spawn(gatedBody(gate.promise, i));
        gate.open();
        for (let i = 0; i < n; i++) await tasks[i];
      }),
    );
  } finally {
    await rt.shutdown();
  }
}

function effectAllAlive(options: MeasureOptions): Promise<number> {
  const n = alive(options);
  const program = Effect.gen(function* () {
    const gate = yield* Deferred.make<void>();
    const fibers: Fiber.Fiber<number>[] = new Array(n);
    for (let i = 0; i < n; i++) fibers[i] = yield* Effect.forkChild(Effect.as(Deferred.await(gate), i));
    yield* Deferred.succeed(gate, undefined);
    for (let i = 0; i < n; i++) yield* Fiber.join(fibers[i]!);
  });
  return medianRate(n, 3, () => Effect.runPromise(program));
}

function plainAllAlive(options: MeasureOptions): Promise<number> {
  const n = alive(options);
  return medianRate(n, 3, async () => {
    const gate = opener();
    const tasks: Promise<number>[] = new Array(n);
    for (let i = 0; i < n; i++) tasks[i] = gatedBody(gate.promise, i)();
    gate.open();
    for (let i = 0; i < n; i++) await tasks[i];
  });
}

/** A gate: a promise and the function that resolves it. */
function opener(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** The body of the all-alive cases: waits for the gate, then returns its index. */
const gatedBody = (gate: Promise<void>, i: number) => async (): Promise<number> => {
  await gate;
  return i;
};

/** The same spawn+join with bodies that return at once (Effect's children then run during the fork loop: see above). */
async function zokioAllSpawned(options: MeasureOptions): Promise<number> {
  const n = alive(options);
  const rt = Runtime.builder().build();
  try {
    return await rt.run(() =>
      medianRate(n, 3, async () => {
        const tasks: Task<number>[] = new Array(n);
        for (let i = 0; i < n; i++) tasks[i] = rt.spawn(asyncBody(i));
        for (let i = 0; i < n; i++) await tasks[i];
      }),
    );
  } finally {
    await rt.shutdown();
  }
}

function effectAllSpawned(options: MeasureOptions): Promise<number> {
  const n = alive(options);
  const program = Effect.gen(function* () {
    const fibers: Fiber.Fiber<number>[] = new Array(n);
    for (let i = 0; i < n; i++) fibers[i] = yield* Effect.forkChild(Effect.succeed(i));
    for (let i = 0; i < n; i++) yield* Fiber.join(fibers[i]!);
  });
  return medianRate(n, 3, () => Effect.runPromise(program));
}
const ALL_ALIVE = 'spawn+join, 200,000 tasks alive at once (each waits on one gate opened after the last spawn)';
const ALL_SPAWNED = 'spawn+join, 200,000 spawned then awaited, bodies return at once (Effect runs its children during the fork loop)';

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

/**
 * Not a peer: the floor under any task that is a native promise run by an async
 * function. Each item is a bare async function awaiting one promise that all of them
 * share: no timer, no record, no handle fields. A zokio task cannot weigh less than this
 * plus its own bookkeeping.
 */
async function awaitFloorHeap(options: MeasureOptions): Promise<number> {
  return heapBytesPerItem(sleepers(options), async (count) => {
    let release!: () => void;
    const shared = new Promise<void>((resolve) => (release = resolve));
    const tasks: Promise<void>[] = new Array(count);
    for (let i = 0; i < count; i++) {
      tasks[i] = (async () => {
        await shared;
      })();
    }
    return async () => {
      release();
      await tasks[count - 1];
      tasks.length = 0;
    };
  });
}
const FLOOR = 'async fn awaiting one shared promise (floor reference)';

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
    { group: 'spawn+join (batches of 1000)', subject: 'zokio', unit: 'tasks/s', better: 'higher', measure: (o) => zokioSpawnJoin(o, asyncBody) },
    { group: 'spawn+join (batches of 1000)', subject: 'effect', unit: 'tasks/s', better: 'higher', measure: effectSpawnJoin },
    { group: 'spawn+join (batches of 1000)', subject: 'async fn', unit: 'tasks/s', better: 'higher', measure: plainSpawnJoin },
    { group: 'spawn+join (batches of 1000)', subject: `async fn, ${ALS_REFERENCE}`, unit: 'tasks/s', better: 'higher', measure: (o) => withOneStorage(plainSpawnJoin, o) },
    { group: 'spawn+join (batches of 1000)', subject: `deferred start + await of an async body, ${ALS_REFERENCE.replace('reference', 'floor reference')}`, unit: 'tasks/s', better: 'higher', measure: (o) => withOneStorage(bareTaskSpawnJoin, o) },
    { group: JOIN_SET, subject: 'zokio', unit: 'tasks/s', better: 'higher', measure: zokioJoinSet },
    { group: JOIN_SET, subject: 'zokio Promise.all', unit: 'tasks/s', better: 'higher', measure: zokioPromiseAll },
    { group: ALL_ALIVE, subject: 'zokio', unit: 'tasks/s', better: 'higher', measure: zokioAllAlive },
    { group: ALL_ALIVE, subject: 'effect', unit: 'tasks/s', better: 'higher', measure: effectAllAlive },
    { group: ALL_ALIVE, subject: 'async fn', unit: 'tasks/s', better: 'higher', measure: plainAllAlive },
    { group: ALL_SPAWNED, subject: 'zokio', unit: 'tasks/s', better: 'higher', measure: zokioAllSpawned },
    { group: ALL_SPAWNED, subject: 'effect', unit: 'tasks/s', better: 'higher', measure: effectAllSpawned },
    { group: 'spawn+join, synchronous body (batches of 1000)', subject: 'zokio', unit: 'tasks/s', better: 'higher', measure: (o) => zokioSpawnJoin(o, syncBody) },
    { group: 'spawn+join, synchronous body (batches of 1000)', subject: 'effect', unit: 'tasks/s', better: 'higher', measure: effectSpawnJoin },
    { group: 'heap per task awaiting sleep', subject: 'zokio', unit: 'B/task', better: 'lower', measure: zokioHeap },
    { group: 'heap per task awaiting sleep', subject: 'effect', unit: 'B/task', better: 'lower', measure: effectHeap },
    { group: 'heap per task awaiting sleep', subject: 'async fn + setTimeout', unit: 'B/task', better: 'lower', measure: plainHeap },
    { group: 'heap per task awaiting sleep', subject: `async fn + setTimeout, ${ALS_REFERENCE}`, unit: 'B/task', better: 'lower', measure: (o) => withOneStorage(plainHeap, o) },
    { group: 'heap per task awaiting sleep', subject: FLOOR, unit: 'B/task', better: 'lower', measure: awaitFloorHeap },
    { group: 'heap per task awaiting sleep', subject: `${FLOOR}, one AsyncLocalStorage entered`, unit: 'B/task', better: 'lower', measure: (o) => withOneStorage(awaitFloorHeap, o) },
  ],
  targets: [
    { group: 'spawn+join (batches of 1000)', text: '>= 3,000,000 tasks/s', check: (z) => z >= 3_000_000 },
    { group: ALL_ALIVE, text: '>= 1.5× effect', check: (z, peers) => z >= 1.5 * peers['effect']! },
    {
      group: 'heap per task awaiting sleep',
      text: '<= 1.15× the floor row and <= 0.6× effect',
      check: (z, peers) => z <= 1.15 * peers[FLOOR]! && z <= 0.6 * peers['effect']!,
    },
  ],
});
