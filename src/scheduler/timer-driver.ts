/**
 * The `timers` part of a runtime: one timer wheel, one clock, one alarm.
 *
 * Implementation note. The driver keeps its {@link Clock}'s alarm set to the wheel's
 * earliest deadline and moves it only when a new timer is due sooner, so scheduling a
 * timer is a wheel insert and a compare. When it wakes, the driver advances the wheel to
 * the clock's time, which fires every due timer, and sets the alarm to the wheel's next
 * deadline. The alarm keeps the process alive while at least one timer scheduled without
 * `unref` is armed. Building a driver arms nothing: the first timer sets the alarm.
 * The free functions (`sleep`, `timeout`, ...) are in `time.ts`; this module imports only
 * the part contract, the clock and the wheel, so the composition function can build it.
 *
 * @module
 */
import { RuntimeClosedError } from '../errors.js';
import type { PartHost, RuntimePart } from '../runtime/part.js';
import type { Alarm, Clock } from './clock.js';
import { TimerWheel, type TimerCallback, type TimerTarget } from './timer-wheel.js';

/** Counters of a runtime's timers, under `rt.metrics().timers`. */
export interface TimerMetrics {
  /** Timers armed now. */
  readonly armed: number;
  /** Armed timers that keep the process alive (scheduled without `unref`). */
  readonly keepingAlive: number;
  /** Timers fired since the runtime started. */
  readonly fired: number;
  /** Timers cancelled since the runtime started. */
  readonly cancelled: number;
  /** Times the clock woke the wheel. */
  readonly wakeups: number;
  /** Tick length of the wheel, in ms. */
  readonly resolutionMs: number;
}

/**
 * @internal The `timers` part of a runtime: one wheel, one clock, one alarm set to the
 * wheel's next deadline.
 */
export class TimerDriver implements RuntimePart {
  readonly name = 'timers';
  readonly wheel: TimerWheel;
  readonly clock: Clock;
  readonly #alarm: Alarm;
  /** Time the alarm is set to (Infinity: not set). */
  #armedAt = Infinity;
  #armedKeepAlive = false;
  #closed = false;
  #wakeups = 0;
  /** The last plain `sleep`: its deadline tick, timer id and promise (see {@link sleep}). */
  lastSleepTick = NaN;
  lastSleepId = -1;
  lastSleepPromise: Promise<void> | undefined = undefined;

  constructor(clock: Clock, resolutionMs: number) {
    this.clock = clock;
    this.wheel = new TimerWheel({ resolutionMs, startMs: Math.max(0, clock.now()) });
    this.#alarm = clock.alarm(this.#wake);
  }

  /** True once the runtime has shut its timers down. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Schedules `callback` at clock time `atMs`; returns the wheel id. */
  add(atMs: number, callback: TimerCallback | TimerTarget, unref: boolean): number {
    const wheel = this.wheel;
    if (wheel.size === 0) wheel.advance(this.clock.now()); // an empty wheel catches up for free
    const id = wheel.scheduleAtTrusted(atMs, callback, unref);
    // Hot path: a timer due after the alarm, with the alarm already keeping the process alive.
    // (Strict compares: `!field` on a boolean field compiles to a generic ToBoolean.)
    if (atMs < this.#armedAt || (unref === false && this.#armedKeepAlive === false)) this.#armFor(atMs);
    return id;
  }

  /** Sets the alarm to the tick of `atMs` if that is sooner, and refreshes its keep-alive. */
  #armFor(atMs: number): void {
    const resolution = this.wheel.resolutionMs;
    const at = Math.ceil(atMs / resolution) * resolution;
    this.#arm(at < this.#armedAt ? at : this.#armedAt);
  }

  /** Cancels a timer; false when it already fired or was cancelled. */
  cancel(id: number): boolean {
    const wheel = this.wheel;
    if (!wheel.cancel(id)) return false;
    if (wheel.refCount === 0) this.#noRefLeft(); // one test on the hot path (size 0 implies it)
    return true;
  }

  /** Cancels the timer of `target` at entry `index` (see `TimerWheel.cancelTarget`); false when it already fired or was cancelled. */
  cancelTarget(index: number, target: TimerTarget): boolean {
    const id = this.wheel.armedIdOf(index, target);
    return id >= 0 && this.cancel(id);
  }

  /** No timer without `unref` is armed any more: clear the alarm, or stop it keeping the process alive. */
  #noRefLeft(): void {
    if (this.wheel.size === 0) this.#disarm();
    else if (this.#armedKeepAlive === true) this.#arm(this.#armedAt);
  }

  metrics(): TimerMetrics {
    const wheel = this.wheel;
    return {
      armed: wheel.size,
      keepingAlive: wheel.refCount,
      fired: wheel.firedCount,
      cancelled: wheel.cancelledCount,
      wakeups: this.#wakeups,
      resolutionMs: wheel.resolutionMs,
    };
  }

  /**
   * Stops the timers: nothing fires any more, and every pending wait on them (a `sleep`,
   * `timeout`, `deadline`, `interval` tick) rejects with `RuntimeClosedError`: each armed
   * callback that takes an argument (and each timer target) is called once with a
   * rejected promise carrying that error.
   */
  shutdown(): void {
    this.#closed = true;
    const armed = this.wheel.clear();
    this.#disarm();
    if (cachedDriver === this) {
      cachedRuntime = undefined;
      cachedDriver = undefined;
    }
    if (armed.length === 0) return;
    const closed = Promise.reject(new RuntimeClosedError('runtime shut down while waiting on a timer'));
    closed.catch(noop); // the waits reject; this carrier promise itself is handled
    for (const callback of armed) {
      if (typeof callback !== 'function') callback.fire(closed);
      else if (callback.length >= 1) callback(closed);
    }
  }

  readonly #wake = (now: number): void => {
    this.#armedAt = Infinity;
    this.#wakeups++;
    try {
      this.wheel.advance(now);
    } finally {
      const next = this.wheel.nextDeadline();
      if (next === undefined) this.#disarm();
      else this.#arm(next);
    }
  };

  #arm(at: number): void {
    this.#armedAt = at;
    this.#armedKeepAlive = this.wheel.refCount > 0;
    this.#alarm.set(at, this.#armedKeepAlive);
  }

  #disarm(): void {
    this.#armedAt = Infinity;
    this.#armedKeepAlive = false;
    this.#alarm.clear();
  }
}

let cachedRuntime: object | undefined;
let cachedDriver: TimerDriver | undefined;

/** @internal The timers part of `runtime` (every runtime has one: the composition function builds it first). */
export function timerDriverOf(runtime: object): TimerDriver {
  if (runtime === cachedRuntime) return cachedDriver!;
  const driver = (runtime as PartHost).part<TimerDriver>('timers');
  if (driver === undefined) throw new Error('zokio: this runtime has no timers part');
  cachedRuntime = runtime;
  cachedDriver = driver;
  return driver;
}

/**
 * @internal Puts `runtime`'s timers on `clock` (a `VirtualClock` in tests). Must happen
 * before the runtime arms a timer. The new driver takes the old one's place in the
 * runtime's parts (and in the shutdown order).
 */
export function useClock(runtime: object, clock: Clock): void {
  const rt = runtime as PartHost;
  if (rt.closed) throw new RuntimeClosedError('runtime is shut down: cannot change its clock');
  const old = rt.part<TimerDriver>('timers');
  if (old !== undefined && old.wheel.size > 0) {
    throw new Error(`zokio: install the clock before the runtime arms a timer (${old.wheel.size} armed)`);
  }
  old?.shutdown();
  if (cachedRuntime === runtime) {
    cachedRuntime = undefined;
    cachedDriver = undefined;
  }
  rt.replacePart(new TimerDriver(clock, rt.config.timer.resolutionMs));
}

function noop(): void {}
