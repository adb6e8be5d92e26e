/**
 * The pool task that runs a remote job's task on a worker thread, and `reportProgress`.
 *
 * Implementation note. `serveTasks` does not exec the job's task directly: it execs
 * `runner.run(jobId, module, name, args)`, which loads the task in the pool thread and
 * calls it inside an AsyncLocalStorage scope that knows the job id. `reportProgress(value)`
 * reads that scope and posts `{ jobId, value }` on a `BroadcastChannel`, which the
 * `serveTasks` thread of the same process hears and writes to the job (BullMQ's
 * `updateProgress`), from where it reaches the caller's `onProgress`. The task keeps its
 * `currentTaskSignal()` (the runner's record is the task's record) and its trace context.
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { BroadcastChannel } from 'node:worker_threads';
import type { TaskRef } from '../scheduler/task-ref.js';
import { isThenable } from '../scheduler/thenable.js';
import { loadTask, lookupTask, type TaskFunction } from '../scheduler/task-registry.js';

/** The channel progress reports travel on inside one process. */
export const PROGRESS_CHANNEL = 'zokio.distributed.progress';

/** What `reportProgress` posts. */
export interface ProgressMessage {
  readonly jobId: string;
  readonly value: unknown;
}

const currentJob = new AsyncLocalStorage<string>();
let channel: BroadcastChannel | undefined;

/**
 * Reports progress of the remote task running now; the caller's `onProgress` receives
 * `value` (any `Cloneable`). Outside a task run by `serveTasks` it does nothing.
 *
 * @example
 * ```ts
 * import { defineTasks } from 'zokio';
 * import { reportProgress } from 'zokio/distributed';
 * export const tasks = defineTasks(import.meta.url, {
 *   resize(count: number): number {
 *     for (let i = 0; i < count; i++) reportProgress({ done: i + 1, of: count });
 *     return count;
 *   },
 * }, { id: 'images' });
 * ```
 *
 * *Ordering*: reports of one task arrive in the order they were made; the last one may
 * arrive after the result.
 */
export function reportProgress(value: unknown): void {
  const jobId = currentJob.getStore();
  if (jobId === undefined) return;
  channel ??= new BroadcastChannel(PROGRESS_CHANNEL);
  channel.unref();
  channel.postMessage({ jobId, value } satisfies ProgressMessage);
}

/**
 * What the runner returns: the task's result, and how long its synchronous run took in
 * ms ({@link ASYNC} when it returned a promise), which `serveTasks` uses to decide where
 * the task's next jobs run.
 */
export type Ran = readonly [value: unknown, syncMs: number];

/** The `syncMs` of a task that returned a promise: its later work is not measured. */
export const ASYNC = -1;

/** @internal The runner's signature: arguments are whatever the task takes. */
export type RunTask = (jobId: string, module: string, name: string, args: readonly unknown[], loadOnly: boolean) => Ran | typeof LOADED | Promise<Ran | typeof LOADED>;

/** What the runner returns when it had to load the module first (see {@link run}). */
export const LOADED = '\u0000zokio.runner.loaded' as const;

/**
 * Calls the task synchronously when its module is loaded in this thread, so that the
 * task's first statements see this record's `currentTaskSignal()` (which holds only until
 * the first `await`). Otherwise it loads the module and returns {@link LOADED}: the caller
 * submits the job again, and the thread that runs it next has the module (or loads it).
 * With `loadOnly` false it calls the task after loading anyway (the last attempt).
 */
export const run: RunTask = (jobId, module, name, args, loadOnly) => {
  const fn = lookupTask(module, name);
  if (fn !== undefined) return runTimed(jobId, fn, args);
  return loadTask(module, name).then((loaded) => (loadOnly ? LOADED : runTimed(jobId, loaded, args)));
};

/**
 * Calls `fn(...args)` inside the job's scope (for `reportProgress`) and times its
 * synchronous part; a promise it returns settles the result, with {@link ASYNC} as time.
 */
export function runTimed(jobId: string, fn: TaskFunction, args: readonly unknown[]): Ran | Promise<Ran> {
  const t0 = performance.now();
  const out = currentJob.run(jobId, () => (fn as (...a: readonly unknown[]) => unknown)(...args));
  const ms = performance.now() - t0;
  return isThenable(out) ? Promise.resolve(out).then((value): Ran => [value, ASYNC]) : [out, ms];
}

/**
 * @internal The runner task by reference: `runner-task.ts` registers it when a pool thread
 * imports that module (in the bundle, `distributed-runner.js` beside this file), so that
 * importing `zokio/distributed` registers nothing.
 */
export function runnerRef(): TaskRef<Parameters<RunTask>, ReturnType<RunTask>> {
  const file = import.meta.url.endsWith('.ts') ? './runner-task.ts' : './distributed-runner.js';
  ref ??= Object.freeze({ module: new URL(file, import.meta.url).href, name: 'run', id: RUNNER_ID }) as TaskRef;
  return ref as never;
}

/** @internal The stable id the runner task registers under. */
export const RUNNER_ID = 'zokio.runner';
let ref: TaskRef | undefined;
