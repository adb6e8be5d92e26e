/**
 * `RwLock<T>`: many readers or one writer (tokio's `sync::RwLock`).
 *
 * Implementation note. Built the way tokio builds it: a FIFO {@link Semaphore} with
 * `maxReaders` permits (2^29 by default). A reader takes one permit, a writer takes all of
 * them. Because the semaphore serves strictly in order, a waiting writer blocks every
 * reader that arrives after it: writers are never starved by a stream of readers.
 */
import { ClosedError, ZokioError } from '../errors.js';
import { checkCount } from './internal/check.js';
import { Semaphore, type Permit } from './semaphore.js';
import { resourceHook } from '../console/resource-hook.js';
import { taskWait } from '../scheduler/task.js';

/** Options for {@link RwLock.read} and {@link RwLock.write}. */
export interface RwLockOptions {
  /** Stops waiting when this signal aborts. */
  readonly signal?: AbortSignal;
}

/** Options for the {@link RwLock} constructor. */
export interface RwLockConfig {
  /**
   * Most read guards held at once; a `read()` past it waits like a writer would. An
   * integer from 1 to 2^29.
   * @default 2^29
   */
  readonly maxReaders?: number;
}

const MAX_READERS = 2 ** 29;

/**
 * Shared read access to an {@link RwLock}'s value; `release()` or `using` gives it back.
 *
 * @example
 * ```ts
 * import { RwLock } from 'zokio/sync';
 * const config = new RwLock({ port: 80 });
 * {
 *   using r = await config.read();
 *   console.log(r.value.port);
 * }
 * ```
 */
export class RwLockReadGuard<T> implements Disposable {
  #lock: RwLock<T> | undefined;
  #permit: Permit;

  /** @internal */
  constructor(lock: RwLock<T>, permit: Permit) {
    this.#lock = lock;
    this.#permit = permit;
    lock.unsafeReaders++;
  }

  /** The protected value (read-only by convention). Throws once released. */
  get value(): T {
    if (this.#lock === undefined) throw new ClosedError('read guard used after release');
    return this.#lock.unsafeValue;
  }

  /** Gives up read access. Calling it again does nothing. */
  release(): void {
    const lock = this.#lock;
    if (lock === undefined) return;
    this.#lock = undefined;
    lock.unsafeReaders--;
    this.#permit.release();
  }

  /** Same as {@link RwLockReadGuard.release}, for `using`. */
  [Symbol.dispose](): void {
    this.release();
  }
}

/**
 * Exclusive write access to an {@link RwLock}'s value; `release()` or `using` gives it back.
 *
 * @example
 * ```ts
 * import { RwLock } from 'zokio/sync';
 * const config = new RwLock({ port: 80 });
 * {
 *   using w = await config.write();
 *   w.value = { port: 8080 };
 * }
 * ```
 */
export class RwLockWriteGuard<T> implements Disposable {
  #lock: RwLock<T> | undefined;
  #permit: Permit;

  /** @internal */
  constructor(lock: RwLock<T>, permit: Permit) {
    this.#lock = lock;
    this.#permit = permit;
    lock.unsafeWriter = true;
  }

  /** The protected value. Throws once released. */
  get value(): T {
    if (this.#lock === undefined) throw new ClosedError('write guard used after release');
    return this.#lock.unsafeValue;
  }

  /** Replaces the protected value. Throws `ClosedError` once released. */
  set value(next: T) {
    if (this.#lock === undefined) throw new ClosedError('write guard used after release');
    this.#lock.unsafeValue = next;
  }

  /** Gives up write access. Calling it again does nothing. */
  release(): void {
    const lock = this.#lock;
    if (lock === undefined) return;
    this.#lock = undefined;
    lock.unsafeWriter = false;
    this.#permit.release();
  }

  /**
   * Turns this write guard into a read guard without letting a writer in between
   * (tokio's `RwLockWriteGuard::downgrade`): readers waiting at the head of the queue are
   * admitted at once, alongside the returned guard. This guard is released by the call.
   *
   * @throws `ClosedError` once released.
   */
  downgrade(): RwLockReadGuard<T> {
    const lock = this.#lock;
    if (lock === undefined) throw new ClosedError('write guard used after release');
    this.#lock = undefined;
    lock.unsafeWriter = false;
    const read = new RwLockReadGuard(lock, this.#permit.split(1)!);
    this.#permit.release(); // the other maxReaders - 1 permits: waiting readers get in
    return read;
  }

  /** Same as {@link RwLockWriteGuard.release}, for `using`. */
  [Symbol.dispose](): void {
    this.release();
  }
}

/**
 * A reader-writer lock around a value: any number of readers at once, or one writer.
 *
 * Use it for data read often and replaced rarely across `await`s (a config, a routing
 * table). If most accesses write, a {@link Mutex} is cheaper.
 *
 * @example
 * ```ts
 * import { RwLock } from 'zokio/sync';
 * const table = new RwLock(new Map<string, number>());
 * await table.withWrite((m) => m.set('a', 1));
 * const a = await table.withRead((m) => m.get('a'));
 * ```
 *
 * *Ordering*: FIFO with writer preference over later readers: requests are served in
 * arrival order, consecutive readers together; once a writer waits, readers that arrive
 * after it wait until that writer has had its turn.
 *
 * *Cancellation*: `read`/`write` with `{ signal }` stop waiting when the signal aborts:
 * the caller leaves the queue holding nothing (an aborted writer no longer blocks the
 * readers behind it), and rejects with the signal's reason.
 */
export class RwLock<T> {
  /** @internal The value, for guards; use a guard instead. */
  unsafeValue: T;
  /** @internal Read guards held, kept by the guards. */
  unsafeReaders = 0;
  /** @internal Whether a write guard is held, kept by the guard. */
  unsafeWriter = false;
  readonly #sem: Semaphore;
  readonly #max: number;

  /**
   * @throws `ZOKIO_ERR_INVALID_ARGUMENT` unless `config.maxReaders` is an integer from 1 to
   * 2^29.
   */
  constructor(value: T, config?: RwLockConfig) {
    const max = config?.maxReaders ?? MAX_READERS;
    checkCount(max, 'maxReaders', 1);
    if (max > MAX_READERS) throw new ZokioError('ZOKIO_ERR_INVALID_ARGUMENT', `maxReaders must be an integer from 1 to ${MAX_READERS} (received ${max})`);
    this.#max = max;
    this.unsafeValue = value;
    this.#sem = new Semaphore(this.#max);
    resourceHook?.(this);
  }

  /** Most read guards held at once (the `maxReaders` option). */
  get maxReaders(): number {
    return this.#max;
  }

  /** Number of read guards held right now (0 while a writer holds the lock). */
  get readers(): number {
    return this.unsafeReaders;
  }

  /** Whether a writer holds the lock right now. */
  get isWriteLocked(): boolean {
    return this.unsafeWriter;
  }

  /**
   * Waits for shared read access.
   *
   * *Cancellation*: see the class comment.
   */
  read(options?: RwLockOptions): Promise<RwLockReadGuard<T>> {
    return taskWait(this.#sem.acquire(1, options).then((permit) => new RwLockReadGuard(this, permit)));
  }

  /**
   * Waits for exclusive write access.
   *
   * *Cancellation*: see the class comment.
   */
  write(options?: RwLockOptions): Promise<RwLockWriteGuard<T>> {
    return taskWait(this.#sem.acquire(this.#max, options).then((permit) => new RwLockWriteGuard(this, permit)));
  }

  /** Read access if available now (no writer holds or waits); otherwise `undefined`. */
  tryRead(): RwLockReadGuard<T> | undefined {
    const permit = this.#sem.tryAcquire(1);
    return permit === undefined ? undefined : new RwLockReadGuard(this, permit);
  }

  /** Write access if nobody holds the lock or waits; otherwise `undefined`. */
  tryWrite(): RwLockWriteGuard<T> | undefined {
    const permit = this.#sem.tryAcquire(this.#max);
    return permit === undefined ? undefined : new RwLockWriteGuard(this, permit);
  }

  /** Runs `fn` with read access and releases it when `fn` settles. */
  async withRead<R>(fn: (value: T) => R | PromiseLike<R>, options?: RwLockOptions): Promise<Awaited<R>> {
    const guard = await this.read(options);
    try {
      return await fn(this.unsafeValue);
    } finally {
      guard.release();
    }
  }

  /** Runs `fn` with write access and releases it when `fn` settles. */
  async withWrite<R>(fn: (value: T) => R | PromiseLike<R>, options?: RwLockOptions): Promise<Awaited<R>> {
    const guard = await this.write(options);
    try {
      return await fn(this.unsafeValue);
    } finally {
      guard.release();
    }
  }
}
