/**
 * The blocking pool of a runtime, and the two ways in: `rt.spawnBlocking` and `rt.blockOn`.
 *
 * `runtime.ts` calls {@link spawnBlockingOn} and {@link blockOnWith}; the pool itself is
 * created on first use and registered as the runtime part `blocking`, so its counters show
 * in `rt.metrics().blocking` and `rt.shutdown()` stops its threads.
 *
 * @module
 */
import { RuntimeClosedError } from '../../errors.js';
import type { BlockOnOptions, ZokioRuntime } from '../../runtime/runtime.js';
import type { TaskRef } from '../task-ref.js';
import { BlockingPool } from './blocking-pool.js';
import { assertNotNested } from './nested.js';

export { BlockingPool, type BlockingMetrics, type BlockingWaitOptions } from './blocking-pool.js';
export { markZokioThread, zokioThreadKind, ZOKIO_THREAD_MARK, type ZokioThreadKind } from './nested.js';

const pools = new WeakMap<ZokioRuntime, BlockingPool>();

/**
 * @internal The blocking pool of `runtime`, created (without threads yet) on first use and
 * registered as the runtime part `blocking`.
 *
 * @example
 * Internal use (not importable from `zokio`, so not a checked example):
 * `const sum = await getBlockingPool(rt).spawnBlocking(tasks.add, [1, 2]);`. Users reach
 * the pool through the runtime, and see its counters once it exists:
 * ```ts
 * import { Runtime, defineTasks } from 'zokio';
 * export const tasks = defineTasks(import.meta.url, {
 *   add(a: number, b: number): number {
 *     return a + b;
 *   },
 * });
 * const rt = Runtime.builder().workers(2).build();
 * const sum = await rt.spawnBlocking(tasks.add, 1, 2);
 * console.log(sum, rt.metrics().blocking);
 * await rt.shutdown();
 * ```
 * @throws RuntimeClosedError when the runtime is shut down and never had a pool.
 */
export function getBlockingPool(runtime: ZokioRuntime): BlockingPool {
  let pool = pools.get(runtime);
  if (pool === undefined) {
    if (runtime.closed) throw new RuntimeClosedError('runtime is shut down: cannot start the blocking pool');
    const created = new BlockingPool(runtime.config.blockingThreads, runtime.config.resourceLimits);
    pools.set(runtime, created);
    runtime.addPart({ name: 'blocking', metrics: () => created.metrics(), shutdown: () => created.shutdown() });
    pool = created;
  }
  return pool;
}

/**
 * @internal `rt.spawnBlocking(ref, ...args)`: runs the task on a blocking thread.
 *
 * *Cancellation*: none once started (a blocking thread runs synchronous code that cannot
 * be interrupted); shutdown rejects it with `RuntimeClosedError` and terminates the thread.
 */
export function spawnBlockingOn(runtime: ZokioRuntime, ref: TaskRef, args: readonly unknown[]): Promise<unknown> {
  try {
    return getBlockingPool(runtime).spawnBlocking(ref, args);
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * @internal `rt.blockOn(ref, ...args)` and `rt.blockOn({ timeoutMs }, ref, ...args)`: tells
 * the two forms apart, refuses to run inside the runtime, then waits synchronously.
 *
 * *Cancellation*: with `timeoutMs`, the wait ends with `TimeoutError`; a job that had not
 * started is dropped, one that had keeps running and its result is discarded.
 *
 * @throws NestedRuntimeError inside `rt.run`, a spawned task, or a Zokio worker thread.
 */
export function blockOnWith(runtime: ZokioRuntime, first: TaskRef | BlockOnOptions, rest: readonly unknown[]): unknown {
  const withOptions = !isTaskRef(first);
  const ref = (withOptions ? rest[0] : first) as TaskRef;
  const args = withOptions ? rest.slice(1) : rest;
  const label = isTaskRef(ref) ? `tasks.${ref.name}` : 'ref';
  assertNotNested(`rt.blockOn(${label}, ...)`, `await rt.spawnBlocking(${label}, ...)`);
  return getBlockingPool(runtime).blockOn(ref, args, withOptions ? (first as BlockOnOptions) : undefined);
}

function isTaskRef(value: unknown): value is TaskRef {
  return typeof value === 'object' && value !== null && typeof (value as TaskRef).module === 'string' && typeof (value as TaskRef).name === 'string';
}
