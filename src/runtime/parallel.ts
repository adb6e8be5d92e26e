/**
 * The options of the parallel members (`rt.exec`, `rt.map`, `rt.blockOn`) and the engine
 * contract the work-stealing pool implements. Types only: the pool imports this module,
 * never the runtime class.
 *
 * @module
 */
import type { TaskRef } from '../scheduler/task-ref.js';

/** Options for `rt.map`. */
export interface MapOptions<R> {
  /** Inputs per batch submitted to the pool. @default chosen from the input count and worker count */
  readonly chunkSize?: number;
  /** Called after each finished batch with the number of inputs done so far. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Aborts the map: queued batches are dropped and the promise rejects with the reason. */
  readonly signal?: AbortSignal;
  /** @internal Keeps `R` in the signature for callers that annotate it. */
  readonly __result?: R;
}

/** Options for `rt.exec(options, ref, ...args)`. */
export interface ExecOptions {
  /** Aborts the task: removed if still queued, signalled through `currentTaskSignal()` if running. */
  readonly signal?: AbortSignal;
  /**
   * With `signal`: a running task whose signal fires has its worker terminated (the call
   * rejects at once with `TaskAbortedError`, the worker is replaced, other tasks on it run
   * again once), for tasks that never look at their signal.
   * @default the builder's `.forceAbort(...)`, else false
   */
  readonly force?: boolean;
  /** ArrayBuffers moved to the worker instead of copied (detached here), as `postMessage`'s transfer list. */
  readonly transfer?: readonly ArrayBuffer[];
  /**
   * What to do when the pool's queue holds `.maxQueue(n)` tasks: `'wait'` for room, or
   * `'reject'` with `QueueFullError`.
   * @default the builder's `.maxQueue(n, { onFull })`, else 'wait'
   */
  readonly onFull?: 'wait' | 'reject';
}

/** Options for `rt.spawnBlocking(options, ref, ...args)`. */
export interface SpawnBlockingOptions {
  /**
   * Stops the wait: a task that has not started is removed from the queue and never runs;
   * one that has started runs to its end on its thread (synchronous code cannot be
   * interrupted) and its result is dropped.
   */
  readonly signal?: AbortSignal;
}

/** Options for `rt.blockOn(options, ref, ...args)`. */
export interface BlockOnOptions {
  /**
   * Throw `TimeoutError` instead of waiting longer than this, in ms. A task that had not
   * started by then never runs; one that had keeps running and its result is dropped.
   * @default Infinity
   */
  readonly timeoutMs?: number;
}

/** @internal The engine behind `rt.exec` and `rt.map`; the work-stealing pool provides it. */
export interface ParallelEngine {
  exec(ref: TaskRef, args: readonly unknown[]): Promise<unknown>;
  execWithSignal(ref: TaskRef, args: readonly unknown[], signal: AbortSignal | undefined, options?: ExecOptions): Promise<unknown>;
  map(ref: TaskRef, inputs: Iterable<unknown>, options: MapOptions<unknown> | undefined): Promise<unknown[]>;
  metrics(): Record<string, unknown>;
  shutdown(timeoutMs: number, force?: boolean): Promise<void>;
}
