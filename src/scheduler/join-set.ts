/**
 * A set of tasks joined in the order they finish (tokio's `JoinSet`).
 *
 * Implementation note. Each spawned task gets one reaction on its handle (`then` with a
 * fulfilled and a rejected callback); it runs when the task settles, in settle order, and
 * either hands the result straight to the oldest parked `joinNext` or appends it to a ring
 * of finished results. So `joinNext` order is completion order by construction, and the
 * reaction also marks every handle as observed: a failed task in a set is never an
 * unhandled rejection. Parked `joinNext` calls sit in a {@link WaiterQueue}, which makes
 * them task-aware (an aborted task stops at its `await set.joinNext()`) and abortable by a
 * signal, like every other Zokio wait.
 */
import { abortReason } from './abort-reason.js';
import { currentRuntime } from './combinators.js';
import { failedFor, readyFor, type SpawnOptions, type Task, type TaskBody } from './task.js';
import { Ring } from '../sync/internal/ring.js';
import { Waiter, WaiterQueue, type AnyWaiter } from '../sync/internal/waiter-queue.js';

/** How a task of a {@link JoinSet} ended: its value, or why it failed or was aborted. */
export type JoinResult<T> =
  | {
      /** The task that finished; it has left the set. */
      readonly task: Task<T>;
      /** The task returned a value. */
      readonly status: 'fulfilled';
      /** What the task returned. */
      readonly value: T;
    }
  | {
      /** The task that finished; it has left the set. */
      readonly task: Task<T>;
      /** The task threw or was aborted. */
      readonly status: 'rejected';
      /** What the task threw, or a `TaskAbortedError` if it was aborted. */
      readonly reason: unknown;
    };

/** What a parked joiner wants (the `n` of its waiter): the result object, or the value itself. */
const SETTLED = 0;
const VALUE = 1;

/** Settles a joiner that wants `want` with `result`: the result object, or its value or rejection. */
function deliver<T>(want: number, result: JoinResult<T>, resolve: (value: unknown) => void, reject: (reason: unknown) => void): void {
  if (want === SETTLED) resolve(result);
  else if (result.status === 'fulfilled') resolve(result.value);
  else reject(result.reason);
}

/** Options for the waits of a {@link JoinSet}. */
export interface JoinOptions {
  /** Stops waiting (rejects with the signal's reason); the set and its tasks are unchanged. */
  readonly signal?: AbortSignal;
}

/**
 * A set of tasks whose results are taken in the order the tasks finish (tokio's `JoinSet`).
 * Use it for a dynamic fan-out: spawn as work arrives, handle each result as soon as it is
 * ready, and abort what is left when done.
 *
 * @example
 * ```ts
 * import { JoinSet, Runtime, sleep } from 'zokio';
 * const rt = Runtime.builder().build();
 * await rt.run(async () => {
 *   await using set = new JoinSet<number>();
 *   for (const ms of [30, 10, 20]) set.spawn(async () => (await sleep(ms), ms));
 *   for await (const ms of set) console.log(ms); // 10, 20, 30
 * });
 * await rt.shutdown();
 * ```
 *
 * *Ordering*: results come out in the order the tasks settled, whatever the spawn order;
 * parked `joinNext` calls are served first come, first served.
 *
 * *Cancellation*: an aborted `joinNext` (its signal, or the task it runs in being aborted)
 * takes nothing: the result it would have had stays for the next call. `abortAll` aborts
 * the tasks but keeps them in the set, so their outcomes can still be joined; disposing the
 * set (`await using`) aborts every task and waits until each has settled. At runtime
 * shutdown every task is aborted by the runtime and settles, so no `joinNext` hangs.
 */
export class JoinSet<T = unknown> implements AsyncIterable<T>, AsyncDisposable {
  /** Every task not yet joined, running or finished. */
  readonly #tasks = new Set<Task<T>>();
  /** Results of finished tasks nobody has taken yet, in completion order. */
  readonly #finished = new Ring<JoinResult<T>>(8);
  /**
   * Parked joiners; each gets a result, or `undefined` when the set became empty. A waiter's
   * `n` says what it wants: {@link SETTLED} the result object, {@link VALUE} the value itself
   * (or the rejection), so that `joinNext` needs no promise of its own on top.
   */
  readonly #waiters = new WaiterQueue<AnyWaiter>();

  /** Tasks in the set: running, or finished and not yet joined. */
  get size(): number {
    return this.#tasks.size;
  }

  /** True when no task is in the set. */
  get isEmpty(): boolean {
    return this.#tasks.size === 0;
  }

  /**
   * Spawns a task on the current runtime (inside `rt.run` or a task, else the default
   * runtime) and adds it to the set.
   *
   * *Cancellation*: `options.signal`, `task.abort()`, `abortAll()` and runtime shutdown
   * abort the task; its outcome is still joined.
   */
  spawn<U extends T>(body: TaskBody<U>, options?: SpawnOptions): Task<Awaited<U>> {
    const task = currentRuntime().spawn(body, options);
    this.add(task as unknown as Task<T>);
    return task;
  }

  /**
   * Adds a task spawned elsewhere (by `rt.spawn`, a scope) so that it is joined through this
   * set. Adding a task already in the set does nothing.
   */
  add(task: Task<T>): void {
    if (this.#tasks.has(task)) return;
    this.#tasks.add(task);
    task.then(
      (value) => this.#settled(task, { task, status: 'fulfilled', value }),
      (reason: unknown) => this.#settled(task, { task, status: 'rejected', reason }),
    );
  }

  #settled(task: Task<T>, result: JoinResult<T>): void {
    if (!this.#tasks.has(task)) return; // detached
    const waiter = this.#waiters.take();
    if (waiter === undefined) {
      this.#finished.push(result);
      return;
    }
    this.#tasks.delete(task);
    deliver(waiter.n, result, waiter.resolve, waiter.reject);
    // That was the last task: other parked joiners will get nothing more.
    if (this.#tasks.size === 0) this.#wakeEmpty();
  }

  /** Resolves every parked joiner with `undefined`: the set is empty. */
  #wakeEmpty(): void {
    for (let w = this.#waiters.take(); w !== undefined; w = this.#waiters.take()) w.resolve(undefined);
  }

  /**
   * The next finished task's outcome, in completion order, without throwing; `undefined`
   * once the set is empty. Waits while tasks are in the set and none has finished.
   *
   * *Cancellation*: when `options.signal` aborts (or the task awaiting this is aborted) the
   * call rejects with the reason and takes nothing from the set.
   */
  joinNextSettled(options?: JoinOptions): Promise<JoinResult<T> | undefined> {
    return this.#join(SETTLED, options) as Promise<JoinResult<T> | undefined>;
  }

  /**
   * The next finished task's value, in completion order: rejects with the task's error if it
   * failed (a `TaskAbortedError` if it was aborted); `undefined` once the set is empty.
   * Waits while tasks are in the set and none has finished. Use {@link JoinSet.joinNextSettled}
   * when `T` itself may be `undefined`.
   *
   * *Cancellation*: as {@link JoinSet.joinNextSettled}.
   */
  joinNext(options?: JoinOptions): Promise<T | undefined> {
    return this.#join(VALUE, options) as Promise<T | undefined>;
  }

  /** The next result in the form `want` names (see `#waiters`): at once when one is ready or the set is empty, else parked. */
  #join(want: typeof SETTLED | typeof VALUE, options: JoinOptions | undefined): Promise<unknown> {
    // Ready answers go through readyFor/failedFor: a settled promise awaited in a task would
    // resume its body without Zokio knowing the task, and its next wait would miss an abort.
    const ready = this.tryJoinNext();
    if (ready !== undefined) {
      if (want === SETTLED) return readyFor(ready);
      return ready.status === 'fulfilled' ? readyFor(ready.value) : failedFor(ready.reason);
    }
    if (this.#tasks.size === 0) return readyFor(undefined);
    const signal = options?.signal;
    if (signal?.aborted) return failedFor(abortReason(signal));
    return this.#waiters.wait(new Waiter<unknown>(want, undefined), signal);
  }

  /** The outcome of a task that has already finished, in completion order, or `undefined` if none has. Never waits. */
  tryJoinNext(): JoinResult<T> | undefined {
    if (this.#finished.length === 0) return undefined;
    const result = this.#finished.shift();
    this.#tasks.delete(result.task);
    return result;
  }

  /**
   * Waits for every task and returns their values in completion order. When a task fails,
   * aborts and detaches the rest and rejects with that task's error (tokio's `join_all`).
   *
   * *Cancellation*: when `options.signal` aborts, rejects with its reason; the results
   * taken so far are lost, the tasks not yet joined stay in the set.
   */
  async joinAll(options?: JoinOptions): Promise<T[]> {
    const values: T[] = [];
    for (let r = await this.joinNextSettled(options); r !== undefined; r = await this.joinNextSettled(options)) {
      if (r.status === 'rejected') {
        this.abortAll(r.reason);
        this.detachAll();
        throw r.reason;
      }
      values.push(r.value);
    }
    return values;
  }

  /**
   * Aborts every task in the set (see `Task.abort`); they stay in the set, and their
   * outcomes (an abort error, or the value of one that finished first) are joined as usual.
   */
  abortAll(reason?: unknown): void {
    for (const task of this.#tasks) task.abort(reason);
  }

  /**
   * Empties the set without aborting anything: running tasks go on, their outcomes are
   * dropped (a failure is not reported as unhandled), finished outcomes not joined are
   * dropped. Parked `joinNext` calls resolve to `undefined`.
   */
  detachAll(): void {
    this.#tasks.clear();
    this.#finished.drain();
    this.#wakeEmpty();
  }

  /** The values of the tasks as they finish (see {@link JoinSet.joinNext}); a failed task's error ends the loop. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (let r = await this.joinNextSettled(); r !== undefined; r = await this.joinNextSettled()) {
      if (r.status === 'rejected') throw r.reason;
      yield r.value;
    }
  }

  /**
   * Aborts every task and waits until each has settled (outcomes are dropped). A task parked
   * on a foreign promise stops when that promise settles, so this waits for it too.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    this.abortAll();
    while ((await this.joinNextSettled()) !== undefined);
  }
}
