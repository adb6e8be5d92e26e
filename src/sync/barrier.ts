/**
 * `Barrier`: `n` tasks wait until all of them have arrived (tokio's `sync::Barrier`).
 *
 * Implementation note. A counter of arrivals in the current generation and a
 * {@link WaiterQueue}. The `n`-th arrival is the leader: it wakes the others, resets the
 * count and starts the next generation, so a barrier can be reused in a loop.
 */
import { abortReason } from '../scheduler/time.js';
import { checkCount } from './internal/check.js';
import { Waiter, WaiterQueue } from './internal/waiter-queue.js';
import { readyFor, failedFor, rejectIfAborted } from '../scheduler/task.js';

/** What {@link Barrier.wait} tells each task. */
export interface BarrierWaitResult {
  /** True for exactly one task per generation (the last to arrive). */
  readonly isLeader: boolean;
}

/** Options for {@link Barrier.wait}. */
export interface BarrierWaitOptions {
  /** Stops waiting when this signal aborts. */
  readonly signal?: AbortSignal;
}

const LEADER: BarrierWaitResult = Object.freeze({ isLeader: true });
const FOLLOWER: BarrierWaitResult = Object.freeze({ isLeader: false });

/**
 * Lets `n` tasks meet: each `wait()` resolves once `n` of them are waiting.
 *
 * Use it for phases (every worker finishes step 1 before any starts step 2).
 *
 * @example
 * ```ts
 * import { Barrier } from 'zokio/sync';
 * const barrier = new Barrier(3);
 * const results = await Promise.all([barrier.wait(), barrier.wait(), barrier.wait()]);
 * console.log(results.filter((r) => r.isLeader).length); // 1
 * ```
 *
 * *Cancellation*: `wait({ signal })` stops waiting when the signal aborts: the task is
 * taken out of the current generation (the arrival count drops by one, so the barrier now
 * waits for one more task) and rejects with the signal's reason.
 */
export class Barrier {
  readonly #parties: number;
  readonly #queue = new WaiterQueue();
  #arrived = 0;

  /** @param parties number of tasks that must arrive: an integer >= 1. */
  constructor(parties: number) {
    this.#parties = checkCount(parties, 'parties', 1);
  }

  /** Number of tasks the barrier waits for. */
  get parties(): number {
    return this.#parties;
  }

  /** Number of tasks waiting in the current generation. */
  get arrived(): number {
    return this.#arrived;
  }

  /**
   * Arrives and waits until `parties` tasks have arrived.
   *
   * *Cancellation*: see the class comment.
   */
  wait(options?: BarrierWaitOptions): Promise<BarrierWaitResult> {
    const aborted = rejectIfAborted();
    if (aborted !== undefined) return aborted;
    const signal = options?.signal;
    if (signal !== undefined && signal.aborted) return failedFor(abortReason(signal));
    if (this.#arrived + 1 === this.#parties) {
      this.#arrived = 0;
      for (let w = this.#queue.take(); w !== undefined; w = this.#queue.take()) w.resolve(FOLLOWER);
      return readyFor(LEADER);
    }
    this.#arrived++;
    return this.#queue.wait(new Waiter<BarrierWaitResult>(0, undefined), signal, this.#onCancel);
  }

  readonly #onCancel = (): void => {
    this.#arrived--;
  };
}
