/**
 * `Mutex<T>`: an async mutual-exclusion lock that owns the value it protects (tokio's
 * `sync::Mutex`).
 *
 * Implementation note. One `locked` flag plus a {@link WaiterQueue}. Unlocking with waiters
 * hands the lock straight to the head waiter (the flag stays set), so the lock is FIFO and
 * no newcomer can barge in between.
 */
import { ClosedError } from '../errors.js';
import { abortReason } from '../scheduler/time.js';
import { Waiter, WaiterQueue } from './internal/waiter-queue.js';
import { resourceHook } from '../console/resource-hook.js';
import { readyFor, failedFor, rejectIfAborted } from '../scheduler/task.js';

/** Options for {@link Mutex.lock}. */
export interface LockOptions {
  /** Stops waiting when this signal aborts. */
  readonly signal?: AbortSignal;
}

/**
 * Proof of holding a {@link Mutex}: read and replace the value through `value`, then
 * `release()` (or let `using` do it).
 *
 * @example
 * ```ts
 * import { Mutex } from 'zokio/sync';
 * const m = new Mutex({ hits: 0 });
 * {
 *   using guard = await m.lock();
 *   guard.value.hits++;
 * }
 * ```
 */
export interface MutexGuard<T> extends Disposable {
  /** The protected value. Reading or writing it throws `ClosedError` once the guard is released. */
  value: T;
  /** Whether this guard still holds the lock. */
  readonly held: boolean;
  /** Unlocks. Calling it again does nothing. */
  release(): void;
  /** Same as `release()`, for `using`. */
  [Symbol.dispose](): void;
}

/** @internal The guard is also the waiter record while its `lock` waits. */
class Guard<T> extends Waiter<Guard<T>> implements MutexGuard<T> {
  mutex: Mutex<T> | undefined;

  constructor(mutex: Mutex<T>) {
    super(1, undefined);
    this.mutex = mutex;
  }

  get value(): T {
    if (this.mutex === undefined) throw new ClosedError('mutex guard used after release');
    return this.mutex.unsafeValue;
  }

  set value(next: T) {
    if (this.mutex === undefined) throw new ClosedError('mutex guard used after release');
    this.mutex.unsafeValue = next;
  }

  get held(): boolean {
    return this.mutex !== undefined;
  }

  release(): void {
    const mutex = this.mutex;
    if (mutex === undefined) return;
    this.mutex = undefined;
    mutex.unsafeUnlock();
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

/**
 * An async lock around a value: one holder at a time, across `await`s.
 *
 * Use it when a critical section awaits (a file append, a request that must not
 * interleave). Code that never awaits inside the section needs no lock in JavaScript.
 *
 * @example
 * ```ts
 * import { Mutex } from 'zokio/sync';
 * const log = new Mutex<string[]>([]);
 * await log.withLock(async (lines) => {
 *   lines.push('one');
 * });
 * const guard = await log.lock();
 * try {
 *   guard.value = [...guard.value, 'two'];
 * } finally {
 *   guard.release();
 * }
 * ```
 *
 * *Ordering*: FIFO. Waiters get the lock in the order they called `lock`; a caller that
 * arrives while others wait queues behind them.
 *
 * *Cancellation*: `lock({ signal })` stops waiting when the signal aborts: the caller leaves
 * the queue, rejects with the signal's reason and holds nothing. A lock handed over before
 * the abort fired stays with the caller (its promise already resolved), so the lock can
 * neither leak nor be held twice.
 */
export class Mutex<T = void> {
  /** @internal The value, for guards; use a guard instead. */
  unsafeValue: T;
  #locked = false;
  readonly #queue = new WaiterQueue();

  constructor(value: T) {
    this.unsafeValue = value;
    resourceHook?.(this);
  }

  /** Whether somebody holds the lock right now. */
  get isLocked(): boolean {
    return this.#locked;
  }

  /** Number of callers waiting in `lock`. */
  get waiting(): number {
    return this.#queue.live;
  }

  /**
   * Waits for the lock and returns a guard.
   *
   * *Cancellation*: see the class comment.
   */
  lock(options?: LockOptions): Promise<MutexGuard<T>> {
    const aborted = rejectIfAborted();
    if (aborted !== undefined) return aborted;
    const signal = options?.signal;
    if (signal !== undefined && signal.aborted) return failedFor(abortReason(signal));
    if (!this.#locked) {
      this.#locked = true;
      return readyFor(new Guard(this));
    }
    return this.#queue.wait(new Guard(this), signal);
  }

  /** Takes the lock if it is free now; otherwise returns `undefined`. Never waits. */
  tryLock(): MutexGuard<T> | undefined {
    if (this.#locked) return undefined;
    this.#locked = true;
    return new Guard(this);
  }

  /**
   * Runs `fn` with the value while holding the lock, and unlocks when it settles.
   *
   * *Cancellation*: the signal only cancels the wait for the lock; the lock is released
   * whether `fn` resolves or throws.
   */
  async withLock<R>(fn: (value: T) => R | PromiseLike<R>, options?: LockOptions): Promise<Awaited<R>> {
    const guard = await this.lock(options);
    try {
      return await fn(this.unsafeValue);
    } finally {
      guard.release();
    }
  }

  /** @internal Called by a guard: hands the lock to the next waiter or frees it. */
  unsafeUnlock(): void {
    const w = this.#queue.take() as Guard<T> | undefined;
    if (w === undefined) this.#locked = false;
    else w.resolve(w);
  }
}
