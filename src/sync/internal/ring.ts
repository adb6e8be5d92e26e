/**
 * A growable FIFO ring buffer whose size is always a power of two.
 *
 * Implementation note. Slots are a plain array; `head` is the index of the oldest item and
 * `length` the number of items, so the slot of item `i` is `(head + i) & mask`. A bounded
 * channel never grows its ring (it holds at most `capacity` items, and the ring starts at
 * the next power of two); the unbounded channel and the waiter queues double it when full.
 *
 * ```
 *   mask = 7                 head = 5, length = 4
 *   slot:  0   1   2   3   4   5   6   7
 *        [ c | d | . | . | . | a | b | . ]      push → slot (5 + 4) & 7 = 1 ... wraps
 *          ▲ newest items wrap  ▲ head (oldest, shifted first)
 * ```
 *
 * Shifted slots are set back to `undefined` so the ring never keeps a message alive.
 */

/** @internal Smallest power of two >= `n` (n >= 1, n <= 2^30). */
export function nextPowerOfTwo(n: number): number {
  let size = 1;
  while (size < n) size *= 2;
  return size;
}

/** @internal A FIFO ring buffer; see the module note for the layout. */
export class Ring<T> {
  buf: (T | undefined)[];
  head = 0;
  length = 0;
  mask: number;

  constructor(minCapacity = 8) {
    const size = nextPowerOfTwo(Math.max(2, minCapacity));
    this.buf = new Array<T | undefined>(size).fill(undefined);
    this.mask = size - 1;
  }

  push(value: T): void {
    if (this.length > this.mask) this.grow();
    this.buf[(this.head + this.length) & this.mask] = value;
    this.length++;
  }

  /** Removes and returns the oldest item; the caller checks `length > 0` first. */
  shift(): T {
    const head = this.head;
    const value = this.buf[head] as T;
    this.buf[head] = undefined;
    this.head = (head + 1) & this.mask;
    this.length--;
    return value;
  }

  /** Removes and returns the newest item; the caller checks `length > 0` first. */
  pop(): T {
    this.length--;
    const slot = (this.head + this.length) & this.mask;
    const value = this.buf[slot] as T;
    this.buf[slot] = undefined;
    return value;
  }

  /** The oldest item without removing it; the caller checks `length > 0` first. */
  peek(): T {
    return this.buf[this.head] as T;
  }

  /** Removes every item, returning them oldest first. */
  drain(): T[] {
    const out: T[] = [];
    while (this.length > 0) out.push(this.shift());
    return out;
  }

  /**
   * When empty and grown past `capacity` slots, starts again with `capacity` slots: a queue
   * that was long for a moment (a million tasks spawned in one turn) does not keep its
   * buffer for ever. A power of two.
   */
  shrinkIfEmpty(capacity: number): void {
    if (this.length !== 0 || this.mask < capacity) return;
    this.buf = new Array<T | undefined>(capacity).fill(undefined);
    this.head = 0;
    this.mask = capacity - 1;
  }

  private grow(): void {
    const old = this.buf;
    const size = old.length * 2;
    const buf = new Array<T | undefined>(size).fill(undefined);
    for (let i = 0; i < this.length; i++) buf[i] = old[(this.head + i) & this.mask];
    this.buf = buf;
    this.head = 0;
    this.mask = size - 1;
  }
}
