/**
 * `SharedSemaphore`: a counting semaphore in a SharedArrayBuffer, usable from the main
 * thread and every worker at once.
 *
 * Implementation note. Layout (Int32Array over 16 bytes):
 *
 * ```
 *   [0] PERMITS  free permits (compare-exchange to take, add to release)
 *   [1] SEQ      bumped by every release and by close; waiters wait on it
 *   [2] CLOSED   1 once closed
 *   [3] WAITERS  number of threads/tasks waiting (release skips notify when 0)
 * ```
 *
 * A release wakes every waiter (they may want different counts); each re-checks. Not
 * FIFO across threads.
 */
import { ClosedError, ZokioError } from '../../errors.js';
import { checkCount } from '../internal/check.js';
import type { Permit } from '../semaphore.js';
import { waitWord, waitWordSync } from './atomics-wait.js';
import { SHARED_KIND_FIELD } from './shared-kind.js';

const PERMITS = 0;
const SEQ = 1;
const CLOSED = 2;
const WAITERS = 3;
const KIND = 'SharedSemaphore';

/** Options for {@link SharedSemaphore.acquire}. */
export interface SharedAcquireOptions {
  /** Stops waiting when this signal aborts. */
  readonly signal?: AbortSignal;
}

/** The cloneable form of a {@link SharedSemaphore} (what a worker receives). */
export interface SharedSemaphoreHandle {
  /** Marks the clone as a shared SharedSemaphore so the worker side rebuilds it over the same memory. */
  readonly [SHARED_KIND_FIELD]: 'SharedSemaphore';
  /** The shared memory holding the permit count and wait words; cloning keeps it shared. */
  readonly buffer: SharedArrayBuffer;
}

class SharedPermit implements Permit {
  #sem: SharedSemaphore | undefined;
  #n: number;

  constructor(sem: SharedSemaphore, n: number) {
    this.#sem = sem;
    this.#n = n;
  }

  get permits(): number {
    return this.#sem === undefined ? 0 : this.#n;
  }

  release(): void {
    const sem = this.#sem;
    if (sem === undefined) return;
    this.#sem = undefined;
    sem.addPermits(this.#n);
  }

  forget(): void {
    this.#sem = undefined;
  }

  split(n: number): Permit | undefined {
    checkCount(n, 'n', 1);
    const sem = this.#sem;
    if (sem === undefined || n > this.#n) return undefined;
    this.#n -= n;
    if (this.#n === 0) this.#sem = undefined;
    return new SharedPermit(sem, n);
  }

  merge(other: Permit): void {
    const sem = this.#sem;
    if (!(other instanceof SharedPermit) || other === this || sem === undefined || (other.#sem !== undefined && other.#sem !== sem)) {
      throw new ZokioError('ZOKIO_ERR_INVALID_ARGUMENT', 'merge needs another live permit of the same semaphore');
    }
    if (other.#sem === undefined) return;
    this.#n += other.#n;
    other.#sem = undefined;
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

/**
 * A counting semaphore shared by threads: pass it to worker tasks (or through
 * `workerData` / `postMessage`) and every copy counts the same permits.
 *
 * Use it to bound something global across workers (open files, connections to one
 * host). Within one thread, {@link Semaphore} is much cheaper.
 *
 * @example
 * ```ts
 * import { SharedSemaphore } from 'zokio/sync';
 * const sem = new SharedSemaphore(2);
 * const permit = await sem.acquire();
 * try {
 *   // at most 2 holders across all threads
 * } finally {
 *   permit.release();
 * }
 * // in a worker: const same = SharedSemaphore.from(handle); same.acquireSync().release();
 * ```
 *
 * *Ordering*: not FIFO across threads: a release wakes every waiter and the first to
 * re-check wins.
 *
 * *Cancellation*: `acquire(n, { signal })` stops waiting when the signal aborts and holds
 * no permit (it takes permits only with a successful compare-exchange, after which it
 * returns). Sync waits in workers cannot be aborted.
 *
 * *Lifetime*: while an async wait is pending it keeps its thread's event loop alive, as a
 * pending socket read does (another thread may still wake it); abort it to let the thread end.
 */
export class SharedSemaphore {
  /** Marks this object as shared memory for worker-task arguments. */
  readonly [SHARED_KIND_FIELD] = KIND;
  /** The shared memory (16 bytes); every copy of this semaphore uses the same buffer. */
  readonly buffer: SharedArrayBuffer;
  readonly #i32: Int32Array;

  /**
   * @param permits initial free permits: an integer from 0 to 2^30 (ignored with `buffer`).
   * @param buffer @internal an existing semaphore's memory (use {@link SharedSemaphore.from}).
   */
  constructor(permits: number, buffer?: SharedArrayBuffer) {
    if (buffer === undefined) {
      checkCount(permits, 'permits', 0);
      buffer = new SharedArrayBuffer(16);
      new Int32Array(buffer)[PERMITS] = permits;
    }
    this.buffer = buffer;
    this.#i32 = new Int32Array(buffer);
  }

  /** Rebuilds a semaphore over the memory of `handle` (a structured-clone copy). */
  static from(handle: SharedSemaphoreHandle | { readonly buffer: SharedArrayBuffer }): SharedSemaphore {
    if (!(handle.buffer instanceof SharedArrayBuffer) || handle.buffer.byteLength !== 16) {
      throw new ZokioError('ZOKIO_ERR_INVALID_ARGUMENT', 'SharedSemaphore.from needs the handle of a SharedSemaphore');
    }
    return new SharedSemaphore(0, handle.buffer);
  }

  /** Free permits right now (a snapshot: other threads change it). */
  get available(): number {
    return Atomics.load(this.#i32, PERMITS);
  }

  /** Whether {@link SharedSemaphore.close} was called (from any thread). */
  get closed(): boolean {
    return Atomics.load(this.#i32, CLOSED) === 1;
  }

  /** Takes `n` permits if free now; otherwise `undefined`. Never waits. @param n @default 1 */
  tryAcquire(n = 1): Permit | undefined {
    if (n !== 1) checkCount(n, 'n', 1);
    const i32 = this.#i32;
    for (;;) {
      if (Atomics.load(i32, CLOSED) === 1) return undefined;
      const cur = Atomics.load(i32, PERMITS);
      if (cur < n) return undefined;
      if (Atomics.compareExchange(i32, PERMITS, cur, cur - n) === cur) return new SharedPermit(this, n);
    }
  }

  /**
   * Waits (without blocking the thread) for `n` permits. Rejects with `ClosedError` once
   * the semaphore is closed.
   *
   * *Cancellation*: see the class comment.
   *
   * @param n @default 1
   */
  async acquire(n = 1, options?: SharedAcquireOptions): Promise<Permit> {
    if (n !== 1) checkCount(n, 'n', 1);
    const i32 = this.#i32;
    for (;;) {
      const seq = Atomics.load(i32, SEQ);
      const permit = this.tryAcquire(n);
      if (permit !== undefined) return permit;
      if (Atomics.load(i32, CLOSED) === 1) throw new ClosedError('shared semaphore closed');
      Atomics.add(i32, WAITERS, 1);
      try {
        await waitWord(i32, SEQ, seq, options?.signal);
      } finally {
        Atomics.sub(i32, WAITERS, 1);
      }
    }
  }

  /**
   * Blocks this worker thread until `n` permits are free. Throws on the main thread (use
   * `acquire` there) and with `ClosedError` once closed.
   *
   * @param n @default 1
   */
  acquireSync(n = 1): Permit {
    if (n !== 1) checkCount(n, 'n', 1);
    const i32 = this.#i32;
    for (;;) {
      const seq = Atomics.load(i32, SEQ);
      const permit = this.tryAcquire(n);
      if (permit !== undefined) return permit;
      if (Atomics.load(i32, CLOSED) === 1) throw new ClosedError('shared semaphore closed');
      Atomics.add(i32, WAITERS, 1);
      try {
        waitWordSync(i32, SEQ, seq, 'SharedSemaphore.acquireSync');
      } finally {
        Atomics.sub(i32, WAITERS, 1);
      }
    }
  }

  /** Adds `n` permits (what a permit's `release()` does) and wakes waiters. */
  addPermits(n: number): void {
    checkCount(n, 'n', 0);
    const i32 = this.#i32;
    Atomics.add(i32, PERMITS, n);
    Atomics.add(i32, SEQ, 1);
    if (Atomics.load(i32, WAITERS) > 0) Atomics.notify(i32, SEQ);
  }

  /** Closes the semaphore for every thread: waiters reject (or throw) with `ClosedError`. */
  close(): void {
    const i32 = this.#i32;
    Atomics.store(i32, CLOSED, 1);
    Atomics.add(i32, SEQ, 1);
    Atomics.notify(i32, SEQ);
  }
}
