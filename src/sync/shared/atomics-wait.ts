/**
 * Waiting on a SharedArrayBuffer word, for the Shared* primitives.
 *
 * Implementation note. Every Shared* primitive follows one pattern: read a sequence word,
 * check its condition, and if it does not hold, wait until the word changes from the value
 * read (so a change between the check and the wait is never missed). Async waits use
 * `Atomics.waitAsync` (never blocks the event loop, so it is what the main thread uses);
 * sync waits use `Atomics.wait` and are refused on the main thread.
 *
 * An aborted async wait cannot take back a `notify` it may already have consumed, so the
 * abort path notifies the word once more: other waiters wake, re-check and wait again.
 *
 * A pending async wait holds this thread's event loop open (`holdLoop`, see
 * `scheduler/wait-async.ts`) until it is woken or aborted.
 */
import { isMainThread } from 'node:worker_threads';
import { ZokioError } from '../../errors.js';
import { abortReason } from '../../scheduler/abort-reason.js';
import { failedFor } from '../../scheduler/task.js';
import { holdLoop, releaseLoop, waitAsync } from '../../scheduler/wait-async.js';

/** @internal Waits (async) until `i32[index]` is no longer `expected`, or `signal` aborts. */
export function waitWord(i32: Int32Array, index: number, expected: number, signal: AbortSignal | undefined): Promise<void> | undefined {
  if (signal !== undefined && signal.aborted) return failedFor(abortReason(signal));
  const result = waitAsync(i32, index, expected);
  if (!result.async) return undefined; // 'not-equal': changed already
  holdLoop();
  if (signal === undefined) return result.value.then(releaseLoop);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      releaseLoop(); // the wait itself stays pending until a notify; nobody awaits it now
      Atomics.notify(i32, index); // pass on a wake-up this waiter may have taken
      reject(abortReason(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    result.value.then(() => {
      if (signal.aborted) return; // released on abort
      signal.removeEventListener('abort', onAbort);
      releaseLoop();
      resolve();
    });
  });
}

/** @internal Waits (blocking this worker) until `i32[index]` is no longer `expected`. */
export function waitWordSync(i32: Int32Array, index: number, expected: number, what: string): void {
  if (isMainThread) {
    throw new ZokioError('ZOKIO_ERR_INVALID_ARGUMENT', `${what} blocks the thread and is only allowed in worker threads; use the async form on the main thread`);
  }
  Atomics.wait(i32, index, expected);
}

/**
 * @internal Takes the short internal lock at `i32[index]` (0 free, 1 held, 2 held with
 * waiters; Drepper's futex mutex). It guards a few loads and a copy, so it spins first and
 * then blocks briefly with `Atomics.wait`, also on the main thread.
 */
export function lockWord(i32: Int32Array, index: number): void {
  let c = Atomics.compareExchange(i32, index, 0, 1);
  if (c === 0) return;
  for (let spin = 0; spin < 64; spin++) {
    c = Atomics.compareExchange(i32, index, 0, 1);
    if (c === 0) return;
  }
  if (c !== 2) c = Atomics.exchange(i32, index, 2);
  while (c !== 0) {
    Atomics.wait(i32, index, 2, 1);
    c = Atomics.exchange(i32, index, 2);
  }
}

/** @internal Releases the lock taken by {@link lockWord}. */
export function unlockWord(i32: Int32Array, index: number): void {
  if (Atomics.sub(i32, index, 1) !== 1) {
    Atomics.store(i32, index, 0);
    Atomics.notify(i32, index, 1);
  }
}
