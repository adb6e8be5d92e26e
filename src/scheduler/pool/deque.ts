/**
 * A Chase-Lev work-stealing deque of record indices inside a `SharedArrayBuffer`.
 *
 * Implementation note. One owner thread pushes and pops at the bottom (LIFO, cache-warm
 * for fork-join); any thread steals from the top (FIFO, oldest = biggest piece of work).
 * This is the bounded array version of Chase & Lev (2005) with the memory orderings of
 * Lê et al. (2013); JavaScript `Atomics` are sequentially consistent, which is at least
 * as strong as every fence that paper needs. `top` and `bottom` only grow and wrap around
 * at 2^32: sizes are computed as `(bottom - top) | 0`, which is right as long as the deque
 * holds fewer than 2^31 items (capacity is at most 65536). The capacity is fixed: `push`
 * returns false when full and the caller runs the work inline or sends it elsewhere.
 *
 * A thief takes one item, not half the deque as tokio's does. In this protocol the owner's
 * `pop` takes the bottom item without a CAS whenever it sees `top` below it; a thief that
 * claimed k > 1 items with one CAS of `top` from t to t + k would race an owner that pops
 * several times between the thief's read of `bottom` and its CAS (each pop still reads
 * `top` = t), down into [t, t + k): both would take the same items. tokio's queue avoids
 * this with a second head packed into the same word, so that the owner sees a steal in
 * progress; that is a different queue, not a change to this one.
 *
 * Layout (Int32 words from `base`; `top` and `bottom` on separate cache lines):
 * ```
 *  base+0   TOP      ── thieves CAS it forward
 *  base+16  BOTTOM   ── written only by the owner
 *  base+32  slot[0] slot[1] ... slot[capacity-1]     index = position & (capacity-1)
 *
 *          top                     bottom
 *           │                        │
 *   ... ────┼──┬──┬──┬──┬──┬──┬──┬───┼───── positions
 *           │t │  │  │  │  │  │b-1│  │
 *   steal ◄─┘                    └─► push / pop
 * ```
 *
 * @module
 */

/** Returned by `pop`/`steal` when there is nothing to take. */
export const EMPTY = -1;
/** Returned by `steal` when another thread won the race for the same item; try again or elsewhere. */
export const CONTENDED = -2;

const TOP = 0;
const BOTTOM = 16;
const SLOTS = 32;

/** A view of one deque; cheap to create, holds no state of its own besides offsets. */
export class WorkDeque {
  readonly #i32: Int32Array;
  readonly #top: number;
  readonly #bottom: number;
  readonly #slots: number;
  readonly #mask: number;
  /** Number of slots (a power of two). */
  readonly capacity: number;

  /** Views the deque at word `base` of `i32`; `capacity` must be a power of two. */
  constructor(i32: Int32Array, base: number, capacity: number) {
    if (capacity <= 0 || (capacity & (capacity - 1)) !== 0) throw new RangeError(`deque capacity must be a power of two (received ${capacity})`);
    this.#i32 = i32;
    this.#top = base + TOP;
    this.#bottom = base + BOTTOM;
    this.#slots = base + SLOTS;
    this.#mask = capacity - 1;
    this.capacity = capacity;
  }

  /** Owner only: pushes `value` (>= 0) at the bottom; false when full. */
  push(value: number): boolean {
    const a = this.#i32;
    const b = Atomics.load(a, this.#bottom);
    const t = Atomics.load(a, this.#top);
    if (((b - t) | 0) >= this.capacity) return false;
    Atomics.store(a, this.#slots + (b & this.#mask), value);
    Atomics.store(a, this.#bottom, (b + 1) | 0);
    return true;
  }

  /** Owner only: pops the newest item, or `EMPTY`. */
  pop(): number {
    const a = this.#i32;
    const b = (Atomics.load(a, this.#bottom) - 1) | 0;
    Atomics.store(a, this.#bottom, b);
    const t = Atomics.load(a, this.#top);
    const size = (b - t) | 0;
    if (size < 0) {
      Atomics.store(a, this.#bottom, (b + 1) | 0);
      return EMPTY;
    }
    let value = Atomics.load(a, this.#slots + (b & this.#mask));
    if (size > 0) return value;
    // Last item: race the thieves for it with a CAS on top.
    if (Atomics.compareExchange(a, this.#top, t, (t + 1) | 0) !== t) value = EMPTY;
    Atomics.store(a, this.#bottom, (b + 1) | 0);
    return value;
  }

  /** Any thread: takes the oldest item, `EMPTY`, or `CONTENDED` when another thief won it. */
  steal(): number {
    const a = this.#i32;
    const t = Atomics.load(a, this.#top);
    const b = Atomics.load(a, this.#bottom);
    if (((b - t) | 0) <= 0) return EMPTY;
    const value = Atomics.load(a, this.#slots + (t & this.#mask));
    if (Atomics.compareExchange(a, this.#top, t, (t + 1) | 0) !== t) return CONTENDED;
    return value;
  }

  /** Approximate number of items (exact when no thread is changing the deque). */
  size(): number {
    const n = (Atomics.load(this.#i32, this.#bottom) - Atomics.load(this.#i32, this.#top)) | 0;
    return n < 0 ? 0 : n;
  }
}
