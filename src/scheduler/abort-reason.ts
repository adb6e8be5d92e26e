/**
 * The error a wait rejects with when its `AbortSignal` aborts: the signal's reason, or a
 * `TaskAbortedError` when it has none. Its own module so that channels, locks and I/O can
 * use it without importing the timer functions (and, through them, the default runtime).
 *
 * @module
 */
import { TaskAbortedError } from '../errors.js';

/** @internal The error a wait rejects with when its signal aborts. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new TaskAbortedError('aborted');
}
