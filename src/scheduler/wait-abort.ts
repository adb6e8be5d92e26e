/**
 * What aborts a pending wait that is not parked in a `WaiterQueue` (a socket read, a drain,
 * an accept, an fs slot): the caller's `signal` and the running task.
 *
 * Implementation note. A wait made while Zokio knows the running task (see `currentTask`)
 * is linked into that task's park list, so aborting the task rejects the wait with the
 * task's reason (abort at the next await, as the sync waits do), and settling the wait
 * resumes the task as the running task, so the body's next wait is task-aware too. Outside
 * a task and without a signal nothing is allocated: {@link WaitAbort.start} returns
 * `undefined` and the wait settles as it would anyway.
 *
 * @module
 * @internal
 */
import { ABORTED, currentTask, failedFor, linkPark, resumeTask, unlinkPark, type TaskPark, type TaskRecord } from './task.js';
import { abortReason } from './abort-reason.js';

/**
 * The reason a wait must not start: the caller's signal is aborted, or the running task is.
 * Undefined when it may wait.
 */
export function abortedBeforeWait(signal: AbortSignal | undefined): { reason: unknown } | undefined {
  if (signal?.aborted === true) return { reason: abortReason(signal) };
  const task = currentTask();
  if (task !== undefined && task.state === ABORTED) return { reason: task.value };
  return undefined;
}

/**
 * @internal The abort sources of one pending wait. `onAbort(reason)` runs at most once, when
 * the signal or the task aborts first; the wait calls {@link WaitAbort.settle} (or
 * {@link WaitAbort.detach}) when it ends on its own.
 */
export class WaitAbort implements TaskPark {
  parkTask: TaskRecord | undefined = undefined;
  parkPrev: TaskPark | undefined = undefined;
  parkNext: TaskPark | undefined = undefined;
  readonly #task: TaskRecord | undefined;
  readonly #signal: AbortSignal | undefined;
  #onAbort: ((reason: unknown) => void) | undefined;

  private constructor(task: TaskRecord | undefined, signal: AbortSignal | undefined, onAbort: (reason: unknown) => void) {
    this.#task = task;
    this.#signal = signal;
    this.#onAbort = onAbort;
    if (signal !== undefined) signal.addEventListener('abort', this, { once: true });
    if (task !== undefined) linkPark(task, this);
  }

  /**
   * Starts listening for `signal` and `task` (by default the running task; the caller
   * checked {@link abortedBeforeWait}). Undefined when there is neither: nothing can abort
   * the wait.
   */
  static start(signal: AbortSignal | undefined, onAbort: (reason: unknown) => void, task: TaskRecord | undefined = currentTask()): WaitAbort | undefined {
    if (task === undefined && signal === undefined) return undefined;
    return new WaitAbort(task, signal, onAbort);
  }

  /** The task the wait belongs to, if Zokio knew it. */
  get task(): TaskRecord | undefined {
    return this.#task;
  }

  /** The signal aborted. */
  handleEvent(): void {
    this.#fire(abortReason(this.#signal!));
  }

  /** The task aborted (it already unlinked this wait). */
  cancelForTask(reason: unknown): void {
    this.#fire(reason);
  }

  #fire(reason: unknown): void {
    const onAbort = this.#onAbort;
    if (onAbort === undefined) return;
    this.detach();
    onAbort(reason);
  }

  /** The wait ended on its own: stop listening (idempotent). */
  detach(): void {
    this.#onAbort = undefined;
    this.#signal?.removeEventListener('abort', this);
    if (this.parkTask !== undefined) unlinkPark(this);
  }

  /** Ends the wait with `settle(value)`, resuming the task (if any) as the running task. */
  settle<T>(settle: (value: T) => void, value: T): void {
    this.detach();
    if (this.#task === undefined) settle(value);
    else resumeTask(this.#task, settle, value);
  }
}

/**
 * Ends a wait with `settle(value)`: through `abort` when the wait has one (it stops
 * listening and resumes the task), directly when nothing could abort it.
 */
export function settleWait<T>(abort: WaitAbort | undefined, settle: (value: T) => void, value: T): void {
  if (abort === undefined) settle(value);
  else abort.settle(settle, value);
}

/**
 * @internal A wait on `work`, a promise that others may share (a child's exit, a request
 * body): `work` itself when nothing can abort the wait (no signal, no running task); else
 * a promise that settles as `work` does, or rejects first when `signal` or the running task
 * aborts. An abort ends this wait only: `work` goes on for its other waiters.
 */
export function abortableWait<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  const aborted = abortedBeforeWait(signal);
  if (aborted !== undefined) {
    // This caller no longer wants `work`'s outcome; a failure of it is not unhandled.
    work.catch(noop);
    return failedFor(aborted.reason);
  }
  if (signal === undefined && currentTask() === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const abort = WaitAbort.start(signal, reject);
    work.then(
      (value) => settleWait(abort, resolve, value),
      (err: unknown) => settleWait(abort, reject, err),
    );
  });
}

/**
 * @internal A signal for an operation handed to code that takes only a signal (a backend's
 * connect): it aborts when `signal` does or when the running task is aborted. Call `done()`
 * when the operation is over. Without a running task this is `signal` itself.
 */
export function taskAwareSignal(signal: AbortSignal | undefined): { readonly signal: AbortSignal | undefined; readonly done: () => void } {
  const task = currentTask();
  if (task === undefined) return { signal, done: noop };
  const controller = new AbortController();
  if (task.state === ABORTED) controller.abort(task.value);
  else if (signal?.aborted === true) controller.abort(abortReason(signal));
  else {
    const abort = WaitAbort.start(signal, (reason) => controller.abort(reason), task)!;
    return { signal: controller.signal, done: () => abort.detach() };
  }
  return { signal: controller.signal, done: noop };
}

function noop(): void {}
