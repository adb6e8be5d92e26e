/**
 * `Notify`: wake one task or all waiting tasks, without data (tokio's `sync::Notify`).
 *
 * Implementation note. A {@link WaiterQueue} plus one stored permit flag. `notifyOne` with
 * nobody waiting stores the permit, so a notification sent just before the waiter arrives
 * is not lost; `notifyWaiters` wakes only those already waiting.
 */
import { abortReason } from '../scheduler/time.js';
import { RESOLVED } from './internal/check.js';
import { Waiter, WaiterQueue } from './internal/waiter-queue.js';
import { readyVoid, failedFor, rejectIfAborted } from '../scheduler/task.js';

/** Options for {@link Notify.notified}. */
export interface NotifiedOptions {
  /** Stops waiting when this signal aborts. */
  readonly signal?: AbortSignal;
}

/**
 * A wake-up signal between tasks.
 *
 * Use it to tell a task that *something* changed (new work, a flag flipped) when the data
 * itself lives elsewhere; to pass values use a channel.
 *
 * @example
 * ```ts
 * import { Notify } from 'zokio/sync';
 * const ready = new Notify();
 * const waiter = ready.notified();
 * ready.notifyOne();
 * await waiter;
 * ```
 *
 * *Ordering*: `notifyOne` wakes the waiter that has waited longest, `notifyLast` the one
 * that arrived last.
 *
 * *Cancellation*: `notified({ signal })` stops waiting when the signal aborts and rejects
 * with its reason. An aborted waiter consumes no notification: a `notifyOne` that comes
 * after the abort goes to the next waiter or is stored.
 */
export class Notify {
  #permit = false;
  readonly #queue = new WaiterQueue();

  /** Number of tasks waiting in `notified`. */
  get waiting(): number {
    return this.#queue.live;
  }

  /**
   * Waits for a notification. Resolves at once (consuming it) if a permit is stored.
   *
   * *Cancellation*: see the class comment.
   */
  notified(options?: NotifiedOptions): Promise<void> {
    const aborted = rejectIfAborted();
    if (aborted !== undefined) return aborted;
    const signal = options?.signal;
    if (signal !== undefined && signal.aborted) return failedFor(abortReason(signal));
    if (this.#permit) {
      this.#permit = false;
      return readyVoid(RESOLVED);
    }
    return this.#queue.wait(new Waiter<void>(0, undefined), signal);
  }

  /** Wakes the longest waiter, or stores one permit for the next `notified` if none waits. */
  notifyOne(): void {
    const w = this.#queue.take();
    if (w === undefined) this.#permit = true;
    else w.resolve(undefined);
  }

  /**
   * Wakes the waiter that arrived last (tokio's `notify_last`), or stores one permit for
   * the next `notified` if none waits.
   */
  notifyLast(): void {
    const w = this.#queue.takeLast();
    if (w === undefined) this.#permit = true;
    else w.resolve(undefined);
  }

  /** Wakes every task waiting now; stores no permit. */
  notifyWaiters(): void {
    for (let w = this.#queue.take(); w !== undefined; w = this.#queue.take()) w.resolve(undefined);
  }
}
