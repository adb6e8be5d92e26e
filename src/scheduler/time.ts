/**
 * Time functions on the current runtime: `sleep`.
 *
 * Implementation note. This first version sleeps on one host `setTimeout` per call; the
 * timer-wheel work replaces the engine behind the same signatures.
 */
import { TaskAbortedError } from '../errors.js';

/** Options for {@link sleep}. */
export interface SleepOptions {
  /** Rejects the sleep with the signal's reason when it aborts. */
  readonly signal?: AbortSignal;
  /**
   * Do not keep the process alive while this sleep is pending.
   * @default false
   */
  readonly unref?: boolean;
}

/** @internal Throws a RangeError naming `name` unless `ms` is a finite number >= 0. */
export function checkDelay(ms: unknown, name: string): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`${name} must be a finite number of milliseconds >= 0 (received ${String(ms)})`);
  }
  return ms;
}

/**
 * Resolves after `ms` milliseconds.
 *
 * @example
 * ```ts
 * import { sleep } from 'zokio';
 * await sleep(10);
 * ```
 *
 * *Cancellation*: when `signal` aborts, the timer is cancelled and the promise rejects with
 * the signal's reason (a `TaskAbortedError` if it has none).
 */
export function sleep(ms: number, options?: SleepOptions): Promise<void> {
  checkDelay(ms, 'ms');
  const signal = options?.signal;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(handle);
      reject(abortReason(signal!));
    };
    const handle = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (options?.unref) handle.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** @internal The error a wait rejects with when its signal aborts. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new TaskAbortedError('aborted');
}
