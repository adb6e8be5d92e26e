/**
 * The bridge between code running inside a worker task and the worker that runs it.
 *
 * Implementation note. The worker entry and the task modules may come from different
 * bundles (`dist/worker-entry.js` and `dist/index.js`), so the running worker publishes
 * itself under a `Symbol.for` key on `globalThis` rather than in a module variable; every
 * copy of this file finds the same object. Outside a pool worker the slot is empty and
 * `join` runs both sides inline, `exec` goes to the current runtime.
 *
 * @module
 */
import type { TaskRef } from '../task-ref.js';

/** A trace context carried in a task record: W3C-style ids and flags. */
export interface TaskTraceContext {
  /** 16-byte trace id. */
  readonly traceId: Uint8Array;
  /** 8-byte id of the parent span (the span that submitted the task). */
  readonly spanId: Uint8Array;
  /** Trace flags (bit 0: sampled). */
  readonly flags: number;
}

/** @internal What a pool worker offers to the task code it runs. */
export interface WorkerContext {
  /** Index of this worker in its pool. */
  readonly index: number;
  /** True while a task is running on this thread (join and exec need one). */
  inTask(): boolean;
  join(a: readonly [TaskRef, ...unknown[]], b: readonly [TaskRef, ...unknown[]]): [unknown, unknown];
  exec(ref: TaskRef, args: readonly unknown[], signal?: AbortSignal): Promise<unknown>;
  signal(): AbortSignal | undefined;
  traceContext(): TaskTraceContext | undefined;
}

const KEY = Symbol.for('zokio.pool.workerContext');

const FORK_TRACE_KEY = Symbol.for('zokio.trace.forkContext');

/**
 * @internal Set by the tracing module: the trace context a task forked right now (a
 * `join` half, a nested `exec`) should carry — the span open around the fork — or
 * undefined to keep the running record's. On `globalThis` for the same reason as the
 * worker context: the tracing module and the worker entry may be different bundles.
 */
export function setForkTraceContextProvider(provider: (() => TaskTraceContext | undefined) | undefined): void {
  (globalThis as Record<symbol, unknown>)[FORK_TRACE_KEY] = provider;
}

/** @internal The context for a task forked now (see {@link setForkTraceContextProvider}). */
export function forkTraceContext(): TaskTraceContext | undefined {
  return (globalThis as Record<symbol, (() => TaskTraceContext | undefined) | undefined>)[FORK_TRACE_KEY]?.();
}

const BLOCKING_TRACE_KEY = Symbol.for('zokio.blocking.traceContext');

/**
 * @internal Set by a blocking-pool thread around each job: the trace context the job
 * carries (a blocking thread runs one job at a time, so one slot is enough).
 */
export function setBlockingTraceContext(ctx: TaskTraceContext | undefined): void {
  (globalThis as Record<symbol, unknown>)[BLOCKING_TRACE_KEY] = ctx;
}

const ISOLATION_KEY = Symbol.for('zokio.trace.taskIsolation');

/**
 * @internal Set by the tracing module: how to run a task record's body outside the spans
 * still open on this thread. A worker that helps while it waits inside a `join` runs other
 * records on the same stack, under the span around the join; without this, their first
 * `span()` would take that span as parent instead of the one the record carries.
 */
export interface TaskSpanIsolation {
  /** True when a span is current on this thread (the body must then run outside it). */
  readonly spanOpen: () => boolean;
  /** Runs `fn` with no current span, so the record's own context is the parent. */
  readonly runOutside: <T>(fn: () => T) => T;
}

/** @internal Installs (or removes) the span isolation of task bodies. */
export function setTaskSpanIsolation(isolation: TaskSpanIsolation | undefined): void {
  (globalThis as Record<symbol, unknown>)[ISOLATION_KEY] = isolation;
}

/** @internal The span isolation of task bodies, when tracing is loaded on this thread. */
export function taskSpanIsolation(): TaskSpanIsolation | undefined {
  return (globalThis as Record<symbol, TaskSpanIsolation | undefined>)[ISOLATION_KEY];
}

/** @internal The context of the pool worker this code runs on, or undefined. */
export function workerContext(): WorkerContext | undefined {
  return (globalThis as Record<symbol, WorkerContext | undefined>)[KEY];
}

/** @internal Installs the worker's context (worker entry only). */
export function setWorkerContext(ctx: WorkerContext): void {
  (globalThis as Record<symbol, WorkerContext | undefined>)[KEY] = ctx;
}

/**
 * The abort signal of the worker task running now (or of the job whose task `serveTasks`
 * runs inline now), or `undefined` outside a worker task.
 *
 * Use it inside a task registered with `defineTasks` to let the caller stop long work:
 * the caller aborts the `rt.spawn(...)` task (or the `map` signal) that awaits the
 * exec, and the worker sees it through a flag in shared memory.
 *
 * *Cancellation*: reading `signal.aborted` checks the shared flag at once, so a
 * synchronous loop that polls it stops promptly; `abort` listeners fire when the worker
 * next reaches its event loop (after an `await`). An `async function` task gets its own
 * signal after its awaits too (the worker carries the task across them in an
 * AsyncLocalStorage); a plain function that returns a promise gets it only until it
 * returns, so read it first there.
 *
 * @example
 * ```ts
 * import { defineTasks, currentTaskSignal } from 'zokio';
 * export const tasks = defineTasks(import.meta.url, {
 *   count(limit: number): number {
 *     const signal = currentTaskSignal();
 *     let i = 0;
 *     while (i < limit && !signal?.aborted) i++;
 *     return i;
 *   },
 * });
 * ```
 */
export function currentTaskSignal(): AbortSignal | undefined {
  return workerContext()?.signal() ?? inlineSignal;
}

/** The signal of the task `withTaskSignal` runs now on this thread (serveTasks' inline runs). */
let inlineSignal: AbortSignal | undefined;

/**
 * @internal Calls `fn` synchronously with `signal` as `currentTaskSignal()`: a task that
 * `serveTasks` runs inline on its own thread sees its job's signal, as on a pool thread.
 */
export function withTaskSignal<T>(signal: AbortSignal, fn: () => T): T {
  const outer = inlineSignal;
  inlineSignal = signal;
  try {
    return fn();
  } finally {
    inlineSignal = outer;
  }
}

/**
 * The trace context the caller attached to the worker task running now (for the tracing
 * part, so that spans opened in a worker join the caller's trace); `undefined` outside a
 * worker task or when the caller attached none.
 *
 * @example
 * ```ts
 * import { currentWorkerTaskContext } from 'zokio';
 * const ctx = currentWorkerTaskContext(); // { traceId, spanId, flags } | undefined
 * ```
 */
export function currentWorkerTaskContext(): TaskTraceContext | undefined {
  const ctx = workerContext();
  if (ctx !== undefined) return ctx.traceContext();
  return (globalThis as Record<symbol, TaskTraceContext | undefined>)[BLOCKING_TRACE_KEY];
}
