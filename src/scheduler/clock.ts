/**
 * Clocks: where a runtime's time comes from and what wakes its timer wheel.
 *
 * Implementation note. A runtime's timers part asks its clock for one {@link Alarm} and
 * keeps it set to the wheel's next deadline. {@link SystemClock} backs the alarm with one
 * host `setTimeout`, replaced only when the wanted time changes and ref'd only while a
 * timer that keeps the process alive is armed. The virtual clock of `zokio/testing`
 * implements the same interface and moves time only when a test (or its idle detector)
 * says so.
 */

/**
 * One wake-up request from a timer wheel to its clock. `set` replaces the previous
 * request; the clock calls the alarm's `onWake(now)` once its time reaches `atMs`.
 */
export interface Alarm {
  /**
   * Asks for a wake-up at `atMs` (clock time, ms). `keepAlive` says whether the pending
   * wake-up keeps the process alive (like a ref'd `setTimeout`).
   */
  set(atMs: number, keepAlive: boolean): void;
  /** Cancels the pending wake-up, if any. */
  clear(): void;
}

/**
 * The source of time for a runtime: every `sleep`, `timeout`, `deadline` and `interval`
 * reads `now()` from it, and its alarms wake the runtime's timer wheel.
 *
 * Use {@link SystemClock} (the default) in programs and `VirtualClock` from
 * `zokio/testing` in tests.
 *
 * @example
 * ```ts
 * import { SystemClock, type Clock } from 'zokio';
 * const clock: Clock = new SystemClock();
 * const alarm = clock.alarm((now) => console.log('woke at', now));
 * alarm.set(clock.now() + 5, true);
 * ```
 */
export interface Clock {
  /** Current time in ms; never goes backwards. */
  now(): number;
  /** Creates an alarm that calls `onWake(now)` when the clock reaches the time it is set to. */
  alarm(onWake: (now: number) => void): Alarm;
}

/** Longest delay Node's setTimeout accepts; longer waits re-arm when they wake. */
const MAX_HOST_DELAY = 2 ** 31 - 1;

/** An alarm on one host `setTimeout`. */
class HostAlarm implements Alarm {
  readonly #onWake: (now: number) => void;
  #handle: NodeJS.Timeout | undefined = undefined;
  #at = NaN;
  #keepAlive = true;

  constructor(onWake: (now: number) => void) {
    this.#onWake = onWake;
  }

  set(atMs: number, keepAlive: boolean): void {
    if (atMs !== this.#at || this.#handle === undefined) {
      if (this.#handle !== undefined) clearTimeout(this.#handle);
      const delay = Math.min(MAX_HOST_DELAY, Math.max(0, Math.ceil(atMs - performance.now())));
      this.#handle = setTimeout(this.#fire, delay);
      this.#at = atMs;
      this.#keepAlive = true;
    }
    if (keepAlive !== this.#keepAlive) {
      if (keepAlive) this.#handle.ref();
      else this.#handle.unref();
      this.#keepAlive = keepAlive;
    }
  }

  clear(): void {
    if (this.#handle !== undefined) clearTimeout(this.#handle);
    this.#handle = undefined;
    this.#at = NaN;
  }

  readonly #fire = (): void => {
    this.#handle = undefined;
    this.#at = NaN;
    this.#onWake(systemNow());
  };
}

/** `performance.now()` read once per synchronous run of JavaScript; -1 when stale. */
let cachedNow = -1;
function expireNow(): void {
  cachedNow = -1;
}

/** A fresh `performance.now()`, which also becomes the cached time of this synchronous run. */
function systemNow(): number {
  if (cachedNow < 0) queueMicrotask(expireNow);
  cachedNow = performance.now();
  return cachedNow;
}

/**
 * The real clock: `performance.now()` for time, one host `setTimeout` per alarm.
 *
 * Every runtime uses it unless a test installs a `VirtualClock` (`zokio/testing`).
 *
 * `now()` reads `performance.now()` once per synchronous run of JavaScript and reuses it
 * until the next microtask checkpoint, the way Node's `setTimeout` measures delays from
 * libuv's cached loop time: scheduling a million timers in one loop reads the clock once
 * (a read costs about 100 ns, more than inserting a timer). A timer started late in a long
 * synchronous block therefore counts its delay from the start of that block, as Node's do.
 *
 * @example
 * ```ts
 * import { SystemClock } from 'zokio';
 * const clock = new SystemClock();
 * const started = clock.now();
 * console.log(clock.now() - started >= 0); // true
 * ```
 */
export class SystemClock implements Clock {
  /** `performance.now()` (ms since the process started, monotonic), cached until the next microtask checkpoint. */
  now(): number {
    if (cachedNow < 0) {
      cachedNow = performance.now();
      queueMicrotask(expireNow);
    }
    return cachedNow;
  }

  /** An alarm backed by one host `setTimeout`, re-armed only when its time changes. */
  alarm(onWake: (now: number) => void): Alarm {
    return new HostAlarm(onWake);
  }
}

/** @internal The one SystemClock every runtime shares by default. */
export const systemClock: Clock = new SystemClock();
