/**
 * `ObjectPool<T>`: reuses objects instead of allocating new ones.
 *
 * Implementation note: idle objects sit on a LIFO stack (a plain array, most recently
 * released on top, so the object handed out next is the one most likely still in cache).
 * A `WeakMap` from object to state tells an object in use from an idle one, from one the
 * pool let go (released while the stack was full) and from one the pool never gave out;
 * being weak, it keeps nothing alive. Every misuse is detected before any state changes.
 *
 * @module
 */
import { PoolError } from '../errors.js';
import { check, isPowerOfTwoIn, MEMORY_RULES, type CheckCapacity } from './rules.js';

/** Options of an {@link ObjectPool}. */
export interface ObjectPoolOptions<T> {
  /**
   * How many idle objects the pool keeps for reuse: a power of two from 1 to 16777216.
   * Objects released while this many are idle are let go (left to the GC).
   */
  readonly capacity: number;
  /**
   * Puts a released object back into its initial state before it is reused.
   * @default no reset (objects are reused as they were released)
   */
  readonly reset?: (obj: T) => void;
}

/** Counters of an {@link ObjectPool}. */
export interface ObjectPoolStats {
  /** Objects the pool accounts for now: `inUse + idle`. */
  readonly total: number;
  /** Objects handed out by `acquire()` and not yet released. */
  readonly inUse: number;
  /** Released objects waiting on the pool for reuse (at most `capacity`). */
  readonly idle: number;
  /** The most idle objects the pool keeps. */
  readonly capacity: number;
  /** `acquire()` calls served by a released object. */
  readonly hits: number;
  /** `acquire()` calls that had to call the factory. */
  readonly misses: number;
  /** Released objects let go (the stack already held `capacity`, `reset` threw, or `clear()`). */
  readonly dropped: number;
}

const IN_USE = 1;
const IDLE = 2;
const LET_GO = 3;

/**
 * A pool of reusable objects made by `factory`.
 *
 * When to use it: objects that are expensive to build (large arrays, objects holding typed
 * arrays or native handles) or that live long enough to leave V8's young generation.
 * For small short-lived objects plain `new` is often faster: V8's young-generation
 * allocation is a pointer bump (see `bench/memory.bench.ts`).
 *
 * `acquire()` returns a released object (a *hit*) or a new one from `factory` (a *miss*).
 * `release(obj)` runs `reset` and keeps the object for reuse, up to `capacity` idle
 * objects. Releasing an object twice, or one this pool never handed out, throws
 * `PoolError` (code `ZOKIO_ERR_POOL`) and leaves the pool as it was.
 *
 * The capacity must be a power of two; a literal that is not one does not compile, a
 * `number` is checked at run time (`ConfigError`, code `ZOKIO_ERR_CONFIG`).
 *
 * @example
 * ```ts
 * import { ObjectPool } from 'zokio/memory';
 * const pool = new ObjectPool(() => ({ xs: new Float64Array(128), n: 0 }), {
 *   capacity: 64,
 *   reset: (o) => { o.n = 0; },
 * });
 * const o = pool.acquire();
 * o.xs[o.n++] = 1.5;
 * pool.release(o);
 * console.log(pool.stats()); // { total: 1, inUse: 0, idle: 1, hits: 0, misses: 1, ... }
 * ```
 */
export class ObjectPool<T extends object, const N extends number = number> {
  /** The most idle objects this pool keeps. */
  readonly capacity: number;
  readonly #factory: () => T;
  readonly #reset: ((obj: T) => void) | undefined;
  readonly #idle: T[] = [];
  readonly #state = new WeakMap<T, number>();
  #inUse = 0;
  #hits = 0;
  #misses = 0;
  #dropped = 0;

  /**
   * @param factory Makes a new object when none is idle.
   * @param options `capacity` (power of two) and an optional `reset`.
   * @throws ConfigError (code `ZOKIO_ERR_CONFIG`) when `capacity` is not a power of two from 1 to 16777216.
   */
  constructor(factory: () => T, options: { readonly capacity: CheckCapacity<N>; readonly reset?: (obj: T) => void }) {
    const capacity = (options as { capacity: unknown } | undefined)?.capacity;
    check(typeof factory === 'function', 'factory', 'factory must be a function', factory);
    check(isPowerOfTwoIn(capacity, 1, 16777216), 'capacity', MEMORY_RULES.capacity, capacity);
    this.capacity = capacity as number;
    this.#factory = factory;
    this.#reset = options.reset;
  }

  /** Returns an idle object (a hit) or a new one from the factory (a miss). */
  acquire(): T {
    const idle = this.#idle;
    let obj: T;
    if (idle.length > 0) {
      obj = idle.pop()!;
      this.#hits++;
    } else {
      obj = this.#factory();
      if (typeof obj !== 'object' && typeof obj !== 'function') {
        throw new PoolError(`ObjectPool factory must return an object (got ${obj === null ? 'null' : typeof obj})`);
      }
      this.#misses++;
    }
    this.#state.set(obj, IN_USE);
    this.#inUse++;
    return obj;
  }

  /**
   * Gives an object back: runs `reset`, then keeps it for reuse (or lets it go when
   * `capacity` objects are already idle).
   *
   * If `reset` throws, the object is let go (never reused) and the error is rethrown.
   * @throws PoolError (code `ZOKIO_ERR_POOL`) when `obj` was already released or never came from this pool; the pool is left unchanged.
   */
  release(obj: T): void {
    const state = this.#state.get(obj);
    if (state !== IN_USE) {
      throw new PoolError(
        state === undefined
          ? 'ObjectPool.release: this object was not acquired from this pool (foreign object)'
          : 'ObjectPool.release: this object was already released (double release)',
      );
    }
    this.#inUse--;
    if (this.#reset !== undefined) {
      try {
        this.#reset(obj);
      } catch (err) {
        this.#state.set(obj, LET_GO);
        this.#dropped++;
        throw err;
      }
    }
    if (this.#idle.length < this.capacity) {
      this.#state.set(obj, IDLE);
      this.#idle.push(obj);
    } else {
      this.#state.set(obj, LET_GO);
      this.#dropped++;
    }
  }

  /** True when `obj` was handed out by this pool and not yet released. */
  owns(obj: T): boolean {
    return this.#state.get(obj) === IN_USE;
  }

  /** Drops every idle object (objects in use stay valid and can still be released). */
  clear(): void {
    for (const obj of this.#idle) this.#state.set(obj, LET_GO);
    this.#dropped += this.#idle.length;
    this.#idle.length = 0;
  }

  /** A snapshot of the pool's counters. */
  stats(): ObjectPoolStats {
    const idle = this.#idle.length;
    return {
      total: this.#inUse + idle,
      inUse: this.#inUse,
      idle,
      capacity: this.capacity,
      hits: this.#hits,
      misses: this.#misses,
      dropped: this.#dropped,
    };
  }
}
