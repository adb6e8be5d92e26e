/**
 * `join` (rayon-style fork-join) and `exec` for code that runs inside worker tasks.
 *
 * @module
 */
import { NotImplementedError } from '../../errors.js';
import { currentRuntimeObject } from '../../runtime/current.js';
import { isTaskRef, type TaskRef } from '../task-ref.js';
import { lookupTask, requireTask } from '../task-registry.js';
import { workerContext } from './worker-context.js';

/** One side of a `join`: a task reference followed by its arguments. */
export type JoinSide<A extends readonly unknown[] = readonly unknown[], R = unknown> = readonly [TaskRef<A, R>, ...A];

/**
 * Runs two registered tasks, possibly in parallel, and returns both results
 * (rayon's `join`): synchronous, usable inside a worker task.
 *
 * Inside a worker task it pushes side `b` onto the worker's own deque, where idle workers
 * can steal it, runs side `a` inline, then pops `b` back and runs it inline too, or, if
 * a thief took it, helps by running other queued work until the thief publishes `b`'s
 * result. Outside a worker task (on the main thread, in tests) it runs both sides inline,
 * so the same code works sequentially. Joins nest to any depth. Both sides must be
 * synchronous functions from modules already loaded on the worker (the module of the
 * running task and the modules it imports).
 *
 * When either side throws, `join` throws (side `a`'s error first) after both sides have
 * finished.
 *
 * @example
 * ```ts
 * import { defineTasks, join } from 'zokio';
 * export const tasks = defineTasks(import.meta.url, {
 *   fib(n: number): number {
 *     if (n < 20) return seq(n); // sequential cutoff
 *     const [a, b] = join([tasks.fib, n - 1], [tasks.fib, n - 2]);
 *     return a + b;
 *   },
 * });
 * function seq(n: number): number { return n < 2 ? n : seq(n - 1) + seq(n - 2); }
 * ```
 */
export function join<const A extends readonly unknown[], RA, const B extends readonly unknown[], RB>(
  a: readonly [TaskRef<A, RA>, ...A],
  b: readonly [TaskRef<B, RB>, ...B],
): [RA, RB] {
  const ctx = workerContext();
  if (ctx !== undefined && ctx.inTask()) return ctx.join(a as never, b as never) as [RA, RB];
  return joinInline(a as never, b as never) as [RA, RB];
}

function callSide(side: readonly [TaskRef, ...unknown[]]): unknown {
  const [ref, ...args] = side;
  const fn = lookupTask(ref.module, ref.name) ?? requireTask(ref.module, ref.name);
  const out = (fn as (...a: unknown[]) => unknown)(...args);
  if (out !== null && typeof out === 'object' && typeof (out as { then?: unknown }).then === 'function') {
    throw new TypeError(`join: task '${ref.name}' returned a promise; both sides of a join must be synchronous`);
  }
  return out;
}

/** @internal Runs both sides on this thread; throws after both ran when either threw. */
export function joinInline(a: readonly [TaskRef, ...unknown[]], b: readonly [TaskRef, ...unknown[]]): [unknown, unknown] {
  let ra: unknown;
  let rb: unknown;
  let errA: { e: unknown } | undefined;
  let errB: { e: unknown } | undefined;
  try {
    ra = callSide(a);
  } catch (e) {
    errA = { e };
  }
  try {
    rb = callSide(b);
  } catch (e) {
    errB = { e };
  }
  if (errA !== undefined) throw errA.e;
  if (errB !== undefined) throw errB.e;
  return [ra, rb];
}

/**
 * Runs a registered task on the work-stealing pool from anywhere: inside a worker task it
 * goes through the worker's own deque (stealable by idle workers, never through the main
 * thread); elsewhere it uses the current runtime's `exec`.
 *
 * Use it in task modules that fan out asynchronously; for synchronous divide and conquer,
 * `join` is cheaper.
 *
 * *Cancellation*: inside a worker task the sub-task belongs to the task that called
 * `exec` (an `async function` task, also after its awaits): when that task is aborted,
 * the worker aborts the sub-task too (its `currentTaskSignal()` aborts; one not started
 * yet does not start) and this promise rejects with `TaskAbortedError`, so the caller
 * stops at its `await`. Outside a worker, the same rules as `rt.exec` apply.
 *
 * @example
 * ```ts
 * import { defineTasks, exec } from 'zokio';
 * export const tasks = defineTasks(import.meta.url, {
 *   square(x: number): number { return x * x; },
 *   async sumOfSquares(xs: number[]): Promise<number> {
 *     const parts = await Promise.all(xs.map((x) => exec(tasks.square, x)));
 *     return parts.reduce((s, v) => s + v, 0);
 *   },
 * });
 * ```
 */
export function exec<const A extends readonly unknown[], R>(ref: TaskRef<A, R>, ...args: A): Promise<Awaited<R>>;
/**
 * {@link exec} with options: `exec({ signal }, ref, ...args)`.
 *
 * *Cancellation*: aborting `signal` rejects the call with its reason and aborts the
 * sub-task (its `currentTaskSignal()` aborts; one not started yet does not start), on top
 * of what aborting the calling task does (see the first form). Outside a worker it is
 * `rt.exec({ signal }, ref, ...args)`.
 */
export function exec<const A extends readonly unknown[], R>(options: NestedExecOptions, ref: TaskRef<A, R>, ...args: A): Promise<Awaited<R>>;
export function exec(...call: unknown[]): Promise<unknown> {
  const first = call[0];
  const options = isTaskRef(first) ? undefined : (first as NestedExecOptions | undefined);
  const ref = (options === undefined ? first : call[1]) as TaskRef;
  if (!isTaskRef(ref) || (options !== undefined && (typeof options !== 'object' || options === null))) {
    return Promise.reject(new TypeError('exec: expected (ref, ...args) or ({ signal }, ref, ...args), where ref comes from defineTasks'));
  }
  const args = call.slice(options === undefined ? 1 : 2);
  const ctx = workerContext();
  if (ctx !== undefined) return ctx.exec(ref, args, options?.signal);
  const rt = currentRuntimeObject() as { exec?: (...call: unknown[]) => Promise<unknown> };
  if (typeof rt.exec !== 'function') return Promise.reject(new NotImplementedError('exec on a runtime without workers'));
  return options === undefined ? rt.exec(ref, ...args) : rt.exec(options, ref, ...args);
}

/** Options of {@link exec} in its `(options, ref, ...args)` form. */
export interface NestedExecOptions {
  /** Aborts the call and the sub-task. */
  readonly signal?: AbortSignal;
}
