/**
 * `Atomics.waitAsync`, typed, and the one ref'd handle that keeps this thread's event loop
 * open while any of its async waits on a shared word is pending.
 *
 * Implementation note. A pending `Atomics.waitAsync` does not keep the event loop alive:
 * a thread awaiting one with no timer or I/O of its own ends before the notify comes (a
 * worker with exit code 13, an unsettled top-level await; the main thread silently). The
 * pool worker's async park and the Shared* primitives' async waits call {@link holdLoop}
 * when they start waiting and {@link releaseLoop} once when they stop, and one interval
 * per thread stays ref'd while the count is above zero, the way a pending socket read
 * keeps a process alive.
 *
 * @module
 */

/** What `Atomics.waitAsync` returns. */
export type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };

/** `Atomics.waitAsync` (Node 16+), typed here because the project's `lib` predates it. */
export const waitAsync = (Atomics as unknown as { waitAsync(i32: Int32Array, index: number, value: number, timeout?: number): WaitAsyncResult }).waitAsync;

let held = 0;
let keepAlive: ReturnType<typeof setInterval> | undefined;

function noop(): void {}

/** An async wait of this thread started: the event loop stays open until it is released. */
export function holdLoop(): void {
  if (held++ === 0) (keepAlive ??= setInterval(noop, 2 ** 31 - 1)).ref();
}

/** An async wait held by {@link holdLoop} ended (woken or abandoned). Call once per hold. */
export function releaseLoop(): void {
  if (--held === 0) keepAlive!.unref();
}

/** @internal How many async waits of this thread hold the event loop open (for tests). */
export function pendingWaits(): number {
  return held;
}
