/**
 * `Sleep`: a sleep you can look at and move (tokio's `time::Sleep`), made by
 * `sleepUntil(deadline)` and `sleepFor(ms)`.
 *
 * Implementation note. One timer on the runtime's wheel and one promise. `reset` cancels
 * the timer and arms a new one; the promise stays the same while the sleep has not
 * elapsed, so everyone awaiting it wakes at the new deadline. After it has elapsed, a
 * `reset` starts a new promise (a settled promise cannot be taken back): awaiting the
 * handle again waits for the new deadline.
 *
 * Plain `sleep(ms)` returns a bare promise, not this handle: a handle per call would add
 * an object to every parked sleep, and a million parked tasks are `sleep`'s job.
 */
import { RuntimeClosedError } from '../errors.js';
import { abortReason, checkDelay, checkTime, CLOSED_MESSAGE, currentDriver, type SleepOptions, type TimerDriver } from './time.js';

/**
 * A sleep until a deadline on the runtime's clock, awaitable (`PromiseLike<void>`), that
 * can tell its deadline, whether it has elapsed, and be moved with `reset`.
 *
 * @example
 * ```ts
 * import { now, sleepUntil } from 'zokio';
 * const idle = sleepUntil(now() + 30_000);
 * // ... activity seen: push the idle deadline back
 * idle.reset(now() + 30_000);
 * await idle;
 * console.log(idle.isElapsed); // true
 * ```
 *
 * *Cancellation*: when `options.signal` aborts before the deadline, the timer is cancelled
 * and the sleep rejects with the signal's reason; a later `reset` does nothing. A sleep
 * pending at shutdown, or made after it, rejects with `RuntimeClosedError`. A handle is not
 * tied to the task that made it: pass `{ signal: cx.signal }` to stop with the task.
 */
export class Sleep implements PromiseLike<void> {
  readonly #driver: TimerDriver;
  readonly #signal: AbortSignal | undefined;
  readonly #unref: boolean;
  #deadline: number;
  #id = -1;
  #elapsed = false;
  #aborted = false;
  #promise!: Promise<void>;
  #resolve: () => void = noop;
  #reject: (reason: unknown) => void = noop;

  /** @internal Made by {@link sleepUntil} and {@link sleepFor}. */
  constructor(driver: TimerDriver, deadline: number, options: SleepOptions | undefined) {
    this.#driver = driver;
    this.#deadline = deadline;
    this.#signal = options?.signal;
    this.#unref = options?.unref === true;
    this.#promise = this.#newPromise();
    const signal = this.#signal;
    if (driver.closed) {
      this.#aborted = true;
      this.#reject(new RuntimeClosedError(CLOSED_MESSAGE));
    } else if (signal?.aborted) {
      this.#aborted = true;
      this.#reject(abortReason(signal));
    } else {
      signal?.addEventListener('abort', this.#onAbort, { once: true });
      this.#arm();
    }
  }

  /** The deadline, on the clock of `now()`. */
  get deadline(): number {
    return this.#deadline;
  }

  /** Whether the deadline has been reached and the sleep resolved. */
  get isElapsed(): boolean {
    return this.#elapsed;
  }

  /**
   * Moves the deadline to `deadline` (earlier or later), whether or not the sleep has
   * elapsed. Awaiting the handle then waits for the new deadline.
   *
   * @throws RangeError naming `deadline` when it is NaN or infinite.
   */
  reset(deadline: number): void {
    checkTime(deadline, 'deadline');
    if (this.#aborted) return;
    this.#deadline = deadline;
    if (this.#elapsed) {
      this.#elapsed = false;
      this.#promise = this.#newPromise();
    } else this.#driver.cancel(this.#id);
    if (this.#driver.closed) {
      this.#aborted = true;
      this.#reject(new RuntimeClosedError(CLOSED_MESSAGE));
      return;
    }
    this.#arm();
  }

  then<R1 = void, R2 = never>(
    onFulfilled?: ((value: void) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#promise.then(onFulfilled, onRejected);
  }

  #newPromise(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  #arm(): void {
    this.#id = this.#driver.add(this.#deadline, this.#onTimer, this.#unref);
  }

  // Called with a rejected promise when the runtime shuts down (see TimerDriver.shutdown).
  readonly #onTimer = (closed?: Promise<never>): void => {
    this.#id = -1;
    if (closed !== undefined) {
      this.#aborted = true;
      // A handle nobody awaits is normal (tokio drops such a Sleep silently): its rejection
      // is marked handled, so an unobserved handle does not crash the process at shutdown;
      // whoever awaits it still sees RuntimeClosedError.
      this.#promise.catch(noop);
      this.#reject(new RuntimeClosedError('runtime shut down while waiting on a timer'));
      return;
    }
    this.#elapsed = true;
    this.#resolve();
  };

  readonly #onAbort = (): void => {
    if (this.#elapsed) return;
    this.#aborted = true;
    this.#driver.cancel(this.#id);
    this.#reject(abortReason(this.#signal!));
  };
}

function noop(): void {}

/**
 * A {@link Sleep} until `deadline`, a time on the runtime's clock (see `now()`); a deadline
 * in the past elapses on the next timer tick.
 *
 * @example
 * ```ts
 * import { now, sleepUntil } from 'zokio';
 * await sleepUntil(now() + 100);
 * ```
 *
 * *Cancellation*: see {@link Sleep}.
 *
 * @throws RangeError naming `deadline` when it is NaN or infinite.
 */
export function sleepUntil(deadline: number, options?: SleepOptions): Sleep {
  checkTime(deadline, 'deadline');
  return new Sleep(currentDriver(), deadline, options);
}

/**
 * A {@link Sleep} of `ms` milliseconds from now: `sleep(ms)` as a handle you can `reset`.
 *
 * *Cancellation*: see {@link Sleep}.
 *
 * @throws RangeError naming `ms` when it is negative, NaN or infinite.
 */
export function sleepFor(ms: number, options?: SleepOptions): Sleep {
  checkDelay(ms, 'ms');
  const driver = currentDriver();
  return new Sleep(driver, driver.clock.now() + ms, options);
}
