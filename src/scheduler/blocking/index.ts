/**
 * The blocking pool of a runtime, and the two ways in: `rt.spawnBlocking` and `rt.blockOn`.
 *
 * The composition function builds the runtime part `blocking` ({@link BlockingPart}); it
 * creates the pool (and the pool its threads) on first use, so its counters show in
 * `rt.metrics().blocking` from then on and `rt.shutdown()` stops its threads.
 *
 * @module
 */
import { RuntimeClosedError } from '../../errors.js';
import type { ResolvedConfig } from '../../runtime/config.js';
import type { BlockOnOptions } from '../../runtime/parallel.js';
import type { PartHost, RuntimePart } from '../../runtime/part.js';
import { isTaskRef, type TaskRef } from '../task-ref.js';
import { BlockingPool, type BlockingMetrics } from './blocking-pool.js';
import { assertNotNested } from './nested.js';

export { BlockingPool, type BlockingMetrics, type BlockingWaitOptions } from './blocking-pool.js';
export { markZokioThread, zokioThreadKind, ZOKIO_THREAD_MARK, type ZokioThreadKind } from './nested.js';

/**
 * @internal The `blocking` part of a runtime: its {@link BlockingPool}, created (without
 * threads yet) on the first `spawnBlocking` or `blockOn`.
 */
export class BlockingPart implements RuntimePart {
  readonly name = 'blocking';
  readonly #config: ResolvedConfig;
  readonly #host: PartHost;
  #pool: BlockingPool | undefined;

  constructor(config: ResolvedConfig, host: PartHost) {
    this.#config = config;
    this.#host = host;
  }

  /**
   * The pool, created on first use.
   * @throws RuntimeClosedError when the runtime is shut down and never had a pool.
   */
  pool(): BlockingPool {
    if (this.#pool === undefined) {
      if (this.#host.closed) throw new RuntimeClosedError('runtime is shut down: cannot start the blocking pool');
      this.#pool = new BlockingPool(this.#config.blockingThreads, this.#config.resourceLimits);
    }
    return this.#pool;
  }

  /**
   * `rt.spawnBlocking([options,] ref, ...args)`: runs the task on a blocking thread.
   *
   * *Cancellation*: `signal`, or the running task's abort, rejects the call; a task not yet
   * started never runs, a started one runs to its end and its result is dropped (see
   * `BlockingPool.spawnBlocking`); shutdown rejects it with `RuntimeClosedError` and
   * terminates the thread.
   */
  spawnBlocking(ref: TaskRef, args: readonly unknown[], signal: AbortSignal | undefined): Promise<unknown> {
    try {
      return this.pool().spawnBlocking(ref, args, signal);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * `rt.blockOn(ref, ...args)` and `rt.blockOn({ timeoutMs }, ref, ...args)`: tells
   * the two forms apart, refuses to run inside the runtime, then waits synchronously.
   *
   * *Cancellation*: with `timeoutMs`, the wait ends with `TimeoutError`; a job that had not
   * started is dropped, one that had keeps running and its result is discarded.
   *
   * @throws NestedRuntimeError inside `rt.run`, a spawned task, or a Zokio worker thread.
   */
  blockOn(first: TaskRef | BlockOnOptions, rest: readonly unknown[]): unknown {
    const withOptions = !isTaskRef(first);
    const ref = (withOptions ? rest[0] : first) as TaskRef;
    const args = withOptions ? rest.slice(1) : rest;
    const label = isTaskRef(ref) ? `tasks.${ref.name}` : 'ref';
    assertNotNested(`rt.blockOn(${label}, ...)`, `await rt.spawnBlocking(${label}, ...)`);
    return this.pool().blockOn(ref, args, withOptions ? (first as BlockOnOptions) : undefined);
  }

  metrics(): BlockingMetrics | undefined {
    return this.#pool?.metrics();
  }

  shutdown(): void | Promise<void> {
    return this.#pool?.shutdown();
  }
}

/**
 * @internal The blocking pool of `runtime`, created (without threads yet) on first use.
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
export function getBlockingPool(runtime: object): BlockingPool {
  const part = (runtime as PartHost).part<BlockingPart>('blocking');
  if (part === undefined) throw new Error('zokio: this runtime has no blocking part');
  return part.pool();
}
