/**
 * A FIFO concurrency limiter for I/O operations (internal).
 *
 * Implementation note. `active` counts running operations; callers beyond `limit` wait in
 * a FIFO array. A finishing operation hands its slot straight to the oldest waiter (it
 * does not decrement `active`), so a newcomer cannot overtake a waiter and the limit is
 * never exceeded by one. The fast path (a free slot) allocates nothing but the caller's
 * own promise.
 */
import { failedFor } from '../scheduler/task.js';
import { abortedBeforeWait, settleWait, WaitAbort } from '../scheduler/wait-abort.js';

interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
  abort: WaitAbort | undefined;
}

/** @internal Counters of a limiter. */
export interface LimiterMetrics {
  readonly limit: number;
  readonly active: number;
  readonly queued: number;
  /** Highest `active` seen. */
  readonly peak: number;
}

/** @internal */
export class Limiter {
  #limit: number;
  #active = 0;
  #peak = 0;
  #waiters: Waiter[] = [];

  constructor(limit: number) {
    this.#limit = checkLimit(limit);
  }

  get limit(): number {
    return this.#limit;
  }

  set limit(value: number) {
    this.#limit = checkLimit(value);
    while (this.#active < this.#limit && this.#waiters.length > 0) {
      this.#active++;
      this.#wake(this.#waiters.shift()!);
    }
  }

  /** Runs `op` once a slot is free. */
  async run<T>(op: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await op();
    } finally {
      this.release();
    }
  }

  /**
   * Waits for a slot; the caller must `release()` it.
   *
   * *Cancellation*: `signal`, or the abort of the running task, removes the wait.
   */
  acquire(signal?: AbortSignal): Promise<void> | void {
    const aborted = abortedBeforeWait(signal);
    if (aborted !== undefined) return failedFor(aborted.reason);
    if (this.#active < this.#limit) {
      this.#active++;
      if (this.#active > this.#peak) this.#peak = this.#active;
      return;
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, abort: undefined };
      waiter.abort = WaitAbort.start(signal, (reason) => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(reason);
      });
      this.#waiters.push(waiter);
    });
  }

  /** Gives a slot back (to the oldest waiter, if any). */
  release(): void {
    const next = this.#waiters.shift();
    if (next !== undefined && this.#active <= this.#limit) this.#wake(next);
    else {
      if (next !== undefined) this.#waiters.unshift(next);
      this.#active--;
    }
  }

  #wake(waiter: Waiter): void {
    settleWait(waiter.abort, waiter.resolve, undefined);
  }

  metrics(): LimiterMetrics {
    return { limit: this.#limit, active: this.#active, queued: this.#waiters.length, peak: this.#peak };
  }
}

function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency limit must be an integer >= 1 (received ${String(limit)})`);
  return limit;
}
