/**
 * Where `serveTasks` runs a job's task: on the local pool, or inline on the serving
 * thread when the task has shown that it is shorter than the hop to a pool thread.
 *
 * Implementation note. A job sent to a parked pool thread and back costs two wake-ups
 * across threads (a futex wake there, `Atomics.waitAsync`'s wake here): 35–50 µs of CPU
 * on the two-core machines we measure, against about 1 µs for a task such as
 * `(n) => n * 2`. So each run reports how long its synchronous part took (the runner
 * times it on the pool thread; an inline run is timed here). A task runs inline once its
 * last {@link STREAK} runs were each shorter than `belowMs` and none returned a promise
 * (an async task would do its later work on this thread, unmeasured: such a task never
 * runs inline again). Inline, a task goes back to the pool when two of its last
 * {@link STREAK} runs reached `belowMs` (one may be a garbage collection that happened to
 * fall inside it). So the thread that renews the job locks is held at most `belowMs` by
 * an inline run, except for the two runs that tell a task has become longer.
 *
 * @module
 */

/** Consecutive short runs a task needs before it runs inline; the window of the way back. */
export const STREAK = 16;

/** A task's record: its runs so far (capped), and which of the last {@link STREAK} were long (bit 0: the latest). */
interface Runs {
  runs: number;
  long: number;
  inline: boolean;
}

const MASK = (1 << STREAK) - 1;

/** The placement of each task served (by its table key). */
export class Placement {
  readonly #belowMs: number;
  readonly #tasks = new Map<string, Runs | null>(); // null: returned a promise, never inline

  /** `belowMs`: the longest synchronous run that counts as short; 0 runs every task on the pool. */
  constructor(belowMs: number) {
    this.#belowMs = belowMs;
  }

  /** True when the next job of task `key` runs inline. */
  inline(key: string): boolean {
    return this.#tasks.get(key)?.inline === true;
  }

  /**
   * Records a run of task `key`: `syncMs` is its synchronous part, or a negative number
   * when it returned a promise.
   */
  ran(key: string, syncMs: number): void {
    if (this.#belowMs <= 0) return;
    let r = this.#tasks.get(key);
    if (r === null) return;
    if (syncMs < 0) {
      this.#tasks.set(key, null);
      return;
    }
    if (r === undefined) this.#tasks.set(key, (r = { runs: 0, long: 0, inline: false }));
    r.long = ((r.long << 1) | (syncMs >= this.#belowMs ? 1 : 0)) & MASK;
    if (r.runs < STREAK) r.runs++;
    r.inline = r.inline ? !hasTwoBits(r.long) : r.runs === STREAK && r.long === 0;
  }
}

/** True when `bits` has at least two bits set. */
function hasTwoBits(bits: number): boolean {
  return (bits & (bits - 1)) !== 0;
}
