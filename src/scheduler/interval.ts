/**
 * `interval(ms)` and `intervalAt(start, ms)`: ticks on a fixed schedule of the current
 * runtime's clock, as an async iterable (tokio's `time::Interval`).
 *
 * Implementation note. An {@link Interval} keeps the scheduled time of its next tick and
 * at most one armed timer, for the one `next()` waiting. `next()` calls run one after the
 * other (each waits for the previous one), so a tick is never handed out twice. The
 * `reset*` methods move the next tick; if a `next()` is waiting, its timer is re-armed for
 * the new time.
 */
import { RuntimeClosedError } from '../errors.js';
import { ABORTED as ABORTED_STATE, currentTask, failedFor, linkPark, readyFor, ParkCallback, resumeTask, unlinkPark, type TaskRecord, taskWait } from './task.js';
import { abortReason, checkDelay, checkTime, CLOSED_MESSAGE, currentDriver, type TimerDriver } from './time.js';

/** What {@link interval} does when the loop falls behind by a whole period or more. */
export type MissedTickBehavior = 'burst' | 'delay' | 'skip';

/** Options for {@link interval} and {@link intervalAt}. */
export interface IntervalOptions {
  /**
   * What to do after a missed tick (the loop asked for a tick after the time of the next
   * one had passed too). `'burst'`: yield the missed ticks back to back until caught up;
   * `'delay'`: yield the late tick now and count the next period from now; `'skip'`: yield
   * the late tick now and drop the missed ones, staying on the original schedule.
   * @default 'burst'
   */
  readonly missedTick?: MissedTickBehavior;
  /** Ends the iteration: the pending `next()` rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * Do not keep the process alive while waiting for the next tick.
   * @default false
   */
  readonly unref?: boolean;
}

const MISSED_TICK: readonly MissedTickBehavior[] = ['burst', 'delay', 'skip'];

/**
 * Ticks every `ms` milliseconds on the current runtime's clock, as an async iterable. Each
 * tick yields its scheduled time (on the clock of `now()`). The first tick comes `ms`
 * after the call (like Node's `timers/promises` `setInterval`); then one per period, on
 * a fixed schedule. If the loop body takes longer than a period, `missedTick` decides.
 * The returned {@link Interval} can move its schedule (`reset`, `resetAfter`, ...).
 *
 * @example
 * ```ts
 * import { interval } from 'zokio';
 * let n = 0;
 * for await (const at of interval(100, { missedTick: 'skip' })) {
 *   console.log('tick at', at);
 *   if (++n === 3) break; // ends the interval and cancels its timer
 * }
 * ```
 *
 * *Cancellation*: `break`/`return()` cancels the pending timer and ends the iteration;
 * when `options.signal` aborts, the pending `next()` rejects with the signal's reason and
 * the iteration is over.
 *
 * @throws RangeError naming `ms` unless it is a finite number > 0, or naming `missedTick`.
 */
export function interval(ms: number, options?: IntervalOptions): Interval {
  checkPeriod(ms);
  const driver = currentDriver();
  return new Interval(driver, driver.clock.now() + ms, ms, options);
}

/**
 * Like {@link interval}, with the first tick at `start`, a time on the runtime's clock
 * (tokio's `interval_at`); a `start` in the past makes the first tick due at once.
 *
 * @example
 * ```ts
 * import { intervalAt, now } from 'zokio';
 * for await (const at of intervalAt(now(), 1_000)) {
 *   console.log('first tick at once, then every second', at);
 *   break;
 * }
 * ```
 *
 * *Cancellation*: as for {@link interval}.
 *
 * @throws RangeError naming `start` unless it is finite, `ms` unless it is a finite
 * number > 0, or `missedTick`.
 */
export function intervalAt(start: number, ms: number, options?: IntervalOptions): Interval {
  checkTime(start, 'start');
  checkPeriod(ms);
  return new Interval(currentDriver(), start, ms, options);
}

function checkPeriod(ms: number): void {
  checkDelay(ms, 'ms');
  if (ms === 0) throw new RangeError('ms must be a finite number of milliseconds > 0 (received 0)');
}

/**
 * The ticks of {@link interval} or {@link intervalAt}: an async iterator of tick times
 * that can move its schedule.
 *
 * *Ordering*: ticks come out in schedule order, one per `next()`; concurrent `next()`
 * calls are served one after the other.
 *
 * *Cancellation*: see {@link interval}.
 */
export class Interval implements AsyncIterableIterator<number> {
  readonly #driver: TimerDriver;
  readonly #period: number;
  readonly #missed: MissedTickBehavior;
  readonly #signal: AbortSignal | undefined;
  readonly #unref: boolean;
  /** Scheduled time of the next tick. */
  #next: number;
  #done = false;
  #timer = -1;
  #resolve: ((result: IteratorResult<number>) => void) | undefined;
  #reject: ((reason: unknown) => void) | undefined;
  /** Calls to next() run one after the other. */
  #tail: Promise<unknown> = Promise.resolve();

  /** @internal Made by {@link interval} and {@link intervalAt}. */
  constructor(driver: TimerDriver, first: number, period: number, options: IntervalOptions | undefined) {
    const missed = options?.missedTick ?? 'burst';
    if (!MISSED_TICK.includes(missed)) throw new RangeError(`missedTick must be 'burst', 'delay' or 'skip' (received ${String(missed)})`);
    this.#driver = driver;
    this.#period = period;
    this.#missed = missed;
    this.#signal = options?.signal;
    this.#unref = options?.unref === true;
    this.#next = first;
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** The period in ms. */
  get period(): number {
    return this.#period;
  }

  /** Scheduled time of the next tick, on the clock of `now()`. */
  get nextTick(): number {
    return this.#next;
  }

  /** The missed-tick behaviour this interval was made with. */
  get missedTickBehavior(): MissedTickBehavior {
    return this.#missed;
  }

  /** The interval itself, so that `for await (const at of interval(ms))` reads its ticks. */
  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Waits for the next tick and yields its scheduled time. */
  next(): Promise<IteratorResult<number>> {
    const task = currentTask();
    const result = this.#tail.then(() => this.#step(task));
    this.#tail = result.catch(() => undefined);
    // Through the task: the body goes on as the running task after the tick (see `readyFor`).
    return taskWait(result);
  }

  /** Ends the iteration and cancels the pending timer. */
  return(): Promise<IteratorResult<number>> {
    this.#finish();
    const resolve = this.#resolve;
    this.#resolve = this.#reject = undefined;
    resolve?.({ value: undefined, done: true });
    return readyFor({ value: undefined, done: true });
  }

  /** Moves the next tick to one period from now (tokio's `reset`). */
  reset(): void {
    this.resetAt(this.#driver.clock.now() + this.#period);
  }

  /** Makes the next tick due now (tokio's `reset_immediately`). */
  resetImmediately(): void {
    this.resetAt(this.#driver.clock.now());
  }

  /**
   * Moves the next tick to `ms` from now (tokio's `reset_after`).
   *
   * @throws RangeError naming `ms` when it is negative, NaN or infinite.
   */
  resetAfter(ms: number): void {
    checkDelay(ms, 'ms');
    this.resetAt(this.#driver.clock.now() + ms);
  }

  /**
   * Moves the next tick to `deadline`, a time on the runtime's clock (tokio's
   * `reset_at`); the ticks after it follow one period apart.
   *
   * @throws RangeError naming `deadline` when it is NaN or infinite.
   */
  resetAt(deadline: number): void {
    checkTime(deadline, 'deadline');
    if (this.#done) return;
    this.#next = deadline;
    if (this.#timer === -1) return;
    this.#driver.cancel(this.#timer);
    this.#timer = -1;
    if (deadline <= this.#driver.clock.now()) this.#onTimer();
    else this.#timer = this.#driver.add(deadline, this.#onTimer, this.#unref);
  }

  #step(task: TaskRecord | undefined): Promise<IteratorResult<number>> | IteratorResult<number> {
    if (task !== undefined && task.state === ABORTED_STATE) return Promise.reject(task.value);
    if (this.#signal?.aborted) {
      this.#finish();
      return failedFor(abortReason(this.#signal));
    }
    if (this.#done) return { value: undefined, done: true };
    const driver = this.#driver;
    if (driver.closed) {
      this.#finish();
      return Promise.reject(new RuntimeClosedError(CLOSED_MESSAGE));
    }
    const now = driver.clock.now();
    if (now >= this.#next) return { value: this.#take(now), done: false };
    return new Promise<IteratorResult<number>>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      this.#timer = driver.add(this.#next, this.#onTimer, this.#unref);
      if (task !== undefined) {
        this.#park = new ParkCallback(this.#onTaskAbort);
        linkPark(task, this.#park);
      }
    });
  }

  /** The task that waits for the pending tick, when Zokio knows it. */
  #park: ParkCallback | undefined = undefined;

  /** The task awaiting the pending tick was aborted: the tick rejects with its reason; the interval goes on. */
  readonly #onTaskAbort = (reason: unknown): void => {
    this.#park = undefined;
    if (this.#timer !== -1) this.#driver.cancel(this.#timer);
    this.#timer = -1;
    const reject = this.#reject;
    this.#resolve = this.#reject = undefined;
    reject?.(reason);
  };

  #unpark(): void {
    if (this.#park !== undefined) unlinkPark(this.#park);
    this.#park = undefined;
  }

  /** Yields the tick due at `#next` and moves `#next` along by the missed-tick policy. */
  #take(now: number): number {
    const tick = this.#next;
    const period = this.#period;
    if (now < tick + period) this.#next = tick + period;
    else if (this.#missed === 'burst') this.#next = tick + period;
    else if (this.#missed === 'delay') this.#next = now + period;
    else this.#next = tick + period * (Math.floor((now - tick) / period) + 1);
    return tick;
  }

  readonly #onTimer = (closed?: Promise<never>): void => {
    this.#timer = -1;
    const task = this.#park?.parkTask;
    this.#unpark();
    const resolve = this.#resolve;
    const reject = this.#reject;
    this.#resolve = this.#reject = undefined;
    if (closed !== undefined) {
      this.#finish();
      reject?.(new RuntimeClosedError('runtime shut down while waiting on a timer'));
      return;
    }
    const result: IteratorResult<number> = { value: this.#take(this.#driver.clock.now()), done: false };
    if (resolve === undefined) return;
    if (task === undefined) resolve(result);
    else resumeTask(task, resolve, result, true);
  };

  readonly #onAbort = (): void => {
    const reject = this.#reject;
    this.#resolve = this.#reject = undefined;
    this.#finish();
    reject?.(abortReason(this.#signal!));
  };

  #finish(): void {
    this.#unpark();
    this.#done = true;
    if (this.#timer !== -1) this.#driver.cancel(this.#timer);
    this.#timer = -1;
    this.#signal?.removeEventListener('abort', this.#onAbort);
  }
}
