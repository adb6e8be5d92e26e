/**
 * `ConnectionTimer` (internal): the one timer of a server connection, which counts either
 * the time a request has to arrive whole (`requestTimeoutMs`) or the time an idle
 * keep-alive connection stays open (`keepAliveTimeoutMs`, plus node:http's 1 s of grace).
 *
 * Implementation note. One timer of the runtime's wheel (so a `VirtualClock` moves it in
 * tests). Moving a deadline later only records it: the armed timer fires at the earlier
 * time and re-arms for the rest. A keep-alive request moves the deadline later twice
 * (request time, then idle time) and so costs no timer operation at all.
 */
import type { TimerDriver } from '../../scheduler/time.js';

/** Extra time node:http gives an idle keep-alive connection past `keepAliveTimeout`. */
const KEEP_ALIVE_GRACE_MS = 1000;

/** What the timer is counting. */
export const NONE = 0;
export const REQUEST = 1;
export const IDLE = 2;
export type Counting = typeof NONE | typeof REQUEST | typeof IDLE;

/** @internal See the module note. */
export class ConnectionTimer {
  readonly #timers: TimerDriver;
  readonly #requestMs: number;
  readonly #idleMs: number;
  /** Called once a deadline has passed, with what it counted. */
  readonly #onExpire: (kind: typeof REQUEST | typeof IDLE) => void;
  #kind: Counting = NONE;
  #deadline = 0;
  #timer = -1;
  #timerAt = Infinity;

  /** `requestMs`, `idleMs`: 0 disables that limit. */
  constructor(timers: TimerDriver, requestMs: number, idleMs: number, onExpire: (kind: typeof REQUEST | typeof IDLE) => void) {
    this.#timers = timers;
    this.#requestMs = requestMs;
    this.#idleMs = idleMs;
    this.#onExpire = onExpire;
  }

  /** What the timer counts now. */
  get counting(): Counting {
    return this.#kind;
  }

  /** A request's time starts now. */
  startRequest(): void {
    const ms = this.#requestMs;
    if (ms > 0) this.#set(REQUEST, this.#timers.clock.now() + ms);
    else this.#kind = NONE;
  }

  /** The connection is idle from now. */
  startIdle(): void {
    const ms = this.#idleMs;
    if (ms > 0) this.#set(IDLE, this.#timers.clock.now() + ms + KEEP_ALIVE_GRACE_MS);
    else this.#kind = NONE;
  }

  /** Nothing is counted (the wheel timer, if armed, fires and does nothing). */
  stop(): void {
    this.#kind = NONE;
  }

  /** The connection closed: the wheel timer is cancelled. */
  close(): void {
    this.#kind = NONE;
    if (this.#timer !== -1) this.#timers.cancel(this.#timer);
    this.#timer = -1;
    this.#timerAt = Infinity;
  }

  #set(kind: Counting, at: number): void {
    this.#kind = kind;
    this.#deadline = at;
    if (at >= this.#timerAt) return; // the armed timer fires first and re-arms for the rest
    if (this.#timer !== -1) this.#timers.cancel(this.#timer);
    this.#arm(at);
  }

  #arm(at: number): void {
    const timers = this.#timers;
    if (timers.closed) {
      this.#timer = -1;
      this.#timerAt = Infinity;
      return;
    }
    this.#timerAt = at;
    this.#timer = timers.add(at, this.#onTimer, true);
  }

  readonly #onTimer = (): void => {
    this.#timer = -1;
    this.#timerAt = Infinity;
    const kind = this.#kind;
    if (kind === NONE) return;
    if (this.#timers.clock.now() < this.#deadline) {
      this.#arm(this.#deadline);
      return;
    }
    this.#kind = NONE;
    this.#onExpire(kind);
  };
}
