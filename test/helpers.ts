/** Test helpers shared by every suite. */
import { onTestFinished } from 'vitest';
import { createRuntime, type RuntimeBase } from '../src/index.js';
import { VirtualClock } from '../src/testing/index.js';

/** A promise with its resolve and reject exposed. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every queued microtask and one macrotask turn run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A promise that settles when `signal` aborts (never otherwise). */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/**
 * Waits until `check()` holds, polling every millisecond or so: a wait for another thread,
 * process or socket, never a time assertion. Throws naming `what` when it gives up.
 */
export async function until(check: () => boolean, what = 'the condition', maxPolls = 20_000): Promise<void> {
  for (let i = 0; i < maxPolls; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/**
 * A runtime on a paused VirtualClock (time moves only through `clock.advance`), shut down
 * (`timeoutMs: 0`) when the current test finishes.
 */
export function pausedRuntime(): { clock: VirtualClock; rt: RuntimeBase } {
  const clock = new VirtualClock();
  clock.pause();
  const rt = clock.install(createRuntime());
  onTestFinished(() => rt.shutdown({ timeoutMs: 0 }));
  return { clock, rt };
}
