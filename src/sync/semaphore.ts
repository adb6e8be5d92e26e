/**
 * `Semaphore`: a FIFO-fair counting semaphore (tokio's `sync::Semaphore`).
 *
 * Implementation note. The count of available permits is a plain number; callers that
 * cannot be served at once park in a {@link WaiterQueue}. A release adds permits and then
 * serves waiters from the head while the head's request fits, handing permits straight to
 * the waiter (they never pass through the free count, so no newcomer can barge in). The
 * uncontended path allocates only the permit and its resolved promise; a contended acquire
 * allocates the permit (which is also its waiter record) and one pending promise, and a
 * release resolves that promise in place, so the waiter resumes one microtask later.
 */
import { ClosedError, ZokioError } from '../errors.js';
import { abortReason } from '../scheduler/abort-reason.js';
import { checkCount, MAX_COUNT } from './internal/check.js';
import { noop, WaiterQueue, type AbortHook, type Parked } from './internal/waiter-queue.js';
import { resourceHook } from '../console/resource-hook.js';
import { readyFor, failedFor, rejectIfAborted } from '../scheduler/task.js';

/** Options for {@link Semaphore.acquire}. */
export interface AcquireOptions {
  /** Stops waiting when this signal aborts. */
  readonly signal?: AbortSignal;
}

/**
 * Permits held from a {@link Semaphore}. Give them back with `release()`, or let `using`
 * do it through `[Symbol.dispose]`.
 *
 * @example
 * ```ts
 * import { Semaphore } from 'zokio/sync';
 * const sem = new Semaphore(2);
 * {
 *   using permit = await sem.acquire();
 *   console.log(permit.permits); // 1
 * } // released here
 * ```
 */
export interface Permit extends Disposable {
  /** How many permits this object holds (0 once released or forgotten). */
  readonly permits: number;
  /** Gives the permits back to the semaphore. Calling it again does nothing. */
  release(): void;
  /** Drops the permits without giving them back: the semaphore shrinks by that many. */
  forget(): void;
  /**
   * Splits `n` permits off into a new `Permit` of the same semaphore, leaving
   * `permits - n` here (tokio's `SemaphorePermit::split`). Returns `undefined`, changing
   * nothing, when this object holds fewer than `n`.
   *
   * @throws `ZOKIO_ERR_INVALID_ARGUMENT` unless `n` is an integer from 1 to 2^30.
   */
  split(n: number): Permit | undefined;
  /**
   * Moves every permit `other` holds into this one; `other` is left holding none. Both
   * must come from the same semaphore.
   *
   * @throws `ZOKIO_ERR_INVALID_ARGUMENT` when `other` belongs to another semaphore, is this
   * permit, or this permit was already released (nothing changes).
   */
  merge(other: Permit): void;
  /** Same as `release()`, for `using`. */
  [Symbol.dispose](): void;
}

/**
 * @internal The permit is also the waiter record while its acquire waits (it carries the
 * queue's {@link Parked} fields): one allocation per contended acquire besides the promise.
 *
 * Resolving a promise with an object makes V8 look up `then` on it (is it a thenable?),
 * with a generic, uncached property lookup along the prototype chain. That lookup is a
 * measurable share of a handoff (bench/sync.bench.ts), so the permit is a plain class
 * rather than a `Waiter` subclass (one prototype less), and its prototype answers `then`
 * itself with a non-enumerable `undefined` (its static block), so the lookup stops there instead of
 * walking on to `Object.prototype`. `permit.then` reads `undefined` either way.
 */
class SemaphorePermit implements Permit, Parked<SemaphorePermit> {
  static {
    // Not a thenable: see the class comment. (In the class, so the module does nothing else when loaded.)
    Object.defineProperty(this.prototype, 'then', { value: undefined, writable: true });
  }

  sem: Semaphore | undefined;
  n: number;
  resolve: (permit: SemaphorePermit) => void = noop;
  reject: (reason: unknown) => void = noop;
  pending = true;
  abort: AbortHook | undefined = undefined;

  constructor(sem: Semaphore, n: number) {
    this.sem = sem;
    this.n = n;
  }

  get permits(): number {
    return this.sem === undefined ? 0 : this.n;
  }

  release(): void {
    const sem = this.sem;
    if (sem === undefined) return;
    this.sem = undefined;
    sem.unsafeRelease(this.n);
  }

  forget(): void {
    this.sem = undefined;
  }

  split(n: number): Permit | undefined {
    checkCount(n, 'n', 1);
    const sem = this.sem;
    if (sem === undefined || n > this.n) return undefined;
    this.n -= n;
    if (this.n === 0) this.sem = undefined;
    return new SemaphorePermit(sem, n);
  }

  merge(other: Permit): void {
    const sem = this.sem;
    if (!(other instanceof SemaphorePermit) || other === this || sem === undefined || (other.sem !== undefined && other.sem !== sem)) {
      throw new ZokioError('ZOKIO_ERR_INVALID_ARGUMENT', 'merge needs another live permit of the same semaphore');
    }
    if (other.sem === undefined) return;
    this.n += other.n;
    other.sem = undefined;
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

/**
 * A counting semaphore: limits how many callers hold permits at once.
 *
 * Use it to bound concurrency (connections, parallel downloads, memory budgets). For one
 * holder at a time around a value, {@link Mutex} is simpler; across worker threads use
 * `SharedSemaphore`.
 *
 * @example
 * ```ts
 * import { Semaphore } from 'zokio/sync';
 * const sem = new Semaphore(4);
 * const permit = await sem.acquire();
 * try {
 *   // at most 4 callers run here at once
 * } finally {
 *   permit.release();
 * }
 * const body = await sem.withPermit(async () => 'done');
 * ```
 *
 * *Ordering*: FIFO-fair. Waiters are served strictly in arrival order; a waiter at the head
 * that asks for more permits than are free blocks smaller requests behind it (no
 * starvation of large requests), and a caller arriving while others wait queues behind them
 * even if enough permits are free.
 *
 * *Cancellation*: `acquire(n, { signal })` stops waiting when the signal aborts: the caller
 * is removed from the queue, rejected with the signal's reason, and holds no permit. If it
 * was at the head, the waiters behind it are served at once if the free permits now fit
 * them. Permits handed to a waiter before the abort fired stay with it (the promise has
 * already resolved), so no permit is leaked or counted twice.
 */
export class Semaphore {
  /** Largest number of permits a semaphore can hold: 2^30. */
  static readonly MAX_PERMITS = MAX_COUNT;

  #permits: number;
  #closed = false;
  readonly #queue = new WaiterQueue<SemaphorePermit>();

  /** @param permits initial number of free permits: an integer from 0 to 2^30. */
  constructor(permits: number) {
    this.#permits = checkCount(permits, 'permits', 0);
    resourceHook?.(this);
  }

  /**
   * Number of permits a caller could take right now. While a request waits, the free
   * permits are set aside for the request at the head of the queue (they are too few for
   * it, or it would have been served), so this reads 0 until that request is served or
   * cancelled; then they count again.
   */
  get available(): number {
    return this.#queue.live > 0 ? 0 : this.#permits;
  }

  /** @internal Free permits including those set aside for the head waiter (RwLock reads it). */
  get unsafeFree(): number {
    return this.#permits;
  }

  /** Number of callers waiting in `acquire`. */
  get waiting(): number {
    return this.#queue.live;
  }

  /** Whether {@link Semaphore.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Waits for `n` permits and returns them as a {@link Permit}.
   *
   * Rejects with `ClosedError` (`ZOKIO_ERR_CLOSED`) if the semaphore is or gets closed, and
   * throws `ZOKIO_ERR_INVALID_ARGUMENT` if `n` is not an integer from 1 to 2^30.
   *
   * *Cancellation*: see the class comment; an aborted wait holds no permit.
   *
   * @param n permits to take. @default 1
   */
  acquire(n = 1, options?: AcquireOptions): Promise<Permit> {
    const aborted = rejectIfAborted();
    if (aborted !== undefined) return aborted;
    if (n !== 1) checkCount(n, 'n', 1);
    if (this.#closed) return failedFor(new ClosedError('semaphore closed'));
    const signal = options?.signal;
    if (signal !== undefined && signal.aborted) return failedFor(abortReason(signal));
    const queue = this.#queue;
    if (queue.live === 0 && this.#permits >= n) {
      this.#permits -= n;
      return readyFor(new SemaphorePermit(this, n));
    }
    if (signal === undefined) return queue.park(new SemaphorePermit(this, n));
    return queue.wait(new SemaphorePermit(this, n), signal, this.#onCancel);
  }

  /**
   * Takes `n` permits if they are free now and nobody waits ahead; otherwise returns
   * `undefined`. Never waits.
   *
   * @param n permits to take. @default 1
   */
  tryAcquire(n = 1): Permit | undefined {
    if (n !== 1) checkCount(n, 'n', 1);
    if (this.#closed || this.#queue.live > 0 || this.#permits < n) return undefined;
    this.#permits -= n;
    return new SemaphorePermit(this, n);
  }

  /**
   * Runs `fn` while holding `n` permits and releases them when it settles.
   *
   * *Cancellation*: the signal only cancels the wait for permits; once `fn` runs it is up to
   * `fn` to stop. Permits are released whether `fn` resolves or throws.
   */
  async withPermit<R>(fn: () => R | PromiseLike<R>, options?: AcquireOptions & { readonly permits?: number }): Promise<Awaited<R>> {
    const permit = await this.acquire(options?.permits ?? 1, options);
    try {
      return await fn();
    } finally {
      permit.release();
    }
  }

  /**
   * Adds `n` permits (also what a {@link Permit.release} does) and serves waiters that now
   * fit, in FIFO order. Adding to a closed semaphore only raises the count.
   */
  addPermits(n: number): void {
    checkCount(n, 'n', 0);
    const total = this.#permits + n;
    if (total > MAX_COUNT) checkCount(total, 'available permits after addPermits', 0);
    this.#permits = total;
    if (this.#queue.live > 0) this.#serve();
  }

  /**
   * Removes up to `n` of the permits that are {@link Semaphore.available} now, for good,
   * and returns how many it removed (tokio's `forget_permits`). Permits held by callers,
   * and permits set aside for a waiting request, are not touched.
   *
   * @throws `ZOKIO_ERR_INVALID_ARGUMENT` unless `n` is an integer from 0 to 2^30.
   */
  forgetPermits(n: number): number {
    checkCount(n, 'n', 0);
    const k = Math.min(n, this.available);
    this.#permits -= k;
    return k;
  }

  /** @internal A permit's release: adds `n` (already checked) and serves waiters. */
  unsafeRelease(n: number): void {
    this.#permits += n;
    if (this.#queue.live > 0) this.#serve();
  }

  /**
   * Closes the semaphore: every waiter rejects with `ClosedError` (`ZOKIO_ERR_CLOSED`) and
   * later `acquire` calls reject at once; `tryAcquire` returns `undefined`. Permits already
   * held stay valid and can still be released.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.rejectAll(new ClosedError('semaphore closed'));
  }

  /**
   * Hands free permits to the head waiters while the head's request fits, dropping
   * cancelled waiters it meets at the head (the queue removes them lazily). The count
   * stays in a local across the loop (resolving runs no user code: a permit is not a
   * thenable), and the loop stops as soon as nothing is left to hand out. This is the
   * handoff of every contended release, hence the plain loop over the ring.
   */
  #serve(): void {
    const queue = this.#queue;
    const ring = queue.ring;
    let permits = this.#permits;
    while (ring.length > 0) {
      const w = ring.peek();
      if (!w.pending) {
        ring.shift();
        continue;
      }
      if (w.n > permits) break;
      ring.shift();
      queue.settle(w);
      permits -= w.n;
      w.resolve(w);
      if (permits === 0) break;
    }
    this.#permits = permits;
  }

  readonly #onCancel = (): void => {
    if (this.#queue.live > 0) this.#serve();
  };
}
