/**
 * Argument checks shared by the sync primitives. Each throws a `ZokioError` with code
 * `ZOKIO_ERR_INVALID_ARGUMENT` whose message names the argument and the rule, before any
 * state is touched, so a bad call leaves the primitive as it was.
 */
import { ZokioError } from '../../errors.js';

/** Largest capacity or permit count the primitives accept: 2^30. */
export const MAX_COUNT = 2 ** 30;

/** @internal Throws unless `value` is an integer in [min, MAX_COUNT]. */
export function checkCount(value: unknown, name: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_COUNT) {
    throw new ZokioError(
      'ZOKIO_ERR_INVALID_ARGUMENT',
      `${name} must be an integer from ${min} to ${MAX_COUNT} (received ${typeof value === 'number' ? String(value) : typeof value})`,
    );
  }
  return value;
}

/** @internal A resolved `Promise<void>` shared by every fast path that has nothing to wait for. */
export const RESOLVED: Promise<void> = Promise.resolve();
