/**
 * The local executor: runs tasks on the calling thread.
 *
 * Implementation note. Spawned tasks go into a run queue (a plain array used as a FIFO
 * with a moving head); the first spawn of a batch schedules one microtask that starts
 * every queued task, including tasks those tasks spawn, so N spawns in a row cost one
 * `queueMicrotask`. A task starts in the AsyncLocalStorage store it was spawned in; the
 * drain enters a store only when it differs from the one already current, because
 * entering one per task would cost as much as the rest of a spawn. Live tasks are kept in
 * an intrusive doubly linked list (`prev`/`next` of each record) for O(1) insert and
 * removal without a Set, walked only at shutdown.
 */
import { RuntimeClosedError } from '../errors.js';
import { contextStorage, type ContextStore } from '../runtime/context.js';
import { DONE, FAILED, TaskRecord, type SpawnOptions, type Task, type TaskBody, type TaskOwner } from './task.js';

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

function startRecord(record: TaskRecord): void {
  record.start();
}

/** @internal */
export class LocalExecutor implements TaskOwner {
  #queue: TaskRecord[] = [];
  #head = 0;
  #scheduled = false;
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
    const record = new TaskRecord(owner, body as TaskBody<unknown>, options, store);
    this.spawned++;
    this.alive++;
    const first = this.#first;
    if (first !== undefined) {
      record.next = first;
      first.prev = record;
    }
    this.#first = record;
    this.#queue.push(record);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#drain);
    }
    if (options?.signal !== undefined) record.attachSignal();
    return record.handle as Task<T>;
  }

  /** Starts every queued task, including ones queued while draining. */
  #drain = (): void => {
    const queue = this.#queue;
    const ambient = contextStorage.getStore();
    while (this.#head < queue.length) {
      const record = queue[this.#head]!;
      queue[this.#head++] = undefined as never;
      if (record.store === ambient) record.start();
      else contextStorage.run(record.store as ContextStore, startRecord, record);
    }
    this.#queue = [];
    this.#head = 0;
    this.#scheduled = false;
  };

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

  metrics(): LocalTaskMetrics {
    return {
      spawned: this.spawned,
      alive: this.alive,
      done: this.done,
      failed: this.failed,
      aborted: this.aborted,
      queued: this.#queue.length - this.#head,
    };
  }
}
