/**
 * A bounded multi-producer multi-consumer ring of record indices inside a
 * `SharedArrayBuffer` (Dmitry Vyukov's bounded MPMC queue). It serves as the pool's
 * global injector, as each worker's inbox, and as the completion ring to the main thread.
 *
 * Implementation note. Each cell holds a sequence number and a value. A producer at
 * position `p` may fill the cell when its sequence is `p`, claims the position with a
 * CAS on `enq`, writes the value, then publishes by setting the sequence to `p + 1`. A
 * consumer at position `p` may take the cell when its sequence is `p + 1`, claims with a
 * CAS on `deq`, reads, then frees the cell for the next lap by setting the sequence to
 * `p + capacity`. Positions wrap at 2^32 and are compared with `(a - b) | 0`. A push
 * that finds the ring full returns false, and so the caller decides (overflow list,
 * run inline, ...). FIFO per producer; no locks; one CAS per operation when uncontended.
 *
 * Layout (Int32 words from `base`):
 * ```
 *  base+0   ENQ  (producers' cursor)          base+16  DEQ  (consumers' cursor)
 *  base+32  [seq0 value0][seq1 value1] ... [seq(c-1) value(c-1)]
 *           cell = position & (capacity - 1)
 * ```
 *
 * @module
 */
import { EMPTY } from './deque.js';

const ENQ = 0;
const DEQ = 16;
const CELLS = 32;

/** A view of one ring; `init` must run once (on the creating thread) before use. */
export class Injector {
  readonly #i32: Int32Array;
  readonly #enq: number;
  readonly #deq: number;
  readonly #cells: number;
  readonly #mask: number;
  /** Number of cells (a power of two). */
  readonly capacity: number;

  /** Views the ring at word `base` of `i32`; `capacity` must be a power of two. */
  constructor(i32: Int32Array, base: number, capacity: number) {
    if (capacity <= 0 || (capacity & (capacity - 1)) !== 0) throw new RangeError(`ring capacity must be a power of two (received ${capacity})`);
    this.#i32 = i32;
    this.#enq = base + ENQ;
    this.#deq = base + DEQ;
    this.#cells = base + CELLS;
    this.#mask = capacity - 1;
    this.capacity = capacity;
  }

  /** Sets every cell's sequence for position `start` onwards (default 0); call once before use. */
  init(start = 0): void {
    const a = this.#i32;
    Atomics.store(a, this.#enq, start | 0);
    Atomics.store(a, this.#deq, start | 0);
    for (let k = 0; k < this.capacity; k++) {
      const pos = (start + k) | 0;
      Atomics.store(a, this.#cells + ((pos & this.#mask) << 1), pos);
    }
  }

  /** Appends `value` (>= 0); false when the ring is full. */
  push(value: number): boolean {
    const a = this.#i32;
    let pos = Atomics.load(a, this.#enq);
    // A plain retry loop: it spins only while another producer is between its CAS and its
    // publish, a few instructions, never while the ring is full.
    for (;;) {
      const cell = this.#cells + ((pos & this.#mask) << 1);
      const dif = (Atomics.load(a, cell) - pos) | 0;
      if (dif === 0) {
        const seen = Atomics.compareExchange(a, this.#enq, pos, (pos + 1) | 0);
        if (seen === pos) {
          Atomics.store(a, cell + 1, value);
          Atomics.store(a, cell, (pos + 1) | 0);
          return true;
        }
        pos = seen;
      } else if (dif < 0) {
        return false;
      } else {
        pos = Atomics.load(a, this.#enq);
      }
    }
  }

  /** Takes the oldest value, or `EMPTY`. */
  pop(): number {
    const a = this.#i32;
    let pos = Atomics.load(a, this.#deq);
    for (;;) {
      const cell = this.#cells + ((pos & this.#mask) << 1);
      const dif = (Atomics.load(a, cell) - ((pos + 1) | 0)) | 0;
      if (dif === 0) {
        const seen = Atomics.compareExchange(a, this.#deq, pos, (pos + 1) | 0);
        if (seen === pos) {
          const value = Atomics.load(a, cell + 1);
          Atomics.store(a, cell, (pos + this.#mask + 1) | 0);
          return value;
        }
        pos = seen;
      } else if (dif < 0) {
        return EMPTY;
      } else {
        pos = Atomics.load(a, this.#deq);
      }
    }
  }

  /** Approximate number of values (exact when no thread is changing the ring). */
  size(): number {
    const n = (Atomics.load(this.#i32, this.#enq) - Atomics.load(this.#i32, this.#deq)) | 0;
    return n < 0 ? 0 : n;
  }
}
