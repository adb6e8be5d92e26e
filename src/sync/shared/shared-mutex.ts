/**
 * `SharedMutex`: a lock in a SharedArrayBuffer, usable from the main thread and every
 * worker at once.
 *
 * Implementation note. One Int32 word with Drepper's futex-mutex states
 * (`0` free, `1` held, `2` held with waiters):
 *
 * ```
 *   lock:   CAS 0→1, else set 2 and wait while the word is 2, retry with CAS 0→2
 *   unlock: sub 1; if it was 2, store 0 and wake one waiter
 * ```
 *
 * Async waits use `Atomics.waitAsync`; `lockSync` (workers only) uses `Atomics.wait`.
 */
import { ZokioError } from '../../errors.js';
import { waitWord, waitWordSync } from './atomics-wait.js';
import { SHARED_KIND_FIELD } from './shared-kind.js';

const STATE = 0;
const KIND = 'SharedMutex';

/** Options for {@link SharedMutex.lock}. */
export interface SharedLockOptions {
  /** Stops waiting when this signal aborts. */
  readonly signal?: AbortSignal;
}

/** The cloneable form of a {@link SharedMutex}. */
export interface SharedMutexHandle {
  /** Marks the clone as a shared SharedMutex so the worker side rebuilds it over the same memory. */
  readonly [SHARED_KIND_FIELD]: 'SharedMutex';
  /** The shared memory holding the lock state; cloning keeps it shared. */
  readonly buffer: SharedArrayBuffer;
}

/** Proof of holding a {@link SharedMutex}; `release()` or `using` unlocks. */
export interface SharedMutexGuard extends Disposable {
  /** Whether this guard still holds the lock. */
  readonly held: boolean;
  /** Unlocks. Calling it again does nothing. */
  release(): void;
  /** Same as `release()`, for `using`. */
  [Symbol.dispose](): void;
}

class Guard implements SharedMutexGuard {
  #i32: Int32Array | undefined;

  constructor(i32: Int32Array) {
    this.#i32 = i32;
  }

  get held(): boolean {
    return this.#i32 !== undefined;
  }

  release(): void {
    const i32 = this.#i32;
    if (i32 === undefined) return;
    this.#i32 = undefined;
    if (Atomics.sub(i32, STATE, 1) !== 1) {
      Atomics.store(i32, STATE, 0);
      Atomics.notify(i32, STATE, 1);
    }
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

/**
 * A mutual-exclusion lock shared by threads. It protects memory the threads share (a
 * SharedArrayBuffer region, a file), not a JavaScript value.
 *
 * @example
 * ```ts
 * import { SharedMutex } from 'zokio/sync';
 * const mutex = new SharedMutex();
 * const counter = new Int32Array(new SharedArrayBuffer(4));
 * await mutex.withLock(() => {
 *   counter[0] = counter[0]! + 1; // no other thread is inside
 * });
 * // in a worker: SharedMutex.from(handle).lockSync().release();
 * ```
 *
 * *Ordering*: not FIFO across threads.
 *
 * *Cancellation*: `lock({ signal })` stops waiting when the signal aborts and holds
 * nothing (the lock is taken only by a successful compare-exchange, after which it
 * returns); a wake-up the aborted waiter may have consumed is passed on.
 *
 * *Lifetime*: while an async wait is pending it keeps its thread's event loop alive, as a
 * pending socket read does (another thread may still wake it); abort it to let the thread end.
 */
export class SharedMutex {
  /** Marks this object as shared memory for worker-task arguments. */
  readonly [SHARED_KIND_FIELD] = KIND;
  /** The shared memory (4 bytes). */
  readonly buffer: SharedArrayBuffer;
  readonly #i32: Int32Array;

  /** @param buffer @internal an existing mutex's memory (use {@link SharedMutex.from}). */
  constructor(buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new SharedArrayBuffer(4);
    this.#i32 = new Int32Array(this.buffer);
  }

  /** Rebuilds a mutex over the memory of `handle` (a structured-clone copy). */
  static from(handle: SharedMutexHandle | { readonly buffer: SharedArrayBuffer }): SharedMutex {
    if (!(handle.buffer instanceof SharedArrayBuffer) || handle.buffer.byteLength !== 4) {
      throw new ZokioError('ZOKIO_ERR_INVALID_ARGUMENT', 'SharedMutex.from needs the handle of a SharedMutex');
    }
    return new SharedMutex(handle.buffer);
  }

  /** Whether some thread holds the lock right now (a snapshot). */
  get isLocked(): boolean {
    return Atomics.load(this.#i32, STATE) !== 0;
  }

  /** Takes the lock if it is free now; otherwise `undefined`. */
  tryLock(): SharedMutexGuard | undefined {
    return Atomics.compareExchange(this.#i32, STATE, 0, 1) === 0 ? new Guard(this.#i32) : undefined;
  }

  /**
   * Waits (without blocking the thread) for the lock.
   *
   * *Cancellation*: see the class comment.
   */
  async lock(options?: SharedLockOptions): Promise<SharedMutexGuard> {
    const i32 = this.#i32;
    let c = Atomics.compareExchange(i32, STATE, 0, 1);
    if (c === 0) return new Guard(i32);
    do {
      if (c === 2 || Atomics.compareExchange(i32, STATE, 1, 2) !== 0) await waitWord(i32, STATE, 2, options?.signal);
    } while ((c = Atomics.compareExchange(i32, STATE, 0, 2)) !== 0);
    return new Guard(i32);
  }

  /** Blocks this worker thread until the lock is free. Throws on the main thread. */
  lockSync(): SharedMutexGuard {
    const i32 = this.#i32;
    let c = Atomics.compareExchange(i32, STATE, 0, 1);
    if (c === 0) return new Guard(i32);
    do {
      if (c === 2 || Atomics.compareExchange(i32, STATE, 1, 2) !== 0) waitWordSync(i32, STATE, 2, 'SharedMutex.lockSync');
    } while ((c = Atomics.compareExchange(i32, STATE, 0, 2)) !== 0);
    return new Guard(i32);
  }

  /**
   * Runs `fn` while holding the lock and unlocks when it settles.
   *
   * *Cancellation*: the signal only cancels the wait for the lock.
   */
  async withLock<R>(fn: () => R | PromiseLike<R>, options?: SharedLockOptions): Promise<Awaited<R>> {
    const guard = await this.lock(options);
    try {
      return await fn();
    } finally {
      guard.release();
    }
  }
}
