/**
 * The local executor: owns the tasks of one runtime on the calling thread.
 *
 * Implementation note. Spawning creates a `TaskRecord` and calls `startTask(record)` in the
 * store the task must run in (entering AsyncLocalStorage only when that store is not the
 * current one), which queues the body's start as a microtask in that store. Live
 * tasks are kept in an intrusive doubly linked list (`prev`/`next` of each record) for
 * O(1) insert and removal without a Set, walked only at shutdown.
 */
import { RuntimeClosedError } from '../errors.js';
import { contextStorage, type ContextStore } from '../runtime/context.js';
import { taskEndChannel, taskSpawnChannel } from '../trace/channels.js';
import { DONE, FAILED, PENDING, TaskRecord, startTask, type SpawnOptions, type Task, type TaskBody, type TaskOwner } from './task.js';

/** Counters of the local executor. */
export interface LocalTaskMetrics {
  /** Tasks spawned since the runtime started. */
  readonly spawned: number;
  /** Tasks spawned and not yet settled. */
  readonly alive: number;
  /** Tasks that returned a value. */
  readonly done: number;
  /** Tasks that threw. */
  readonly failed: number;
  /** Tasks aborted before finishing. */
  readonly aborted: number;
  /** Tasks queued and not yet started. */
  readonly queued: number;
}

/** @internal */
export class LocalExecutor implements TaskOwner {
  #first: TaskRecord | undefined = undefined;
  #closed = false;
  #idleWaiters: Array<() => void> = [];

  spawned = 0;
  alive = 0;
  done = 0;
  failed = 0;
  aborted = 0;

  get closed(): boolean {
    return this.#closed;
  }

  /** Creates a task owned by `owner` (this executor or a scope), running in `store`, and queues it. */
  spawn<T>(body: TaskBody<T>, options: SpawnOptions | undefined, owner: TaskOwner, store: ContextStore | undefined): Task<T> {
    if (this.#closed) throw new RuntimeClosedError('runtime is shutting down: cannot spawn new tasks');
    const record = new TaskRecord(owner, body as TaskBody<unknown>);
    this.spawned++;
    this.alive++;
    const first = this.#first;
    if (first !== undefined) {
      record.next = first;
      first.prev = record;
    }
    this.#first = record;
    const promise = store === undefined || contextStorage.getStore() === store ? startTask(record) : contextStorage.run(store, startTask, record);
    record.attachHandle(promise, options?.name);
    const signal = options?.signal;
    if (signal !== undefined) record.attachSignal(signal);
    if (taskSpawnChannel.hasSubscribers) taskSpawnChannel.publish({ id: record.id, name: record.name });
    return record.handle as Task<T>;
  }

  /** @internal Unlinks a settled task and counts it. */
  _taskSettled(record: TaskRecord): void {
    const prev = record.prev;
    const next = record.next;
    if (prev !== undefined) prev.next = next;
    else if (this.#first === record) this.#first = next;
    if (next !== undefined) next.prev = prev;
    record.prev = undefined;
    record.next = undefined;
    this.alive--;
    const state = record.state;
    if (state === DONE) this.done++;
    else if (state === FAILED) this.failed++;
    else this.aborted++;
    if (taskEndChannel.hasSubscribers) taskEndChannel.publish({ id: record.id, name: record.name, state: state === DONE ? 'done' : state === FAILED ? 'failed' : 'aborted' });
    if (this.alive === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Resolves when no task is alive. */
  whenIdle(): Promise<void> {
    if (this.alive === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops taking new tasks. */
  close(): void {
    this.#closed = true;
  }

  /** Aborts every live task with `reason`. */
  abortAll(reason: unknown): void {
    let record = this.#first;
    while (record !== undefined) {
      const next = record.next;
      record.abort(reason);
      record = next;
    }
  }

  /** @internal The newest live task (the list goes on through `next`), read by the console. */
  get firstLive(): TaskRecord | undefined {
    return this.#first;
  }

  #countPending(): number {
    let count = 0;
    for (let record = this.#first; record !== undefined; record = record.next) if (record.state === PENDING) count++;
    return count;
  }

  metrics(): LocalTaskMetrics {
    return {
      spawned: this.spawned,
      alive: this.alive,
      done: this.done,
      failed: this.failed,
      aborted: this.aborted,
      queued: this.#countPending(),
    };
  }
}
