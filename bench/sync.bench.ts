/**
 * Sync primitives against the peers a user would pick instead:
 * - channel(64), one producer / one consumer, vs Effect `Queue.bounded(64)`; and the same
 *   channel with `reserve()` + `permit.send()` beside plain `send` (not a peer: the cost of
 *   reserving first);
 * - Semaphore(4) acquire/release with 16 contenders vs async-sema (and async-mutex's Semaphore);
 * - Mutex lock/unlock with 16 contenders vs async-mutex;
 * - a concurrency limit of 4 over many small tasks: `Semaphore.withPermit` vs p-limit.
 *
 * Each case does the same work per call in every subject; the runner takes medians.
 */
import { Effect, Fiber, Queue } from 'effect';
import { Sema } from 'async-sema';
import { Mutex as AsyncMutex, Semaphore as AsyncMutexSemaphore } from 'async-mutex';
import pLimit from 'p-limit';
import { defineSuite, throughput, type BenchCase } from './harness.js';
import { channel, Mutex, Semaphore } from '../src/sync/index.js';
import { Runtime } from '../src/index.js';

const MESSAGES = 20_000;
const CONTENDERS = 16;
const ROUNDS = 1_000; // per contender
const TASKS = 10_000;

async function zokioChannel(): Promise<void> {
  const [tx, rx] = channel<number>(64);
  const producer = (async () => {
    for (let i = 0; i < MESSAGES; i++) await tx.send(i);
    tx.close();
  })();
  let sum = 0;
  for await (const n of rx) sum += n;
  await producer;
  if (sum !== (MESSAGES * (MESSAGES - 1)) / 2) throw new Error('zokio channel lost messages');
}

/** The same channel, the producer reserving a slot before it has the message (`reserve` then `permit.send`). */
async function zokioChannelReserve(): Promise<void> {
  const [tx, rx] = channel<number>(64);
  const producer = (async () => {
    for (let i = 0; i < MESSAGES; i++) (await tx.reserve()).send(i);
    tx.close();
  })();
  let sum = 0;
  for await (const n of rx) sum += n;
  await producer;
  if (sum !== (MESSAGES * (MESSAGES - 1)) / 2) throw new Error('zokio channel (reserve) lost messages');
}

/**
 * The same channel with the producer and the consumer as zokio tasks. Inside a task a wait
 * that has nothing to wait for (a send with room, a message already queued) settles one
 * microtask later through the task's resumption, so that the task's later waits still stop
 * at an abort (see `readyFor` in src/scheduler/task.ts): four microtask jobs per such wait
 * instead of one. This row shows what that costs beside the same loop outside any task.
 */
let taskRuntime: ReturnType<typeof buildTaskRuntime> | undefined;
function buildTaskRuntime() {
  return Runtime.builder().build();
}
function zokioChannelInTasks(): Promise<void> {
  const rt = (taskRuntime ??= buildTaskRuntime());
  return rt.run(async () => {
    const [tx, rx] = channel<number>(64);
    const producer = rt.spawn(async () => {
      for (let i = 0; i < MESSAGES; i++) await tx.send(i);
      tx.close();
    });
    const consumer = rt.spawn(async () => {
      let sum = 0;
      for await (const n of rx) sum += n;
      return sum;
    });
    await producer;
    if ((await consumer) !== (MESSAGES * (MESSAGES - 1)) / 2) throw new Error('zokio channel in tasks lost messages');
  });
}

const effectChannelProgram = Effect.gen(function* () {
  const queue = yield* Queue.bounded<number>(64);
  const producer = yield* Effect.forkChild(
    Effect.gen(function* () {
      for (let i = 0; i < MESSAGES; i++) yield* Queue.offer(queue, i);
    }),
  );
  let sum = 0;
  for (let i = 0; i < MESSAGES; i++) sum += yield* Queue.take(queue);
  yield* Fiber.join(producer);
  return sum;
});

async function effectChannel(): Promise<void> {
  const sum = await Effect.runPromise(effectChannelProgram);
  if (sum !== (MESSAGES * (MESSAGES - 1)) / 2) throw new Error('effect queue lost messages');
}

// Each case starts its 16 contenders with its own loop, the loop a user writes. An earlier
// version shared one `contend(body)` helper between the cases: its `body()` call site saw
// every case's closure and went polymorphic, which slowed every subject that ran through it,
// so the file measured a loop nobody writes. Measured here on Node 24, the loop as a user
// writes it with each subject alone in its own process: zokio 12.4–13.4 M, async-sema
// 7.7–8.3 M ops/s (1.49–1.71×); both through one shared helper in one process: 8.0–8.4 M and
// 5.4–5.8 M (1.40–1.58×, in either order).
//
// Every acquire after the first four waits (16 contenders, 4 permits, FIFO), so this is
// the handoff path. Per op, zokio allocates a permit (its own waiter record) and one pending
// promise, and the waiter resumes one microtask after `release()`; async-sema's `acquire`
// is an async function returning a new promise (an outer and an inner promise, a
// `{ resolve, reject }` record, three microtasks per op of which two between `release()`
// and the waiter), and each release goes through an EventEmitter. The contender's own
// `await` is common to both.
async function zokioSemaphore(): Promise<void> {
  const sem = new Semaphore(4);
  const contenders: Promise<void>[] = [];
  for (let c = 0; c < CONTENDERS; c++) {
    contenders.push(
      (async () => {
        for (let i = 0; i < ROUNDS; i++) {
          const permit = await sem.acquire();
          permit.release();
        }
      })(),
    );
  }
  await Promise.all(contenders);
}

/**
 * Not a peer: the least a FIFO semaphore can do when each waiter gets its permit through
 * a promise of its own (what zokio's `Semaphore` and async-sema both do): a count, an
 * array of waiters, one permit object and one pending promise per contended acquire, and
 * a release that hands its permit straight to the oldest waiter. No signal, no task
 * awareness, no close, no `available` bookkeeping. zokio's row beside it shows what those
 * cost; this row beside async-sema's shows how far over async-sema a promise-per-waiter
 * handoff can get at all on this platform.
 */
function unparked(): void {}

class FloorPermit {
  sem: FloorSemaphore | undefined;
  resolve: (permit: FloorPermit) => void = unparked; // one shared function, not a closure per permit
  constructor(sem: FloorSemaphore) {
    this.sem = sem;
  }
  release(): void {
    const sem = this.sem!;
    this.sem = undefined;
    sem.release();
  }
}
// Not a thenable (as zokio's permit): resolving with it stops the `then` lookup at its prototype.
Object.defineProperty(FloorPermit.prototype, 'then', { value: undefined, writable: true });

class FloorSemaphore {
  #free: number;
  readonly #waiters: FloorPermit[] = [];
  constructor(permits: number) {
    this.#free = permits;
  }
  acquire(): Promise<FloorPermit> {
    if (this.#waiters.length === 0 && this.#free > 0) {
      this.#free--;
      return Promise.resolve(new FloorPermit(this));
    }
    const permit = new FloorPermit(this);
    const promise = new Promise<FloorPermit>((resolve) => {
      permit.resolve = resolve;
    });
    this.#waiters.push(permit);
    return promise;
  }
  release(): void {
    const next = this.#waiters.shift();
    if (next === undefined) this.#free++;
    else next.resolve(next);
  }
}

async function floorSemaphore(): Promise<void> {
  const sem = new FloorSemaphore(4);
  const contenders: Promise<void>[] = [];
  for (let c = 0; c < CONTENDERS; c++) {
    contenders.push(
      (async () => {
        for (let i = 0; i < ROUNDS; i++) {
          const permit = await sem.acquire();
          permit.release();
        }
      })(),
    );
  }
  await Promise.all(contenders);
}

async function asyncSema(): Promise<void> {
  const sem = new Sema(4);
  const contenders: Promise<void>[] = [];
  for (let c = 0; c < CONTENDERS; c++) {
    contenders.push(
      (async () => {
        for (let i = 0; i < ROUNDS; i++) {
          await sem.acquire();
          sem.release();
        }
      })(),
    );
  }
  await Promise.all(contenders);
}

async function asyncMutexSemaphore(): Promise<void> {
  const sem = new AsyncMutexSemaphore(4);
  const contenders: Promise<void>[] = [];
  for (let c = 0; c < CONTENDERS; c++) {
    contenders.push(
      (async () => {
        for (let i = 0; i < ROUNDS; i++) {
          const [, release] = await sem.acquire();
          release();
        }
      })(),
    );
  }
  await Promise.all(contenders);
}

async function zokioMutex(): Promise<void> {
  const mutex = new Mutex({ n: 0 });
  const contenders: Promise<void>[] = [];
  for (let c = 0; c < CONTENDERS; c++) {
    contenders.push(
      (async () => {
        for (let i = 0; i < ROUNDS; i++) {
          const guard = await mutex.lock();
          guard.value.n++;
          guard.release();
        }
      })(),
    );
  }
  await Promise.all(contenders);
  if (mutex.unsafeValue.n !== CONTENDERS * ROUNDS) throw new Error('zokio mutex lost updates');
}

async function asyncMutex(): Promise<void> {
  const mutex = new AsyncMutex();
  const state = { n: 0 };
  const contenders: Promise<void>[] = [];
  for (let c = 0; c < CONTENDERS; c++) {
    contenders.push(
      (async () => {
        for (let i = 0; i < ROUNDS; i++) {
          const release = await mutex.acquire();
          state.n++;
          release();
        }
      })(),
    );
  }
  await Promise.all(contenders);
  if (state.n !== CONTENDERS * ROUNDS) throw new Error('async-mutex lost updates');
}

const noop = async (): Promise<void> => {};

async function zokioLimit(): Promise<void> {
  const sem = new Semaphore(4);
  const all: Promise<void>[] = [];
  for (let i = 0; i < TASKS; i++) all.push(sem.withPermit(noop));
  await Promise.all(all);
}

async function pLimitLimit(): Promise<void> {
  const limit = pLimit(4);
  const all: Promise<void>[] = [];
  for (let i = 0; i < TASKS; i++) all.push(limit(noop));
  await Promise.all(all);
}

function throughputCase(group: string, subject: string, unit: string, ops: number, fn: () => Promise<void>): BenchCase {
  return { group, subject, unit, better: 'higher', measure: (options) => throughput(fn, ops, options) };
}

const CHANNEL = 'channel(64) 1 producer / 1 consumer';
const CHANNEL_RESERVE = 'channel(64) reserve+send vs send (zokio both)';
const CHANNEL_TASKS = 'channel(64) 1 producer / 1 consumer as tasks vs outside tasks (zokio both)';
const SEMAPHORE = 'Semaphore(4) acquire+release, 16 contenders';
const MUTEX = 'Mutex lock+unlock, 16 contenders';
const LIMIT = 'concurrency limit 4 over 10k tasks';

export default defineSuite({
  name: 'sync',
  title: 'channels, semaphore, mutex vs Effect, async-sema, async-mutex, p-limit',
  cases: [
    throughputCase(CHANNEL, 'zokio', 'msgs/s', MESSAGES, zokioChannel),
    throughputCase(CHANNEL, 'effect', 'msgs/s', MESSAGES, effectChannel),
    throughputCase(CHANNEL_RESERVE, 'zokio', 'msgs/s', MESSAGES, zokioChannelReserve),
    throughputCase(CHANNEL_RESERVE, 'zokio send', 'msgs/s', MESSAGES, zokioChannel),
    throughputCase(CHANNEL_TASKS, 'zokio', 'msgs/s', MESSAGES, zokioChannelInTasks),
    throughputCase(CHANNEL_TASKS, 'zokio outside tasks', 'msgs/s', MESSAGES, zokioChannel),
    throughputCase(SEMAPHORE, 'zokio', 'ops/s', CONTENDERS * ROUNDS, zokioSemaphore),
    throughputCase(SEMAPHORE, 'async-sema', 'ops/s', CONTENDERS * ROUNDS, asyncSema),
    throughputCase(SEMAPHORE, 'async-mutex', 'ops/s', CONTENDERS * ROUNDS, asyncMutexSemaphore),
    throughputCase(SEMAPHORE, 'promise-per-waiter FIFO semaphore (floor reference)', 'ops/s', CONTENDERS * ROUNDS, floorSemaphore),
    throughputCase(MUTEX, 'zokio', 'ops/s', CONTENDERS * ROUNDS, zokioMutex),
    throughputCase(MUTEX, 'async-mutex', 'ops/s', CONTENDERS * ROUNDS, asyncMutex),
    throughputCase(LIMIT, 'zokio', 'tasks/s', TASKS, zokioLimit),
    throughputCase(LIMIT, 'p-limit', 'tasks/s', TASKS, pLimitLimit),
  ],
  async teardown() {
    await taskRuntime?.shutdown();
    taskRuntime = undefined;
  },
  targets: [
    { group: CHANNEL, text: ">= 5× Effect's Queue.bounded(64)", check: (z, peers) => z >= 5 * (peers['effect'] ?? Infinity) },
    { group: SEMAPHORE, text: '>= 1.5× async-sema', check: (z, peers) => z >= 1.5 * (peers['async-sema'] ?? Infinity) },
    { group: MUTEX, text: '>= 5× async-mutex', check: (z, peers) => z >= 5 * (peers['async-mutex'] ?? Infinity) },
  ],
});
