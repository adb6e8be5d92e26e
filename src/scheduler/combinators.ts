/**
 * Free functions over the current runtime: `spawn`, `yieldNow`, `joinAll`, `allSettled`,
 * `race`. Each resolves the runtime from the AsyncLocalStorage context, or uses the
 * default runtime (built on first use) outside `rt.run`.
 */
import { currentRuntimeObject } from '../runtime/current.js';
import type { RuntimeBase } from '../runtime/runtime.js';
import { isTask, taskWait, type SpawnOptions, type Task, type TaskBody } from './task.js';

/** The runtime that is current here (inside `rt.run` or a task), or the default runtime. */
export function currentRuntime(): RuntimeBase {
  return currentRuntimeObject() as RuntimeBase;
}

/**
 * Starts a task on the current runtime.
 *
 * @example
 * ```ts
 * import { spawn } from 'zokio';
 * const task = spawn(async () => 'hello');
 * console.log(await task);
 * ```
 *
 * *Cancellation*: `options.signal`, `task.abort()` and runtime shutdown abort the task.
 */
export function spawn<T>(body: TaskBody<T>, options?: SpawnOptions): Task<Awaited<T>> {
  return currentRuntime().spawn(body, options);
}

/**
 * Yields to the event loop so that I/O callbacks and other tasks can run, then resumes.
 *
 * @example
 * ```ts
 * import { yieldNow } from 'zokio';
 * for (let i = 0; i < 1e6; i++) if (i % 10_000 === 0) await yieldNow();
 * ```
 */
export function yieldNow(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

type Awaitables = readonly unknown[] | [];
/** The results of a list of awaitables. */
export type AwaitedAll<T extends Awaitables> = { -readonly [K in keyof T]: Awaited<T[K]> };

function abortTasks(items: readonly unknown[], reason: unknown): void {
  for (const item of items) if (isTask(item)) item.abort(reason);
}

/**
 * Waits for every task or promise; on the first failure, aborts the tasks still running
 * and rejects with that failure (tokio's `try_join!`).
 *
 * @example
 * ```ts
 * import { joinAll, spawn } from 'zokio';
 * const [a, b] = await joinAll([spawn(async () => 1), Promise.resolve('two')]);
 * ```
 *
 * *Cancellation*: the first failure aborts the remaining tasks.
 */
export function joinAll<const T extends Awaitables>(items: T): Promise<AwaitedAll<T>> {
  return taskWait(joinAllNow(items));
}

async function joinAllNow<const T extends Awaitables>(items: T): Promise<AwaitedAll<T>> {
  try {
    return (await Promise.all(items)) as AwaitedAll<T>;
  } catch (err) {
    abortTasks(items, err);
    throw err;
  }
}

/**
 * Waits for every task or promise and reports each outcome, like `Promise.allSettled`.
 *
 * @example
 * ```ts
 * import { allSettled, spawn } from 'zokio';
 * const results = await allSettled([spawn(async () => 1), Promise.reject(new Error('x'))]);
 * ```
 */
export function allSettled<const T extends Awaitables>(items: T): Promise<{ -readonly [K in keyof T]: PromiseSettledResult<Awaited<T[K]>> }> {
  return taskWait(Promise.allSettled(items)) as never;
}

/**
 * Settles like the first task or promise to settle and aborts the tasks that lost.
 *
 * @example
 * ```ts
 * import { race, sleep, spawn } from 'zokio';
 * const winner = await race([spawn(async () => 'fast'), spawn(async () => { await sleep(50); return 'slow'; })]);
 * ```
 *
 * *Cancellation*: every task that did not win is aborted.
 */
export function race<const T extends Awaitables>(items: T): Promise<Awaited<T[number]>> {
  return taskWait(raceNow(items));
}

async function raceNow<const T extends Awaitables>(items: T): Promise<Awaited<T[number]>> {
  try {
    return (await Promise.race(items)) as Awaited<T[number]>;
  } finally {
    abortTasks(items, undefined);
  }
}
