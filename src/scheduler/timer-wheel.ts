/**
 * The hierarchical timer wheel behind every `sleep`, `timeout` and `interval`.
 *
 * Implementation note. Time is counted in *ticks* of `resolutionMs`; a deadline is rounded
 * up to the next tick, so a timer never fires early. The wheel keeps `elapsed`, the last
 * tick it has processed. A timer whose tick is `when` lives at the level of the highest
 * base-64 digit in which `when` differs from `elapsed` (tokio's geometry: 6 levels of 64
 * slots, 2^36 ticks of range), in the slot named by that digit. Level 0 slots therefore hold
 * timers of exactly one tick; a level L slot holds 64^L ticks and is *cascaded* (its timers
 * re-inserted one or more levels lower) when `elapsed` reaches its start. Deadlines
 * further away than the top level go to an overflow list and move into the wheel when
 * `elapsed` enters their top-level block.
 *
 * ```
 *  level 5  [ 0 | 1 | ... | 63 ]   64^5 ticks per slot   occupied: hi:lo  2 x Int32 bit masks
 *  level 4  [ 0 | 1 | ... | 63 ]   64^4 ticks per slot   occupied: hi:lo
 *   ...
 *  level 0  [ 0 | 1 | ... | 63 ]   1 tick per slot       occupied: hi:lo
 *  overflow [ list ]               past 2^36 ticks from elapsed
 *             │
 *             ▼ head[level*64 + slot] / tail[...]  (Int32Array, -1 = empty)
 *
 *  slot list:  head ─► [armed] ⇄ [cancelled] ⇄ [armed] ⇄ [cancelled] ◄─ tail
 *                              (stamp < 0, callback dropped, reclaimed lazily)
 *
 *  timer i (struct of arrays, grown by doubling, free entries chained through next[]):
 *    when[i]  Float64  deadline tick        next[i] / prev[i]  Int32  FIFO list links
 *    stamp[i] Float64  armed: its id        list[i]  Int16  list it is linked into
 *                      else: -1 - last id   unref[i] Uint8  1 when scheduled with `unref`
 *                                           callbacks[i]  plain array of functions
 *
 *  entry states:  free ──schedule──► armed ──fire──► free
 *                                      │
 *                                   cancel
 *                                      ▼
 *                        cancelled, still linked ──fire / cascade / purge──► free
 *
 *  id = gen * 2^26 + i,  gen = 1, 2, ... (mod 2^26) per use of entry i
 *  (a stale id carries an old generation: it matches no stamp and cancels nothing)
 * ```
 *
 * Slot lists are FIFO, cascades walk them head to tail, and the lowest occupied level
 * always holds the earliest timers (every timer at level L is due before the start of any
 * occupied slot at level L + 1), so timers fire in deadline order, ties in schedule order.
 * The next occupied slot of a level is found with `Math.clz32` on the two 32-bit halves of
 * its mask, never by scanning slots.
 *
 * Cancellation is lazy (as in Go's runtime timers): `cancel` compares the id with
 * `stamp[i]` (one load, one compare), stores `-1 - id` there (the id is stale at once),
 * drops the callback, reads the entry's `unref` flag and counts the entry as dead (dead =
 * cancelled - reclaimed); it touches no list, so a cancel is two loads and two stores on
 * the entry's own cells. A
 * dead entry stays linked where it was and is reclaimed (put on the free chain) when its
 * slot comes up: the fire loop and cascades skip and free it, `nextDeadline` frees dead
 * entries at the head of the earliest slot until it finds an armed one, so no deadline is
 * ever reported for cancelled timers alone. Two rules bound the dead: when the last armed
 * timer goes (`size` reaches 0), every linked entry is dead and all of them are forgotten
 * at once (lists emptied through the occupied masks, index allocation restarts at 0); and
 * a schedule that finds the free chain empty first purges every list when the dead
 * outnumber both the armed timers and `PURGE_MIN`, so the arrays never grow because of
 * cancelled timers (entries in use stay within 2 * max(PURGE_MIN, peak armed) + 1). Every path
 * that meets a dead entry reclaims it, and a purge's walk over armed entries is paid for
 * by the more numerous dead it frees, so each cancel costs amortized O(1) in all.
 */

/**
 * A timer callback; its return value is ignored. A firing timer calls it with no argument.
 * A driver that shuts down calls the callbacks of the timers still armed that declare a
 * parameter (`length >= 1`, as a promise's resolve function does) with a promise rejected
 * with `RuntimeClosedError` (see `TimerDriver.shutdown`): the resolve function of a `sleep`
 * promise then rejects it. Callbacks without a parameter are dropped without a call.
 */
export type TimerCallback = (closed?: Promise<never>) => void;

/**
 * @internal An object the wheel calls `fire()` on instead of a callback (a task's sleep:
 * one object is its timer, its park-list link and its settle functions, with no closure).
 * At a driver's shutdown it is called with the `closed` promise, like a callback with a
 * parameter.
 */
export interface TimerTarget {
  fire(closed?: Promise<never>): void;
}

/** Options for {@link TimerWheel}. */
export interface TimerWheelOptions {
  /**
   * Length of one tick in ms. Deadlines are rounded up to a whole tick.
   * @default 1
   */
  readonly resolutionMs?: number;
  /**
   * The wheel's time when it is created, in ms.
   * @default 0
   */
  readonly startMs?: number;
  /**
   * Timer slots allocated up front; the arrays double when they fill.
   * @default 64
   */
  readonly initialCapacity?: number;
}

/** Levels of the wheel. */
const LEVELS = 6;
/** Slots per level (one base-64 digit of the tick). */
const SLOTS = 64;
/** Index of the overflow list, after the LEVELS * SLOTS slot lists. */
const OVERFLOW = LEVELS * SLOTS;
/** `POW[l]` = ticks covered by one slot of level `l`; `POW[LEVELS]` = the wheel's range. */
const POW = [1, 64, 4096, 262144, 16777216, 1073741824, 68719476736] as const;
const TWO_32 = 4294967296;
/** Timer indices use the low 26 bits of an id; the generation the bits above. */
const INDEX_BITS = 26;
const INDEX_MASK = (1 << INDEX_BITS) - 1;
const GEN_SCALE = 2 ** INDEX_BITS;
/** Ids stay below 2^52 (26 bits of generation): exact doubles, and `id / GEN_SCALE` fits an int32. */
const ID_LIMIT = 2 ** 52;
const MAX_TIMERS = 1 << INDEX_BITS;
/** End of the free chain. */
const FREE = -1;
/**
 * Dead (cancelled, still linked) entries tolerated before a schedule that would take a new
 * index purges every list instead; above it, a purge happens once the dead outnumber the
 * armed timers, so a purge costs O(armed + dead + occupied slots) and frees more than half.
 */
const PURGE_MIN = 256;

/**
 * @internal The id entry `i` hands out next, from the `stamp` it holds while free or dead
 * (`-1 - its last id`): one generation on, wrapping below 2^52. Exported for the tests.
 */
export function nextId(stamp: number): number {
  const id = -1 - stamp + GEN_SCALE;
  return id < ID_LIMIT ? id : id - ID_LIMIT;
}

/** @internal The entry of timer `id` (see {@link TimerWheel.cancelTarget}). */
export function timerIndex(id: number): number {
  return id & INDEX_MASK;
}

/** Stamps of never-used entries: `-1 - i`, as if id `i` (generation 0) had been retired. */
function freshStamps(stamp: Float64Array, from: number): void {
  for (let i = from; i < stamp.length; i++) stamp[i] = -1 - i;
}

/** Index of the lowest set bit of a non-zero 32-bit mask. */
function ctz(mask: number): number {
  return 31 - Math.clz32(mask & -mask);
}

/** Base-64 digit `level` of a tick. */
function digit(tick: number, level: number): number {
  return tick < TWO_32 ? (tick >>> (6 * level)) & 63 : Math.floor(tick / POW[level]!) & 63;
}

/** The level a timer due at tick `when` belongs to, seen from tick `elapsed` (6 = overflow). */
function levelFor(elapsed: number, when: number): number {
  if (when < TWO_32) {
    // Both below 2^32 (elapsed <= when): one xor of the low words tells the highest digit that differs.
    return ((31 - Math.clz32((elapsed ^ when) | 63)) / 6) | 0;
  }
  const hi = Math.floor(elapsed / TWO_32) ^ Math.floor(when / TWO_32);
  const significant = hi !== 0 ? 63 - Math.clz32(hi) : 31 - Math.clz32((elapsed ^ when) | 63);
  const level = (significant / 6) | 0;
  return level < LEVELS ? level : LEVELS;
}

/**
 * A hierarchical timer wheel: O(1) schedule and cancel, the next deadline found through
 * occupied-slot bit masks, timers stored in typed arrays rather than one object each.
 *
 * Use it directly when you drive time yourself (a simulation, a game loop, a test); the
 * runtime's `sleep`, `timeout`, `deadline` and `interval` run on one wheel per runtime,
 * woken by one host timer armed for the next deadline.
 *
 * The wheel has its own notion of time, {@link TimerWheel.now}, moved only by
 * {@link TimerWheel.advance}. `schedule(delayMs)` counts from it.
 *
 * *Ordering*: timers fire in deadline order (deadlines rounded up to `resolutionMs`), ties
 * in schedule order, including timers that callbacks schedule during an advance.
 *
 * @example
 * ```ts
 * import { TimerWheel } from 'zokio';
 * const wheel = new TimerWheel({ resolutionMs: 1 });
 * const fired: string[] = [];
 * wheel.schedule(20, () => fired.push('b'));
 * const id = wheel.schedule(10, () => fired.push('never'));
 * wheel.schedule(10, () => fired.push('a'));
 * wheel.cancel(id);
 * wheel.advance(25); // fires 'a' then 'b'
 * console.log(fired, wheel.size); // ['a', 'b'] 0
 * ```
 */
export class TimerWheel {
  /** Length of one tick in ms. */
  readonly resolutionMs: number;
  #now: number;
  /** Last processed tick. */
  #elapsed: number;
  #capacity: number;
  /** Indices below this have been handed out at least once. */
  #used = 0;
  #free = FREE;
  /**
   * Armed timers. The only counter a cancel of a timer without `unref` updates: the others
   * are derived (refCount = size - unrefArmed, cancelled = scheduled - fired - size, dead =
   * cancelled - reclaimed), which keeps `cancel` free of dependent read-modify-writes.
   */
  #size = 0;
  /** Armed timers scheduled with `unref`. */
  #unrefArmed = 0;
  #scheduled = 0;
  #fired = 0;
  /** Cancelled entries put back on the free chain (or forgotten) so far. */
  #reclaimed = 0;
  #when: Float64Array;
  #next: Int32Array;
  #prev: Int32Array;
  /** The id while armed; `-1 - last id` (< 0) while free or dead. */
  #stamp: Float64Array;
  #list: Int16Array;
  /** 1 while the timer in entry i was scheduled with `unref`. */
  #unref: Uint8Array;
  #callbacks: Array<TimerCallback | TimerTarget | undefined> = [];
  readonly #head = new Int32Array(OVERFLOW + 1).fill(-1);
  readonly #tail = new Int32Array(OVERFLOW + 1).fill(-1);
  /** Two 32-bit occupied masks per level: [2l] slots 0..31, [2l + 1] slots 32..63. */
  readonly #occupied = new Int32Array(LEVELS * 2);

  constructor(options?: TimerWheelOptions) {
    const resolution = options?.resolutionMs ?? 1;
    if (typeof resolution !== 'number' || !(resolution > 0) || resolution === Infinity) {
      throw new RangeError(`resolutionMs must be a finite number of milliseconds > 0 (received ${String(resolution)})`);
    }
    const start = options?.startMs ?? 0;
    if (typeof start !== 'number' || !Number.isFinite(start) || start < 0) {
      throw new RangeError(`startMs must be a finite number of milliseconds >= 0 (received ${String(start)})`);
    }
    const capacity = Math.max(1, Math.min(MAX_TIMERS, Math.floor(options?.initialCapacity ?? 64)));
    this.resolutionMs = resolution;
    this.#now = start;
    this.#elapsed = Math.floor(start / resolution);
    this.#capacity = capacity;
    this.#when = new Float64Array(capacity);
    this.#next = new Int32Array(capacity);
    this.#prev = new Int32Array(capacity);
    this.#stamp = new Float64Array(capacity);
    freshStamps(this.#stamp, 0);
    this.#list = new Int16Array(capacity);
    this.#unref = new Uint8Array(capacity);
  }

  /** Timers scheduled and not yet fired or cancelled. */
  get size(): number {
    return this.#size;
  }

  /** Armed timers that were scheduled without `unref` (the ones that keep a process alive). */
  get refCount(): number {
    return this.#size - this.#unrefArmed;
  }

  /** The wheel's time in ms: where the last {@link TimerWheel.advance} left it. */
  get now(): number {
    return this.#now;
  }

  /** Timers fired since the wheel was created. */
  get firedCount(): number {
    return this.#fired;
  }

  /** Timers cancelled since the wheel was created. */
  get cancelledCount(): number {
    return this.#cancelled();
  }

  #cancelled(): number {
    return this.#scheduled - this.#fired - this.#size;
  }

  /**
   * Schedules `callback` to run `delayMs` after the wheel's current time and returns the
   * timer's id.
   *
   * @param delayMs finite number >= 0; rounded up to a whole tick.
   * @param unref the timer does not count in {@link TimerWheel.refCount}. @default false
   * @throws RangeError naming `delayMs` when it is negative, NaN or infinite.
   */
  schedule(delayMs: number, callback: TimerCallback, unref = false): number {
    if (typeof delayMs !== 'number' || !(delayMs >= 0) || delayMs === Infinity) {
      throw new RangeError(`delayMs must be a finite number of milliseconds >= 0 (received ${String(delayMs)})`);
    }
    return this.#add(this.#now + delayMs, callback, unref);
  }

  /**
   * Schedules `callback` at the absolute time `deadlineMs` (on the wheel's time line) and
   * returns the timer's id. A deadline in the past fires on the next advance.
   *
   * @param unref the timer does not count in {@link TimerWheel.refCount}. @default false
   * @throws RangeError naming `deadlineMs` when it is NaN or infinite.
   */
  scheduleAt(deadlineMs: number, callback: TimerCallback, unref = false): number {
    if (typeof deadlineMs !== 'number' || !(deadlineMs > -Infinity && deadlineMs < Infinity)) {
      throw new RangeError(`deadlineMs must be a finite number of milliseconds (received ${String(deadlineMs)})`);
    }
    return this.#add(deadlineMs, callback, unref);
  }

  /**
   * @internal {@link TimerWheel.scheduleAt} without the check of `deadlineMs`, for the
   * runtime's timer driver, whose deadlines are computed from input it has checked.
   */
  scheduleAtTrusted(deadlineMs: number, callback: TimerCallback | TimerTarget, unref: boolean): number {
    return this.#add(deadlineMs, callback, unref);
  }

  #add(deadlineMs: number, callback: TimerCallback | TimerTarget, unref: boolean): number {
    if (typeof callback !== 'function' && (typeof callback !== 'object' || callback === null || typeof callback.fire !== 'function')) {
      throw new TypeError(`callback must be a function (received ${typeof callback})`);
    }
    let i = this.#free;
    if (i === FREE) {
      // Reclaim the dead before taking a new index: cancelled timers never grow the arrays.
      const dead = this.#cancelled() - this.#reclaimed;
      if (dead > PURGE_MIN && dead > this.#size) {
        this.#purge();
        i = this.#free;
      }
    }
    if (i !== FREE) this.#free = this.#next[i]!;
    else {
      if (this.#used === this.#capacity) this.#grow();
      i = this.#used++;
    }
    if (this.#size === 0) {
      // An empty wheel can jump to its current time, so new timers land on low levels.
      const tick = Math.floor(this.#now / this.resolutionMs);
      if (tick > this.#elapsed) this.#elapsed = tick;
    }
    const resolution = this.resolutionMs;
    // The default 1 ms resolution skips the divide (a measurable part of a schedule).
    let when = resolution === 1 ? Math.ceil(deadlineMs) : Math.ceil(deadlineMs / resolution);
    if (when < this.#elapsed) when = this.#elapsed;
    this.#when[i] = when;
    this.#callbacks[i] = callback;
    this.#size++;
    this.#scheduled++;
    const id = nextId(this.#stamp[i]!);
    this.#stamp[i] = id;
    if (unref) {
      this.#unref[i] = 1;
      this.#unrefArmed++;
    } else this.#unref[i] = 0;
    this.#insert(i, when);
    return id;
  }

  /**
   * Cancels a timer. Returns true when the timer was armed and is now cancelled; false for
   * an unknown id, a timer that already fired or was cancelled, or a stale id whose slot
   * has been reused (nothing changes then). O(1): the callback is released at once, the
   * entry's slot later (see the implementation note).
   */
  cancel(id: number): boolean {
    const i = id & INDEX_MASK;
    // A free or dead entry's stamp is negative, an armed one's is its id: one compare
    // rejects unknown, fired, cancelled and stale ids alike.
    if (i >= this.#used || this.#stamp[i] !== id) return false;
    // Lazy: the entry stays linked, dead, until its slot is processed or a purge frees it.
    this.#stamp[i] = -1 - id;
    this.#callbacks[i] = undefined;
    if (this.#unref[i] !== 0) this.#unrefArmed--;
    if (--this.#size === 0) this.#dropAll();
    return true;
  }

  /**
   * @internal Cancels the armed timer of `target` at entry `index` (`timerIndex` of its id); false
   * when that entry holds no armed timer of `target`. For a target scheduled once (a
   * task's sleep), the target itself tells its timer from a later use of the entry, so its
   * owner keeps the index, a small integer, and not the id, which outgrows a small integer
   * after 32 uses of one entry and then costs a 16 B number box per field.
   */
  cancelTarget(index: number, target: TimerTarget): boolean {
    const id = this.armedIdOf(index, target);
    return id >= 0 && this.cancel(id);
  }

  /** @internal The id of `target`'s armed timer at entry `index`, or a negative number when that entry holds none (see {@link cancelTarget}). */
  armedIdOf(index: number, target: TimerTarget): number {
    // An armed entry's stamp is its id (>= 0); a free or dead one's is negative.
    return index < this.#used && this.#callbacks[index] === target ? this.#stamp[index]! : -1;
  }

  /** True when `id` names a timer that is armed (scheduled, not fired, not cancelled). */
  has(id: number): boolean {
    const i = id & INDEX_MASK;
    return i < this.#used && this.#stamp[i] === id;
  }

  /**
   * The time (ms) by which {@link TimerWheel.advance} must next be called, or `undefined`
   * when no timer is armed. It is the earliest deadline when that timer is in the lowest
   * level, otherwise the start of the slot that holds it (a cascade point, never later than
   * the earliest deadline). It may be at or before {@link TimerWheel.now} when timers are due.
   */
  nextDeadline(): number | undefined {
    if (this.#size === 0) return undefined;
    const elapsed = this.#elapsed;
    for (let level = 0; level < LEVELS; level++) {
      let slot: number;
      // Slots holding only cancelled timers are emptied on the way (each dead entry once).
      while ((slot = this.#nextSlot(level, digit(elapsed, level))) >= 0) {
        if (this.#dropDeadHead(level * SLOTS + slot)) return this.#slotStart(elapsed, level, slot) * this.resolutionMs;
      }
    }
    return this.#overflowStart() * this.resolutionMs;
  }

  /**
   * Moves the wheel's time to `nowMs` and fires every timer due by then, in deadline order
   * (ties in schedule order). While a callback runs, {@link TimerWheel.now} is the tick of
   * its deadline, so a timer it schedules counts from there; if that timer is due by
   * `nowMs` it fires in this same call. Returns the number of timers fired. A `nowMs`
   * before the wheel's time fires nothing.
   *
   * A callback that throws leaves the wheel consistent: the exception propagates, and the
   * timers still due fire on the next advance.
   */
  advance(nowMs: number): number {
    if (typeof nowMs !== 'number' || Number.isNaN(nowMs)) throw new RangeError(`nowMs must be a number of milliseconds (received ${String(nowMs)})`);
    if (nowMs < this.#now) return 0;
    const resolution = this.resolutionMs;
    const nowTick = Math.floor(nowMs / resolution);
    const head = this.#head;
    let fired = 0;
    while (this.#size > 0) {
      const elapsed = this.#elapsed;
      let level = 0;
      let slot = -1;
      for (; level < LEVELS; level++) {
        slot = this.#nextSlot(level, digit(elapsed, level));
        if (slot >= 0) break;
      }
      if (slot < 0) {
        // Only overflow timers are left: move into the top-level block of the earliest one.
        const start = this.#overflowStart();
        if (start > nowTick) break;
        this.#elapsed = start;
        this.#cascade(OVERFLOW);
        continue;
      }
      const start = this.#slotStart(elapsed, level, slot);
      if (start > nowTick) break;
      this.#elapsed = start;
      const list = level * SLOTS + slot;
      if (level > 0) {
        this.#cascade(list);
        continue;
      }
      const tickMs = start * resolution;
      if (tickMs > this.#now) this.#now = tickMs;
      // Pop one at a time: callbacks may cancel timers of this slot or append new ones to it.
      let i: number;
      while ((i = head[list]!) !== -1) {
        this.#unlink(i);
        if (this.#stamp[i]! < 0) {
          this.#reclaim(i);
          continue;
        }
        const callback = this.#callbacks[i]!;
        this.#fired++; // before the release, which derives the cancelled count from it
        this.#release(i);
        fired++;
        if (typeof callback === 'function') callback();
        else callback.fire();
      }
    }
    if (nowTick > this.#elapsed) this.#elapsed = nowTick;
    if (nowMs > this.#now) this.#now = nowMs;
    return fired;
  }

  /**
   * Cancels every timer (their ids become stale) without firing any; returns the callbacks
   * of the timers that were armed, in no particular order.
   */
  clear(): Array<TimerCallback | TimerTarget> {
    const stamp = this.#stamp;
    const armed: Array<TimerCallback | TimerTarget> = [];
    for (let i = 0; i < this.#used; i++) {
      if (stamp[i]! >= 0) {
        stamp[i] = -1 - stamp[i]!;
        armed.push(this.#callbacks[i]!);
        this.#callbacks[i] = undefined;
      }
    }
    this.#size = 0; // the armed timers count as cancelled from here
    this.#unrefArmed = 0;
    this.#head.fill(-1);
    this.#tail.fill(-1);
    this.#occupied.fill(0);
    this.#forgetIndices();
    return armed;
  }

  /** First occupied slot of `level` at or after `from`, or -1. */
  #nextSlot(level: number, from: number): number {
    const lo = this.#occupied[2 * level]!;
    const hi = this.#occupied[2 * level + 1]!;
    if (from < 32) {
      const m = lo & (-1 << from);
      if (m !== 0) return ctz(m);
      return hi !== 0 ? 32 + ctz(hi) : -1;
    }
    const m = hi & (-1 << (from - 32));
    return m !== 0 ? 32 + ctz(m) : -1;
  }

  /** First tick of `slot` at `level` in the block of `elapsed`. */
  #slotStart(elapsed: number, level: number, slot: number): number {
    const block = POW[level + 1]!;
    return Math.floor(elapsed / block) * block + slot * POW[level]!;
  }

  /** First tick of the top-level block that holds the earliest armed overflow timer (dead ones are reclaimed). */
  #overflowStart(): number {
    let min = Infinity;
    for (let i = this.#head[OVERFLOW]!; i !== -1; ) {
      const next = this.#next[i]!;
      if (this.#stamp[i]! < 0) {
        this.#unlink(i);
        this.#reclaim(i);
      } else if (this.#when[i]! < min) min = this.#when[i]!;
      i = next;
    }
    return Math.floor(min / POW[LEVELS]!) * POW[LEVELS]!;
  }

  /** Reclaims the dead entries at the head of `list`; true when an armed timer is left at its head. */
  #dropDeadHead(list: number): boolean {
    let i: number;
    while ((i = this.#head[list]!) !== -1) {
      if (this.#stamp[i]! >= 0) return true;
      this.#unlink(i);
      this.#reclaim(i);
    }
    return false;
  }

  /**
   * Re-inserts every armed timer of `list` from the current `elapsed` (they move to lower
   * levels) and reclaims the dead ones.
   */
  #cascade(list: number): void {
    let i = this.#head[list]!;
    this.#head[list] = -1;
    this.#tail[list] = -1;
    if (list < OVERFLOW) {
      const level = (list / SLOTS) | 0;
      const slot = list & 63;
      this.#occupied[2 * level + (slot >> 5)]! &= ~(1 << (slot & 31));
    }
    while (i !== -1) {
      const next = this.#next[i]!;
      if (this.#stamp[i]! >= 0) this.#insert(i, this.#when[i]!);
      else this.#reclaim(i);
      i = next;
    }
  }

  /** Reclaims every dead entry of every list, keeping the armed ones in order. */
  #purge(): void {
    const occupied = this.#occupied;
    for (let w = 0; w < LEVELS * 2; w++) {
      // Word w of the masks covers lists w * 32 .. w * 32 + 31 (level w >> 1, half w & 1).
      for (let mask = occupied[w]!; mask !== 0; mask &= mask - 1) this.#purgeList(w * 32 + ctz(mask));
    }
    this.#purgeList(OVERFLOW);
  }

  #purgeList(list: number): void {
    for (let i = this.#head[list]!; i !== -1; ) {
      const next = this.#next[i]!;
      if (this.#stamp[i]! < 0) {
        this.#unlink(i);
        this.#reclaim(i);
      }
      i = next;
    }
  }

  /**
   * The last armed timer is gone: every entry still linked is dead. Empties the occupied
   * lists (O(occupied slots), not O(dead)) and restarts index allocation at 0.
   */
  #dropAll(): void {
    if (this.#cancelled() !== this.#reclaimed) {
      const occupied = this.#occupied;
      const head = this.#head;
      const tail = this.#tail;
      for (let w = 0; w < LEVELS * 2; w++) {
        for (let mask = occupied[w]!; mask !== 0; mask &= mask - 1) {
          const list = w * 32 + ctz(mask);
          head[list] = -1;
          tail[list] = -1;
        }
        occupied[w] = 0;
      }
      head[OVERFLOW] = -1;
      tail[OVERFLOW] = -1;
    }
    this.#forgetIndices();
  }

  /**
   * With no entry linked, every index is free: forget the free chain and hand indices out
   * from 0 again, in order. Generations are kept, so every old id stays stale.
   */
  #forgetIndices(): void {
    this.#reclaimed = this.#cancelled();
    this.#free = FREE;
    this.#used = 0;
  }

  /** Appends timer `i` to the tail of the list its deadline belongs to. */
  #insert(i: number, when: number): void {
    const level = levelFor(this.#elapsed, when);
    let list: number;
    if (level === LEVELS) list = OVERFLOW;
    else {
      const slot = digit(when, level);
      list = level * SLOTS + slot;
      this.#occupied[2 * level + (slot >> 5)]! |= 1 << (slot & 31);
    }
    const tail = this.#tail[list]!;
    this.#prev[i] = tail;
    this.#next[i] = -1;
    if (tail === -1) this.#head[list] = i;
    else this.#next[tail] = i;
    this.#tail[list] = i;
    this.#list[i] = list;
  }

  /** Takes timer `i` out of its list. */
  #unlink(i: number): void {
    const list = this.#list[i]!;
    const prev = this.#prev[i]!;
    const next = this.#next[i]!;
    if (prev === -1) this.#head[list] = next;
    else this.#next[prev] = next;
    if (next === -1) this.#tail[list] = prev;
    else this.#prev[next] = prev;
    if (prev === -1 && next === -1 && list < OVERFLOW) {
      const level = (list / SLOTS) | 0;
      const slot = list & 63;
      this.#occupied[2 * level + (slot >> 5)]! &= ~(1 << (slot & 31));
    }
  }

  /** Returns armed timer `i` (unlinked, about to fire) to the free chain and retires its id. */
  #release(i: number): void {
    this.#stamp[i] = -1 - this.#stamp[i]!;
    if (this.#unref[i] !== 0) this.#unrefArmed--;
    this.#callbacks[i] = undefined;
    this.#next[i] = this.#free;
    this.#free = i;
    if (--this.#size === 0) this.#dropAll();
  }

  /** Returns dead entry `i` (unlinked; its id already retired by `cancel`) to the free chain. */
  #reclaim(i: number): void {
    this.#next[i] = this.#free;
    this.#free = i;
    this.#reclaimed++;
  }

  /** Doubles every per-timer array. */
  #grow(): void {
    if (this.#capacity >= MAX_TIMERS) throw new RangeError(`a timer wheel holds at most ${MAX_TIMERS} timers`);
    const capacity = Math.min(MAX_TIMERS, this.#capacity * 2);
    const when = new Float64Array(capacity);
    when.set(this.#when);
    this.#when = when;
    const next = new Int32Array(capacity);
    next.set(this.#next);
    this.#next = next;
    const prev = new Int32Array(capacity);
    prev.set(this.#prev);
    this.#prev = prev;
    const stamp = new Float64Array(capacity);
    stamp.set(this.#stamp);
    freshStamps(stamp, this.#capacity);
    this.#stamp = stamp;
    const list = new Int16Array(capacity);
    list.set(this.#list);
    this.#list = list;
    const unrefs = new Uint8Array(capacity);
    unrefs.set(this.#unref);
    this.#unref = unrefs;
    this.#capacity = capacity;
  }
}
