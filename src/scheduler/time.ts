/**
 * Time functions on the current runtime: `sleep`, `timeout`, `deadline`, `now` (the
 * `Sleep` handle is in sleep-handle.ts, `interval` in interval.ts).
 *
 * Implementation note. Each runtime has one `timers` part, a {@link TimerDriver}: a
 * {@link TimerWheel} plus a {@link Clock} and one alarm from that clock (for the system
 * clock, one host `setTimeout`). The alarm is set to the earliest deadline and moved only
 * when a new timer is due sooner, so scheduling a timer is a wheel insert and a compare.
 * When it wakes, the driver advances the wheel to the clock's time, which fires every due
 * timer, and sets the alarm to the wheel's next deadline. The alarm keeps the process
 * alive while at least one timer scheduled without `unref` is armed.
 *
 * Cancelling is a wheel cancel (lazy: the wheel only marks the entry, see timer-wheel.ts)
 * and, like `clearTimeout`, does not move the alarm later: a wake that then finds nothing
 * due just sets the alarm to the next deadline, which never belongs to cancelled timers
 * alone. The alarm is cleared when the last timer is cancelled and drops its keep-alive
 * when the last timer without `unref` is, since the wheel's `size` and `refCount` count
 * armed timers only.
 *
 * `sleep` without options costs at most one promise and one wheel slot: the promise's own
 * resolve function is the timer callback (captured by a shared executor, no closure per
 * call). Consecutive plain sleeps that fall due in the same tick (a loop of tasks that all
 * `sleep(ms)`) share the previous promise and timer, like Node's per-duration timer lists
 * share one host timer; they resolve together, as they would one after the other.
 */
import { RuntimeClosedError, TimeoutError } from '../errors.js';
import { currentRuntimeObject } from '../runtime/current.js';
import { abortReason } from './abort-reason.js';
import { ABORTED as ABORTED_STATE, currentTask, failedFor, isTask, ParkCallback, linkPark, offerTail, resumeTask, tailSettled, unlinkPark, type TaskPark, type TaskRecord } from './task.js';
import { timerDriverOf, type TimerDriver } from './timer-driver.js';
import { timerIndex, type TimerTarget } from './timer-wheel.js';

export { abortReason } from './abort-reason.js';
export { TimerDriver, timerDriverOf, useClock, type TimerMetrics } from './timer-driver.js';

/** @internal The timers part of the current runtime. */
export function currentDriver(): TimerDriver {
  return timerDriverOf(currentRuntimeObject());
}

/** @internal Message of the `RuntimeClosedError` a timer started after shutdown rejects with. */
export const CLOSED_MESSAGE = 'runtime is shut down: cannot start a timer';

/** @internal Throws a RangeError naming `name` unless `ms` is a finite number >= 0. */
export function checkDelay(ms: unknown, name: string): number {
  if (typeof ms !== 'number' || !(ms >= 0) || ms === Infinity) {
    throw new RangeError(`${name} must be a finite number of milliseconds >= 0 (received ${String(ms)})`);
  }
  return ms;
}

/** @internal Throws a RangeError naming `name` unless `ms` is a finite number. */
export function checkTime(ms: unknown, name: string): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new RangeError(`${name} must be a finite number of milliseconds (received ${String(ms)})`);
  }
  return ms;
}


/**
 * The current time on the current runtime's clock, in ms: `performance.now()` on the
 * system clock (read once per synchronous run of JavaScript, like the loop time Node's
 * timers count from; use `performance.now()` to time code), the virtual time under a
 * `VirtualClock`. {@link deadline} takes times on this line, and every delay counts from it.
 *
 * @example
 * ```ts
 * import { now, deadline, sleep } from 'zokio';
 * await deadline(now() + 100, sleep(10));
 * ```
 */
export function now(): number {
  return currentDriver().clock.now();
}

/** Options for {@link sleep}. */
export interface SleepOptions {
  /** Rejects the sleep with the signal's reason when it aborts. */
  readonly signal?: AbortSignal;
  /**
   * Do not keep the process alive while this sleep is pending (like `timeout.unref()`).
   * @default false
   */
  readonly unref?: boolean;
}

function noop(): void {}

let capturedResolve: ((value?: PromiseLike<never>) => void) | undefined;
// One shared executor: `new Promise(captureResolve)` allocates no closure per call.
function captureResolve(resolve: (value?: PromiseLike<never>) => void): void {
  capturedResolve = resolve;
}

/**
 * Resolves after `ms` milliseconds on the current runtime's clock.
 *
 * Use it to wait inside tasks; it costs one promise and one timer-wheel slot, so a million
 * concurrent sleeps are cheap (consecutive calls without options that fall due in the same
 * tick return the same promise and share one slot). A pending sleep keeps the process
 * alive the way `setTimeout` does, unless `unref` is set.
 *
 * @example
 * ```ts
 * import { sleep } from 'zokio';
 * await sleep(10);
 * await sleep(60_000, { unref: true, signal: AbortSignal.timeout(5) }).catch(() => 'stopped');
 * ```
 *
 * *Cancellation*: when `signal` aborts, the timer is cancelled and the promise rejects with
 * the signal's reason (a `TaskAbortedError` if it has none); an already aborted signal
 * rejects at once. A sleep made by a task's code (see `Task` for where Zokio knows the
 * task) rejects with the task's abort reason when the task is aborted, without a signal.
 * When the runtime shuts down, every pending sleep rejects with `RuntimeClosedError`.
 *
 * @throws RangeError naming `ms` when it is negative, NaN or infinite.
 */
export function sleep(ms: number, options?: SleepOptions): Promise<void> {
  checkDelay(ms, 'ms');
  const driver = currentDriver();
  if (driver.closed) return Promise.reject(new RuntimeClosedError(CLOSED_MESSAGE));
  const at = driver.clock.now() + ms;
  const task = currentTask();
  if (task !== undefined) return taskSleep(driver, at, task, options);
  if (options === undefined) {
    // Consecutive plain sleeps due in the same tick share one promise and one timer.
    const tick = Math.ceil(at / driver.wheel.resolutionMs);
    if (tick === driver.lastSleepTick && driver.wheel.has(driver.lastSleepId)) return driver.lastSleepPromise!;
    const promise = new Promise<void>(captureResolve);
    driver.lastSleepId = driver.add(at, capturedResolve!, false);
    driver.lastSleepTick = tick;
    driver.lastSleepPromise = promise;
    capturedResolve = undefined;
    return promise;
  }
  return sleepUntil(driver, at, options);
}

function sleepUntil(driver: TimerDriver, at: number, options: SleepOptions): Promise<void> {
  const signal = options.signal;
  const unref = options.unref === true;
  if (signal === undefined) {
    const promise = new Promise<void>(captureResolve);
    driver.add(at, capturedResolve!, unref);
    capturedResolve = undefined;
    return promise;
  }
  if (signal.aborted) return failedFor(abortReason(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      driver.cancel(id);
      reject(abortReason(signal));
    };
    const id = driver.add(
      at,
      (closed?: Promise<never>) => {
        signal.removeEventListener('abort', onAbort);
        resolve(closed);
      },
      unref,
    );
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A sleep made by a task's code: its own promise (not shared: an abort rejects it alone),
 * linked into the task's park list, settled through `resumeTask` so the task resumes as the
 * running task.
 *
 * Only the promise's `resolve` is kept: a million sleeping tasks are this class's job, and
 * the `reject` function weighs 56 B more per sleep. A rejection (the task or the caller's
 * signal aborted, the runtime shut down) resolves the promise with a {@link Rejection},
 * whose `then` rejects it one microtask later, with the same running-task bookkeeping.
 * When the body returned this sleep's promise as it is (the task's `tail`), settling it
 * also ends the task, through `tailSettled`.
 */
class TaskSleep implements TaskPark, TimerTarget {
  /** The task, while the sleep is pending (unlinked when it settles). */
  parkTask: TaskRecord | undefined = undefined;
  parkPrev: TaskPark | undefined = undefined;
  parkNext: TaskPark | undefined = undefined;
  driver: TimerDriver;
  /** Its timer's entry in the wheel (`timerIndex`), not the id: see `TimerWheel.cancelTarget`. */
  index = -1;
  resolve: (value?: unknown) => void = noop;

  constructor(driver: TimerDriver) {
    this.driver = driver;
  }

  /** The timer fired (no argument) or the driver shut down (`closed`). */
  fire(closed?: Promise<never>): void {
    const task = this.parkTask;
    this.unhook();
    const error = closed === undefined ? undefined : new RuntimeClosedError('runtime shut down while waiting on a timer');
    if (task !== undefined && task.tail === this) this.settleTail(task, closed === undefined, error);
    else if (closed !== undefined) this.resolve(new Rejection(task, error));
    else if (task === undefined) this.resolve();
    else resumeTask(task, this.resolve, undefined, true);
  }

  /** Settles the sleep that is its task's tail (the handle adopts its promise): the task's bookkeeping first. */
  settleTail(task: TaskRecord, ok: boolean, reason: unknown): void {
    const [fulfilled, value] = tailSettled(task, ok, reason);
    this.resolve(fulfilled ? value : new Rejection(undefined, value));
  }

  cancelForTask(reason: unknown): void {
    this.stop(reason);
  }

  stop(reason: unknown): void {
    const task = this.parkTask;
    if (task === undefined || !this.driver.cancelTarget(this.index, this)) return;
    this.unhook();
    if (task.tail === this) this.settleTail(task, false, reason);
    else this.resolve(new Rejection(task, reason));
  }

  unhook(): void {
    unlinkPark(this);
  }
}

/** A {@link TaskSleep} with the caller's signal (this object is its listener). */
class SignalledTaskSleep extends TaskSleep {
  readonly signal: AbortSignal;

  constructor(driver: TimerDriver, signal: AbortSignal) {
    super(driver);
    this.signal = signal;
    signal.addEventListener('abort', this, { once: true });
  }

  /** The caller's signal aborted. */
  handleEvent(): void {
    this.stop(abortReason(this.signal));
  }

  override unhook(): void {
    super.unhook();
    this.signal.removeEventListener('abort', this);
  }
}

/**
 * What a {@link TaskSleep} resolves its promise with to reject it: a thenable that the
 * promise adopts, rejecting with `reason` (and resuming `task` as the running one).
 */
class Rejection {
  readonly task: TaskRecord | undefined;
  readonly reason: unknown;

  constructor(task: TaskRecord | undefined, reason: unknown) {
    this.task = task;
    this.reason = reason;
  }

  then(_resolve: unknown, reject: (reason: unknown) => void): void {
    if (this.task === undefined) reject(this.reason);
    else resumeTask(this.task, reject, this.reason);
  }
}

/** Shared executor for a task's sleep: the object is passed through `pendingSleep`, no closure per call. */
let pendingSleep: TaskSleep | undefined;
function captureSleep(resolve: (value: void | PromiseLike<void>) => void): void {
  pendingSleep!.resolve = resolve as (value?: unknown) => void;
}

function taskSleep(driver: TimerDriver, at: number, task: TaskRecord, options: SleepOptions | undefined): Promise<void> {
  if (task.state === ABORTED_STATE) return Promise.reject(task.value);
  const signal = options?.signal;
  if (signal?.aborted) return failedFor(abortReason(signal));
  const s = signal === undefined ? new TaskSleep(driver) : new SignalledTaskSleep(driver, signal);
  pendingSleep = s;
  const promise = new Promise<void>(captureSleep);
  pendingSleep = undefined;
  s.index = timerIndex(driver.add(at, s, options?.unref === true));
  linkPark(task, s);
  offerTail(promise, s);
  return promise;
}

/** What a function run under {@link timeout} or {@link deadline} receives. */
export interface TimeoutContext {
  /** Aborted (with the `TimeoutError`) when the time is up, or with the caller's reason. */
  readonly signal: AbortSignal;
}

/** The work {@link timeout} and {@link deadline} bound: a promise, a task, or a function. */
export type TimedWork<T> = PromiseLike<T> | ((cx: TimeoutContext) => T | PromiseLike<T>);

/** Options for {@link timeout} and {@link deadline}. */
export interface TimeoutOptions {
  /** Gives up early: rejects with the signal's reason and aborts the inner signal with it. */
  readonly signal?: AbortSignal;
  /**
   * Do not keep the process alive while only this timer is pending.
   * @default false
   */
  readonly unref?: boolean;
}

/**
 * Bounds `work` by `ms` milliseconds: resolves with its result if it settles in time,
 * otherwise rejects with `TimeoutError` (code `ZOKIO_ERR_TIMEOUT`).
 *
 * Pass a function to let the work stop itself: it receives `{ signal }`, which aborts with
 * the `TimeoutError` when time is up. A `Task` passed as `work` is aborted too.
 *
 * @example
 * ```ts
 * import { timeout, TimeoutError } from 'zokio';
 * const body = await timeout(2_000, ({ signal }) => fetch('https://example.com', { signal }).then((r) => r.text()))
 *   .catch((err) => (err instanceof TimeoutError ? 'too slow' : Promise.reject(err)));
 * ```
 *
 * *Cancellation*: when the time is up, or when `options.signal` aborts, the promise rejects
 * at once (with the `TimeoutError`, or the signal's reason) and the inner signal aborts
 * with the same value; a promise passed directly cannot be stopped and keeps running, its
 * result ignored. When the work settles first, the timer is cancelled.
 *
 * @throws RangeError naming `ms` when it is negative, NaN or infinite.
 */
export function timeout<T>(ms: number, work: TimedWork<T>, options?: TimeoutOptions): Promise<Awaited<T>> {
  checkDelay(ms, 'ms');
  const driver = currentDriver();
  return raceTimer(driver, driver.clock.now() + ms, work, options, () => new TimeoutError(`timed out after ${ms} ms`));
}

/**
 * Like {@link timeout}, with an absolute time on the runtime's clock (see {@link now}):
 * rejects with `TimeoutError` if `work` has not settled by `atMs`. A time in the past
 * still lets work that has already settled win.
 *
 * @example
 * ```ts
 * import { deadline, now, sleep } from 'zokio';
 * const end = now() + 1_000;
 * await deadline(end, sleep(10));            // fine
 * await deadline(end, async ({ signal }) => sleep(20, { signal })); // same deadline, next step
 * ```
 *
 * *Cancellation*: as for {@link timeout}: at `atMs`, or when `options.signal` aborts, the
 * promise rejects and the inner signal aborts with the same value.
 *
 * @throws RangeError naming `atMs` when it is NaN or infinite.
 */
export function deadline<T>(atMs: number, work: TimedWork<T>, options?: TimeoutOptions): Promise<Awaited<T>> {
  checkTime(atMs, 'atMs');
  return raceTimer(currentDriver(), atMs, work, options, () => new TimeoutError(`deadline of ${atMs} ms passed`));
}

function raceTimer<T>(driver: TimerDriver, at: number, work: TimedWork<T>, options: TimeoutOptions | undefined, expired: () => TimeoutError): Promise<Awaited<T>> {
  if (driver.closed) return Promise.reject(new RuntimeClosedError(CLOSED_MESSAGE));
  const signal = options?.signal;
  if (signal?.aborted) return failedFor(abortReason(signal));
  const task = currentTask();
  if (task !== undefined && task.state === ABORTED_STATE) return Promise.reject(task.value);
  return new Promise<Awaited<T>>((resolveOuter, rejectOuter) => {
    let settled = false;
    let controller: AbortController | undefined;
    let park: ParkCallback | undefined;
    const resolve = (value: Awaited<T>): void => {
      if (park !== undefined) unlinkPark(park);
      if (task === undefined) resolveOuter(value);
      else resumeTask(task, resolveOuter, value, true);
    };
    const reject = (reason: unknown): void => {
      if (park !== undefined) unlinkPark(park);
      if (task === undefined) rejectOuter(reason);
      else resumeTask(task, rejectOuter, reason);
    };
    const stopWork = (reason: unknown): void => {
      controller?.abort(reason);
      if (isTask(work)) work.abort(reason);
    };
    const giveUp = (reason: unknown): void => {
      if (settled) return;
      settled = true;
      driver.cancel(id);
      signal?.removeEventListener('abort', onAbort);
      stopWork(reason);
      reject(reason);
    };
    const onAbort = (): void => giveUp(abortReason(signal!));
    const onTimer = (closed?: Promise<never>): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      const err = closed === undefined ? expired() : new RuntimeClosedError('runtime shut down while waiting on a timer');
      stopWork(err);
      reject(err);
    };
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      driver.cancel(id);
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const id = driver.add(at, onTimer, options?.unref === true);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (task !== undefined) {
      park = new ParkCallback(giveUp);
      linkPark(task, park);
    }
    let promise: PromiseLike<T>;
    if (typeof work === 'function') {
      controller = new AbortController();
      try {
        promise = Promise.resolve(work({ signal: controller.signal }));
      } catch (err) {
        if (finish()) reject(err);
        return;
      }
    } else promise = work;
    promise.then(
      (value) => {
        if (finish()) resolve(value as Awaited<T>);
      },
      (err: unknown) => {
        if (finish()) reject(err);
      },
    );
  });
}
