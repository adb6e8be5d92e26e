/**
 * The rules the memory pools' options follow, worded once (STYLE.md §4) for the compiler
 * and for the run-time checks, in the style of `src/runtime/config.ts`: an invalid literal
 * turns the parameter type into the rule's text, so the compiler's message quotes it; a
 * value known only at run time (`number`) passes the type check and is checked by the
 * constructor, which throws `ConfigError` (code `ZOKIO_ERR_CONFIG`) with the same text.
 *
 * @module
 */
import { ConfigError } from '../errors.js';

/**
 * The rules every memory option must follow, worded once for the compiler and the
 * constructors. Use it to match a `ConfigError` message or to show the rule to a user.
 *
 * @example
 * ```ts
 * import { MEMORY_RULES, ObjectPool } from 'zokio/memory';
 * const fromEnv = Number(process.env.POOL_CAPACITY ?? 1000);
 * try {
 *   new ObjectPool(() => ({}), { capacity: fromEnv });
 * } catch (err) {
 *   console.log((err as Error).message.includes(MEMORY_RULES.capacity)); // true
 * }
 * ```
 */
export const MEMORY_RULES = {
  /** The rule of `ObjectPool`'s `capacity` option. */
  capacity: 'capacity must be a power of two from 1 to 16777216',
  /** The rule of `SharedSlab`'s `blockSize` option (bytes per block). */
  blockSize: 'blockSize must be a multiple of 8 from 8 to 1048576',
  /** The rule of `SharedSlab`'s `blockCount` option. */
  blockCount: 'blockCount must be an integer from 1 to 1048576',
  /** The rule of `SharedSlab`'s `threadCache` option (blocks each thread may keep in its own cache). */
  threadCache: 'threadCache must be an integer from 0 to 1024',
  /** The rule of `BufferPool`'s `slabSize` option (bytes per slab). */
  slabSize: 'slabSize must be a power of two from 64 to 16777216',
  /** The rule of `BufferPool`'s `minSize` and `maxSize` options (the smallest and largest size class, in bytes). */
  sizeClass: 'minSize and maxSize must be powers of two from 8 to 16777216 with minSize <= maxSize',
} as const;

/** Powers of two from 2^0 to 2^24: the capacity literals an `ObjectPool` accepts at compile time. */
export type PowerOfTwoCapacity =
  | 1 | 2 | 4 | 8 | 16 | 32 | 64 | 128 | 256 | 512 | 1024 | 2048 | 4096 | 8192 | 16384 | 32768
  | 65536 | 131072 | 262144 | 524288 | 1048576 | 2097152 | 4194304 | 8388608 | 16777216;

// Same shape as the private `IsWide`/`Rule` helpers of src/runtime/config.ts (not exported there).
type IsWideNumber<T> = number extends T ? true : false;

/**
 * `N` when it is a power of two from 1 to 16777216 (or only known at run time), otherwise
 * the text of {@link MEMORY_RULES.capacity}, so the compiler says:
 * `Type '1000' is not assignable to type '"capacity must be a power of two from 1 to 16777216"'`.
 * Use it to give your own functions the same compile-time capacity check.
 *
 * @example
 * ```ts
 * import { ObjectPool, type CheckCapacity } from 'zokio/memory';
 * function pointPool<const N extends number>(capacity: CheckCapacity<N>) {
 *   return new ObjectPool(() => ({ x: 0, y: 0 }), { capacity: capacity as number });
 * }
 * pointPool(128); // compiles; pointPool(100) does not
 * ```
 */
export type CheckCapacity<N> = IsWideNumber<N> extends true ? N : N extends PowerOfTwoCapacity ? N : typeof MEMORY_RULES.capacity;

/** @internal True when `value` is an integer in `min..max`. */
export function isIntIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** @internal True when `value` is a power of two in `min..max`. */
export function isPowerOfTwoIn(value: unknown, min: number, max: number): value is number {
  return isIntIn(value, min, max) && (value & (value - 1)) === 0;
}

/** @internal Throws `ConfigError` for `field` with the rule's text unless `ok`. */
export function check(ok: boolean, field: string, rule: string, received: unknown): void {
  if (!ok) throw new ConfigError(field, rule, received);
}
