/**
 * The virtual clock: time that moves only when a test says so, or when the runtime is idle.
 *
 * Implementation note. A runtime's timers part asks its clock for one alarm; here an alarm
 * is a record (`at`, `keepAlive`, `armed`). `advanceTo(t)` repeatedly takes the earliest
 * armed alarm at or before `t`, sets the time to it, wakes every alarm due by then (each
 * wake fires its wheel's due timers) and waits one `setImmediate` turn so that promise
 * continuations run and may schedule more timers; then it sets the time to `t`.
 * Auto-advance runs a `setImmediate` loop while an alarm is armed: after a few turns in a
 * row in which no alarm changed and no advance ran, the runtime is taken to be idle and
 * the time jumps to the earliest alarm.
 */
import { checkDelay, useClock } from '../scheduler/time.js';
import type { Alarm, Clock } from '../scheduler/clock.js';

/** Options for {@link VirtualClock}. */
export interface VirtualClockOptions {
  /**
   * The clock's time when created, in ms.
   * @default 0
   */
  readonly startMs?: number;
  /**
   * Jump to the next deadline whenever the runtime is idle (tokio's paused-clock
   * auto-advance). `pause()` turns it off, `resume()` on.
   * @default true
   */
  readonly autoAdvance?: boolean;
}

/** Quiet event-loop turns in a row after which auto-advance takes the runtime to be idle. */
const IDLE_TURNS = 3;

/** Resolves after one macrotask turn: every pending microtask has run by then. */
function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

class VirtualAlarm implements Alarm {
  at = Infinity;
  keepAlive = false;
  armed = false;
  readonly onWake: (now: number) => void;
  readonly #changed: () => void;

  constructor(onWake: (now: number) => void, changed: () => void) {
    this.onWake = onWake;
    this.#changed = changed;
  }

  set(atMs: number, keepAlive: boolean): void {
    this.at = atMs;
    this.keepAlive = keepAlive;
    this.armed = true;
    this.#changed();
  }

  clear(): void {
    this.armed = false;
    this.#changed();
  }
}

/**
 * A clock for tests: time stands still until {@link VirtualClock.advance} moves it, or,
 * with auto-advance on (the default), until the runtime has nothing else to do, at which
 * point it jumps to the next deadline. No test that uses it waits on wall-clock time.
 *
 * Install it on a runtime before the runtime arms a timer; from then on `sleep`,
 * `timeout`, `deadline`, `interval` and `now` on that runtime use virtual time.
 *
 * @example
 * ```ts
 * import { createRuntime, sleep } from 'zokio';
 * import { VirtualClock } from 'zokio/testing';
 *
 * const clock = new VirtualClock();
 * const rt = clock.install(createRuntime());
 * clock.pause(); // time moves only on advance()
 * const done = rt.run(async () => {
 *   await sleep(1_000);
 *   await sleep(500);
 *   return clock.now();
 * });
 * await clock.advance(1_500); // fires both sleeps, in order, without waiting
 * console.log(await done); // 1500
 * await rt.shutdown();
 * ```
 *
 * *Ordering*: `advance` fires due timers in deadline order, ties in schedule order,
 * including timers that callbacks and continuations schedule during the advance.
 */
export class VirtualClock implements Clock {
  #now: number;
  #auto: boolean;
  readonly #alarms = new Set<VirtualAlarm>();
  #advancing = 0;
  #activity = 0;
  #seen = -1;
  #quiet = 0;
  #idleLoop: NodeJS.Immediate | undefined = undefined;

  constructor(options?: VirtualClockOptions) {
    this.#now = options?.startMs === undefined ? 0 : checkDelay(options.startMs, 'startMs');
    this.#auto = options?.autoAdvance ?? true;
  }

  /** The virtual time in ms. */
  now(): number {
    return this.#now;
  }

  /** True while auto-advance is off (time moves only through `advance`). */
  get paused(): boolean {
    return !this.#auto;
  }

  /** @internal Part of {@link Clock}: alarms are what runtimes' timer wheels set. */
  alarm(onWake: (now: number) => void): Alarm {
    const alarm = new VirtualAlarm(onWake, this.#changed);
    this.#alarms.add(alarm);
    return alarm;
  }

  /**
   * Puts `runtime`'s timers on this clock and returns the runtime. Call it before the
   * runtime arms a timer (right after building it).
   *
   * @throws Error when the runtime already has timers armed; RuntimeClosedError when it is shut down.
   */
  install<R extends object>(runtime: R): R {
    useClock(runtime, this);
    return runtime;
  }

  /** Turns auto-advance off: time moves only through {@link VirtualClock.advance}. */
  pause(): void {
    this.#auto = false;
  }

  /** Turns auto-advance on: when the runtime is idle, time jumps to the next deadline. */
  resume(): void {
    this.#auto = true;
    this.#kick();
  }

  /** The earliest time a runtime on this clock wants to be woken at, or undefined. */
  nextDeadline(): number | undefined {
    let min = Infinity;
    for (const alarm of this.#alarms) if (alarm.armed && alarm.at < min) min = alarm.at;
    return min === Infinity ? undefined : min;
  }

  /**
   * Moves time forward by `ms`, firing every timer due on the way in deadline order
   * (ties in schedule order). Between deadlines it lets promise continuations run, so
   * `await sleep(a); await sleep(b)` chains finish within one advance if `a + b <= ms`.
   * Resolves once time is `now() + ms` and the continuations of the last firing have run.
   *
   * *Cancellation*: not cancellable; it never waits on wall-clock time.
   *
   * @throws RangeError naming `ms` when it is negative, NaN or infinite.
   */
  advance(ms: number): Promise<void> {
    checkDelay(ms, 'ms');
    return this.#advanceTo(this.#now + ms);
  }

  /**
   * Like {@link VirtualClock.advance}, to an absolute time.
   *
   * *Cancellation*: not cancellable; it never waits on wall-clock time.
   *
   * @throws RangeError naming `atMs` when it is before `now()`, NaN or infinite.
   */
  advanceTo(atMs: number): Promise<void> {
    if (typeof atMs !== 'number' || !Number.isFinite(atMs) || atMs < this.#now) {
      throw new RangeError(`atMs must be a finite number of milliseconds >= now() (${this.#now}) (received ${String(atMs)})`);
    }
    return this.#advanceTo(atMs);
  }

  async #advanceTo(target: number): Promise<void> {
    this.#advancing++;
    try {
      await flush(); // tasks spawned just before the call get to arm their timers first
      for (;;) {
        const next = this.nextDeadline();
        if (next === undefined || next > target) break;
        this.#fireDue(next);
        await flush();
      }
      if (target > this.#now) this.#now = target;
      this.#fireDue(this.#now);
      await flush();
    } finally {
      this.#advancing--;
    }
  }

  /** Sets the time to `at` (if later) and wakes every alarm due by then. */
  #fireDue(at: number): void {
    if (at > this.#now) this.#now = at;
    const now = this.#now;
    const due: VirtualAlarm[] = [];
    for (const alarm of this.#alarms) if (alarm.armed && alarm.at <= now) due.push(alarm);
    this.#activity++;
    for (const alarm of due) {
      alarm.armed = false;
      alarm.onWake(now);
    }
  }

  readonly #changed = (): void => {
    this.#activity++;
    this.#kick();
  };

  /** Starts the idle loop when auto-advance is on and an alarm is armed. */
  #kick(): void {
    if (!this.#auto || this.#idleLoop !== undefined) return;
    let keepAlive: boolean | undefined;
    for (const alarm of this.#alarms) {
      if (alarm.armed) {
        keepAlive = keepAlive === true || alarm.keepAlive;
      }
    }
    if (keepAlive === undefined) return;
    this.#quiet = 0;
    this.#idleLoop = setImmediate(this.#idleTurn);
    if (!keepAlive) this.#idleLoop.unref();
  }

  readonly #idleTurn = (): void => {
    this.#idleLoop = undefined;
    if (!this.#auto) return;
    if (this.#advancing > 0 || this.#activity !== this.#seen) {
      this.#seen = this.#activity;
      this.#quiet = 0;
    } else if (++this.#quiet >= IDLE_TURNS) {
      this.#quiet = 0;
      const next = this.nextDeadline();
      try {
        if (next !== undefined) this.#fireDue(next);
      } finally {
        this.#kick(); // a throwing timer callback must not stop auto-advance
      }
      return;
    }
    const quiet = this.#quiet;
    this.#kick();
    this.#quiet = quiet;
  };
}
