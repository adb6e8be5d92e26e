/**
 * Local tasks: units of async work on the calling thread.
 *
 * Implementation note. The handle a spawn returns is a *native* promise with four fields
 * added (`id`, `name`, `state`, `abort`). Awaiting a native promise takes V8's fast path;
 * awaiting a thenable class or a Promise subclass costs about twice as much per task on
 * Node 20 (measured: 1.85 M vs 1.4 M spawn+join/s), and spawn+join throughput is this
 * file's reason to exist. The bookkeeping lives in a `TaskRecord` that the body receives
 * as its context (`cx.signal`, `cx.id`, `cx.name`).
 *
 * A spawned task is queued and started from one microtask that drains the whole queue, so
 * N spawns cost one `queueMicrotask` and no body runs before the spawner yields (tokio's
 * semantics). Records are nodes of an intrusive doubly linked list of live tasks (O(1)
 * insert and remove, no Set). The AbortController behind `cx.signal` is created only when
 * a body reads it.
 *
 * Context: a task does not enter AsyncLocalStorage itself (that costs as much as the rest
 * of a spawn). It runs in the store that was current where it was spawned: the `rt.run`
 * store, or the store of the scope it was spawned into.
 */
import { TaskAbortedError } from '../errors.js';
import type { ContextStore } from '../runtime/context.js';

/** Where a task is in its life. */
export type TaskState = 'pending' | 'running' | 'done' | 'failed' | 'aborted';

/** @internal */ export const PENDING = 0;
/** @internal */ export const RUNNING = 1;
/** @internal */ export const DONE = 2;
/** @internal */ export const FAILED = 3;
/** @internal */ export const ABORTED = 4;
const STATE_NAMES: readonly TaskState[] = ['pending', 'running', 'done', 'failed', 'aborted'];

/** Options for spawning a task. */
export interface SpawnOptions {
  /** A name for reports, traces and errors. */
  readonly name?: string;
  /** Aborts the task when this signal aborts. */
  readonly signal?: AbortSignal;
}

/**
 * A handle to a task running on this thread: a native promise of the result with the
 * task's `id`, `name`, `state` and `abort`.
 *
 * @example
 * ```ts
 * import { Runtime } from 'zokio';
 * const rt = Runtime.builder().build();
 * const task = rt.spawn(async () => 21 * 2, { name: 'answer' });
 * console.log(task.state); // 'pending' until the spawner yields
 * console.log(await task, task.state); // 42 'done'
 * await rt.shutdown();
 * ```
 *
 * *Cancellation*: `abort(reason)` stops a task that has not started (it never runs) and
 * aborts `cx.signal` of one that is running. Awaiting an aborted task rejects with
 * `TaskAbortedError` (its `cause` is the reason) once the body has returned; a body that
 * honours its signal returns at its next await.
 */
export type Task<T = unknown> = Promise<T> & TaskHandle;

/** The fields a {@link Task} adds to its promise. */
export interface TaskHandle {
  /** Unique id of this task within the process. */
  readonly id: number;
  /** The name given at spawn time, if any. */
  readonly name: string | undefined;
  /** Where the task is in its life. */
  readonly state: TaskState;
  /** Aborts the task; no effect once it has finished. */
  abort(reason?: unknown): void;
}

/** What a task body receives: its identity and its abort signal. */
export interface TaskContext {
  /** The task's id. */
  readonly id: number;
  /** The task's name, if any. */
  readonly name: string | undefined;
  /** Aborted when the task is aborted, its scope fails or the runtime shuts down. */
  readonly signal: AbortSignal;
}

/** The body of a task. */
export type TaskBody<T> = (cx: TaskContext) => T | PromiseLike<T>;

/** @internal Something that owns tasks and is told when they finish (an executor or a scope). */
export interface TaskOwner {
  /** @internal */ _taskSettled(record: TaskRecord): void;
}

let nextTaskId = 1;

/** @internal `abort` of every task handle: one shared function, no closure per task. */
function abortHandle(this: { _record: TaskRecord }, reason?: unknown): void {
  this._record.abort(reason);
}

/** @internal The bookkeeping of one task; also the context its body receives. */
export class TaskRecord implements TaskContext {
  readonly id: number;
  readonly name: string | undefined;
  /** The store the body runs in (where it was spawned). */
  readonly store: ContextStore | undefined;
  readonly handle: Task<unknown>;
  state = PENDING;
  value: unknown = undefined;
  owner: TaskOwner;
  body: TaskBody<unknown> | undefined;
  resolve: ((value: unknown) => void) | undefined = undefined;
  reject: ((reason: unknown) => void) | undefined = undefined;
  controller: AbortController | undefined = undefined;
  userSignal: AbortSignal | undefined;
  onUserAbort: (() => void) | undefined = undefined;
  prev: TaskRecord | undefined = undefined;
  next: TaskRecord | undefined = undefined;

  constructor(owner: TaskOwner, body: TaskBody<unknown>, options: SpawnOptions | undefined, store: ContextStore | undefined) {
    this.id = nextTaskId++;
    this.name = options?.name;
    this.owner = owner;
    this.body = body;
    this.store = store;
    this.userSignal = options?.signal;
    const handle = new Promise<unknown>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    }) as Task<unknown> & { _record: TaskRecord; id: number; name: string | undefined; state: TaskState };
    handle._record = this;
    handle.id = this.id;
    handle.name = this.name;
    handle.state = 'pending';
    handle.abort = abortHandle;
    this.handle = handle;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.state === ABORTED) this.controller.abort(this.value);
    }
    return this.controller.signal;
  }

  /** A label for messages. */
  get label(): string {
    return this.name === undefined ? `#${this.id}` : `'${this.name}' (#${this.id})`;
  }

  /** Hooks the spawn-time signal up; called once the task is linked into its owner. */
  attachSignal(): void {
    const signal = this.userSignal;
    if (signal === undefined) return;
    if (signal.aborted) {
      this.abort(signal.reason);
      return;
    }
    this.onUserAbort = () => this.abort(signal.reason);
    signal.addEventListener('abort', this.onUserAbort, { once: true });
  }

  /** Runs the body; called by the executor's drain loop, inside the right store. */
  start(): void {
    if (this.state !== PENDING) return;
    this.setState(RUNNING);
    const body = this.body!;
    this.body = undefined;
    let result: unknown;
    try {
      result = body(this);
    } catch (err) {
      this.fail(err);
      return;
    }
    if (result instanceof Promise) {
      result.then(this.succeed.bind(this), this.fail.bind(this));
    } else if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
      Promise.resolve(result).then(this.succeed.bind(this), this.fail.bind(this));
    } else {
      this.succeed(result);
    }
  }

  succeed(value: unknown): void {
    if (this.state === ABORTED) {
      this.rejectQuietly(this.abortError());
      return;
    }
    this.finish(DONE, value);
    this.resolve!(value);
  }

  fail(err: unknown): void {
    if (this.state === ABORTED) {
      this.rejectQuietly(this.abortError());
      return;
    }
    this.finish(FAILED, err);
    this.rejectQuietly(err);
  }

  /** Aborts: a pending task never starts; a running one sees its signal abort. */
  abort(reason?: unknown): void {
    if (this.state > RUNNING) return;
    const wasPending = this.state === PENDING;
    this.finish(ABORTED, reason === undefined ? new TaskAbortedError(`task ${this.label} aborted`) : reason);
    if (wasPending) {
      this.body = undefined;
      this.rejectQuietly(this.abortError());
    }
  }

  /** The error an awaiter of an aborted task sees. */
  abortError(): TaskAbortedError {
    const reason = this.value;
    return reason instanceof TaskAbortedError ? reason : new TaskAbortedError(`task ${this.label} aborted`, { cause: reason });
  }

  /** Rejects the handle without making an unobserved failure an unhandled rejection. */
  rejectQuietly(err: unknown): void {
    this.handle.catch(noop);
    this.reject!(err);
  }

  setState(state: number): void {
    this.state = state;
    (this.handle as { state: TaskState }).state = STATE_NAMES[state]!;
  }

  /** Records the outcome, unhooks the user's signal, aborts ours, tells the owner. */
  finish(state: number, value: unknown): void {
    if (this.state > RUNNING) return;
    this.setState(state);
    this.value = value;
    if (this.onUserAbort !== undefined) {
      this.userSignal!.removeEventListener('abort', this.onUserAbort);
      this.onUserAbort = undefined;
    }
    if (state === ABORTED && this.controller !== undefined && !this.controller.signal.aborted) {
      this.controller.abort(value);
    }
    this.owner._taskSettled(this);
  }
}

function noop(): void {}

/** True when `value` is a task handle returned by `spawn`. */
export function isTask(value: unknown): value is Task<unknown> {
  return value instanceof Promise && (value as { _record?: unknown })._record instanceof TaskRecord;
}
