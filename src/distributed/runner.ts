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
import { loadTask, lookupTask } from '../scheduler/task-registry.js';

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

/** The runner's signature: arguments and result are whatever the task takes and returns. */
/** @internal */
export type RunTask = (jobId: string, module: string, name: string, args: readonly unknown[], loadOnly: boolean) => unknown;

/** What the runner returns when it had to load the module first (see {@link run}). */
export const LOADED = '\u0000zokio.runner.loaded';

/**
 * Calls the task synchronously when its module is loaded in this thread, so that the
 * task's first statements see this record's `currentTaskSignal()` (which holds only until
 * the first `await`). Otherwise it loads the module and returns {@link LOADED}: the caller
 * submits the job again, and the thread that runs it next has the module (or loads it).
 * With `loadOnly` false it calls the task after loading anyway (the last attempt).
 */
export const run: RunTask = (jobId, module, name, args, loadOnly) => {
  const fn = lookupTask(module, name) as ((...a: readonly unknown[]) => unknown) | undefined;
  if (fn !== undefined) return currentJob.run(jobId, () => fn(...args));
  return loadTask(module, name).then((loaded) => (loadOnly ? LOADED : currentJob.run(jobId, () => (loaded as (...a: readonly unknown[]) => unknown)(...args))));
};

/**
 * @internal The runner task by reference: `runner-task.ts` registers it when a pool thread
 * imports that module (in the bundle, `distributed-runner.js` beside this file), so that
 * importing `zokio/distributed` registers nothing.
 */
export function runnerRef(): TaskRef<Parameters<RunTask>, ReturnType<RunTask>> {
  const file = import.meta.url.endsWith('.ts') ? './runner-task.ts' : './distributed-runner.js';
  return (ref ??= Object.freeze({ module: new URL(file, import.meta.url).href, name: 'run', id: RUNNER_ID }) as never);
}

/** @internal The stable id the runner task registers under. */
export const RUNNER_ID = 'zokio.runner';
let ref: TaskRef | undefined;
