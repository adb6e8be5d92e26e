import fc from 'fast-check';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { TimerWheel, nextId, timerIndex } from '../../src/scheduler/timer-wheel.js';

/** Slot widths of the six levels, in ticks. */
const LEVEL = [1, 64, 64 ** 2, 64 ** 3, 64 ** 4, 64 ** 5];
const RANGE = 64 ** 6;
/** PURGE_MIN in timer-wheel.ts: dead entries tolerated before a new entry index triggers a purge. */
const PURGE_MIN = 256;

describe('TimerWheel', () => {
  it('fires due timers in deadline order, ties in schedule order', () => {
    const wheel = new TimerWheel();
    const fired: string[] = [];
    wheel.schedule(20, () => fired.push('c'));
    wheel.schedule(10, () => fired.push('a1'));
    wheel.schedule(15, () => fired.push('b'));
    wheel.schedule(10, () => fired.push('a2'));
    wheel.schedule(0, () => fired.push('zero'));
    expect(wheel.size).toBe(5);
    expect(wheel.advance(9)).toBe(1);
    expect(fired).toEqual(['zero']);
    expect(wheel.advance(15)).toBe(3);
    expect(fired).toEqual(['zero', 'a1', 'a2', 'b']);
    wheel.advance(100);
    expect(fired).toEqual(['zero', 'a1', 'a2', 'b', 'c']);
    expect(wheel.size).toBe(0);
    expect(wheel.nextDeadline()).toBeUndefined();
  });

  it('never fires early: deadlines round up to the resolution', () => {
    const wheel = new TimerWheel({ resolutionMs: 10 });
    let fired = 0;
    wheel.schedule(15, () => fired++);
    wheel.advance(19.9);
    expect(fired).toBe(0);
    expect(wheel.nextDeadline()).toBe(20);
    wheel.advance(20);
    expect(fired).toBe(1);
  });

  it('cascades timers across every level and fires each at exactly its tick', () => {
    const delays: number[] = [];
    for (let level = 0; level < 6; level++) {
      const w = LEVEL[level]!;
      delays.push(w, w + 1, 2 * w - 1, 63 * w, 63 * w + 17);
    }
    delays.push(RANGE - 1);
    for (const start of [0, 37, 64 ** 3 - 5]) {
      const wheel = new TimerWheel({ startMs: start });
      const fired: number[] = [];
      for (const d of delays) wheel.schedule(d, () => fired.push(d));
      const sorted = [...new Set(delays)].sort((a, b) => a - b);
      for (const d of sorted) {
        const count = delays.filter((x) => x === d).length;
        const next = wheel.nextDeadline()!;
        expect(next).toBeLessThanOrEqual(start + d);
        wheel.advance(start + d - 1);
        expect(fired.length).toBe(delays.filter((x) => x < d).length);
        wheel.advance(start + d);
        expect(fired.slice(-count)).toEqual(Array(count).fill(d));
      }
      expect(wheel.size).toBe(0);
    }
  });

  it('keeps delays past the top level in an overflow list and still fires them', () => {
    const wheel = new TimerWheel();
    const fired: number[] = [];
    const far = [RANGE, RANGE + 5, 3 * RANGE + 1, 2 ** 45];
    for (const d of far) wheel.schedule(d, () => fired.push(d));
    const cancelled = wheel.schedule(2 * RANGE, () => fired.push(-1));
    expect(wheel.nextDeadline()).toBeLessThanOrEqual(RANGE);
    expect(wheel.cancel(cancelled)).toBe(true);
    for (const d of far) {
      wheel.advance(d - 1);
      expect(fired).not.toContain(d);
      wheel.advance(d);
      expect(fired[fired.length - 1]).toBe(d);
    }
    expect(fired).toEqual(far);
    expect(wheel.size).toBe(0);
  });

  it('works past 2^32 ticks of elapsed time', () => {
    const start = 2 ** 33 + 12345;
    const wheel = new TimerWheel({ startMs: start });
    const fired: number[] = [];
    for (const d of [1, 64, 5000, 2 ** 31, 2 ** 35 + 3, 2 ** 37]) wheel.schedule(d, () => fired.push(d));
    for (const d of [1, 64, 5000, 2 ** 31, 2 ** 35 + 3, 2 ** 37]) {
      wheel.advance(start + d - 1);
      expect(fired).not.toContain(d);
      wheel.advance(start + d);
      expect(fired[fired.length - 1]).toBe(d);
    }
  });

  it('rejects bad delays with a RangeError naming the argument', () => {
    const wheel = new TimerWheel();
    for (const bad of [-1, Number.NaN, Infinity, -Infinity]) {
      expect(() => wheel.schedule(bad, () => {})).toThrow(RangeError);
      expect(() => wheel.schedule(bad, () => {})).toThrow(/delayMs/);
    }
    expect(() => wheel.scheduleAt(Number.NaN, () => {})).toThrow(/deadlineMs/);
    expect(() => wheel.schedule(1, 'nope' as never)).toThrow(TypeError);
    expect(() => new TimerWheel({ resolutionMs: 0 })).toThrow(/resolutionMs/);
    expect(wheel.size).toBe(0);
  });

  it('cancelling an unknown, fired, cancelled or stale id returns false and changes nothing', () => {
    const wheel = new TimerWheel();
    const fired: string[] = [];
    const a = wheel.schedule(5, () => fired.push('a'));
    wheel.schedule(10, () => fired.push('b'));
    expect(wheel.cancel(12345)).toBe(false);
    expect(wheel.cancel(-1)).toBe(false);
    expect(wheel.cancel(Number.NaN)).toBe(false);
    expect(wheel.cancel(0.5)).toBe(false);
    wheel.advance(5);
    expect(fired).toEqual(['a']);
    expect(wheel.cancel(a)).toBe(false); // already fired
    // The slot of `a` is reused by `c`; the stale id `a` must not cancel `c`.
    const c = wheel.schedule(1, () => fired.push('c'));
    expect(c).not.toBe(a);
    expect(wheel.cancel(a)).toBe(false);
    expect(wheel.size).toBe(2);
    expect(wheel.cancel(c)).toBe(true);
    expect(wheel.cancel(c)).toBe(false); // already cancelled
    expect(wheel.size).toBe(1);
    wheel.advance(20);
    expect(fired).toEqual(['a', 'b']);
  });

  it('lets callbacks schedule and cancel timers during an advance', () => {
    const wheel = new TimerWheel();
    const fired: string[] = [];
    let victim = -1;
    wheel.schedule(10, () => {
      fired.push('a@' + wheel.now);
      wheel.schedule(0, () => fired.push('a0@' + wheel.now));
      wheel.schedule(5, () => fired.push('a5@' + wheel.now));
      wheel.cancel(victim);
    });
    victim = wheel.schedule(10, () => fired.push('victim'));
    wheel.schedule(12, () => fired.push('b@' + wheel.now));
    wheel.advance(100);
    expect(fired).toEqual(['a@10', 'a0@10', 'b@12', 'a5@15']);
    expect(wheel.now).toBe(100);
  });

  it('stays consistent when a callback throws', () => {
    const wheel = new TimerWheel();
    const fired: number[] = [];
    wheel.schedule(1, () => fired.push(1));
    wheel.schedule(2, () => {
      throw new Error('boom');
    });
    wheel.schedule(3, () => fired.push(3));
    expect(() => wheel.advance(10)).toThrow('boom');
    expect(fired).toEqual([1]);
    expect(wheel.size).toBe(1);
    wheel.advance(10);
    expect(fired).toEqual([1, 3]);
  });

  it('grows by doubling and reuses freed slots', () => {
    const wheel = new TimerWheel({ initialCapacity: 4 });
    const fired: number[] = [];
    const ids: number[] = [];
    for (let i = 0; i < 10_000; i++) ids.push(wheel.schedule(i % 977, () => fired.push(i)));
    for (let i = 0; i < 10_000; i += 2) expect(wheel.cancel(ids[i]!)).toBe(true);
    expect(wheel.size).toBe(5_000);
    wheel.advance(1000);
    const expected = Array.from({ length: 5_000 }, (_, k) => 2 * k + 1).sort((x, y) => (x % 977) - (y % 977) || x - y);
    expect(fired).toEqual(expected);
    expect(wheel.firedCount).toBe(5_000);
    expect(wheel.cancelledCount).toBe(5_000);
  });

  it('counts timers that keep a process alive (refCount)', () => {
    const wheel = new TimerWheel();
    const a = wheel.schedule(5, () => {});
    wheel.schedule(5, () => {}, true);
    expect(wheel.size).toBe(2);
    expect(wheel.refCount).toBe(1);
    wheel.cancel(a);
    expect(wheel.refCount).toBe(0);
    wheel.clear();
    expect(wheel.size).toBe(0);
  });
});

describe('TimerWheel ids', () => {
  const SCALE = 2 ** 26;

  it('the next id of an entry keeps its index, one generation on, below 2^52', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: SCALE - 1 }), fc.integer({ min: 0, max: SCALE - 1 }), (index, gen) => {
        const id = gen * SCALE + index;
        const next = nextId(-1 - id); // the stamp an entry holds once `id` is retired
        expect(next).toBeLessThan(2 ** 52);
        expect(next % SCALE).toBe(index);
        expect(next & (SCALE - 1)).toBe(index); // how the wheel reads the index of a double id
        expect(Math.floor(next / SCALE)).toBe((gen + 1) % SCALE);
      }),
    );
  });

  it('the last generation wraps to generation 0, and a fresh entry starts at generation 1', () => {
    const index = 12_345;
    expect(nextId(-1 - ((SCALE - 1) * SCALE + index))).toBe(index);
    expect(nextId(-1 - index)).toBe(SCALE + index); // a fresh entry's stamp
  });

  it('an unref timer and a ref timer reusing its entry keep refCount right', () => {
    const wheel = new TimerWheel();
    const a = wheel.schedule(10, () => {}, true);
    expect(wheel.refCount).toBe(0);
    wheel.cancel(a);
    const b = wheel.schedule(10, () => {}); // the same entry, now without unref
    expect(b % SCALE).toBe(a % SCALE);
    expect(wheel.refCount).toBe(1);
    wheel.advance(10);
    expect([wheel.size, wheel.refCount]).toEqual([0, 0]);
    const c = wheel.schedule(10, () => {}, true);
    expect(c % SCALE).toBe(a % SCALE);
    expect([wheel.size, wheel.refCount]).toEqual([1, 0]);
  });
});

describe('TimerWheel cancelTarget (a target keeps its entry index, not its id)', () => {
  /** A target that counts its fires. */
  function target(): { fire: () => void; fired: number } {
    const t = { fired: 0, fire: () => void t.fired++ };
    return t;
  }

  it('cancels the armed timer of its own target, once; never another target on the entry', () => {
    const wheel = new TimerWheel();
    const a = target();
    const index = timerIndex(wheel.scheduleAtTrusted(10, a, false));
    expect(wheel.cancelTarget(index, target())).toBe(false); // not this entry's target
    expect(wheel.cancelTarget(index + 1, a)).toBe(false); // not its entry
    expect(wheel.size).toBe(1);
    expect(wheel.cancelTarget(index, a)).toBe(true);
    expect(wheel.cancelTarget(index, a)).toBe(false);
    expect([wheel.size, wheel.refCount]).toEqual([0, 0]);
    wheel.advance(20);
    expect(a.fired).toBe(0);
  });

  it('a fired target, or one whose entry was taken by a later timer, cancels nothing', () => {
    const wheel = new TimerWheel();
    const a = target();
    const index = timerIndex(wheel.scheduleAtTrusted(5, a, false));
    wheel.advance(5);
    expect(a.fired).toBe(1);
    const b = target();
    expect(timerIndex(wheel.scheduleAtTrusted(10, b, false))).toBe(index); // the entry again
    expect(wheel.cancelTarget(index, a)).toBe(false);
    wheel.advance(10);
    expect(b.fired).toBe(1);
  });

  it('works the same once the entry has been used past 2^31 (ids are no longer small integers)', () => {
    const wheel = new TimerWheel();
    let id = 0;
    for (let i = 0; i < 40; i++) wheel.cancel((id = wheel.schedule(10, () => {})));
    expect(id).toBeGreaterThan(2 ** 31);
    const a = target();
    const armed = wheel.scheduleAtTrusted(10, a, false);
    expect(timerIndex(armed)).toBe(timerIndex(id));
    expect(timerIndex(armed)).toBeLessThan(2 ** 26);
    expect(wheel.cancelTarget(timerIndex(armed), a)).toBe(true);
    expect(wheel.size).toBe(0);
  });
});

describe('TimerWheel lazy cancellation', () => {
  /** The entry index an id names (its low 26 bits); the generation is above. */
  const indexOf = (id: number): number => id % 2 ** 26;

  it('cancelled timers never fire, and cancel is exact however often it is repeated', () => {
    const wheel = new TimerWheel();
    const fired: number[] = [];
    const ids = Array.from({ length: 10 }, (_, k) => wheel.schedule(5 + k * 1000, () => fired.push(k)));
    for (let k = 0; k < 10; k += 3) expect(wheel.cancel(ids[k]!)).toBe(true);
    for (let k = 0; k < 10; k += 3) expect(wheel.cancel(ids[k]!)).toBe(false);
    expect(ids.map((id) => wheel.has(id))).toEqual(ids.map((_, k) => k % 3 !== 0));
    expect(wheel.size).toBe(6);
    expect(wheel.cancelledCount).toBe(4);
    wheel.advance(20_000);
    expect(fired).toEqual([1, 2, 4, 5, 7, 8]);
    expect(wheel.size).toBe(0);
  });

  it('drops the callback of a cancelled timer at once, so its closure can be collected', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const wheel = new TimerWheel();
    wheel.schedule(50, () => {}); // keeps the wheel non-empty: no bulk reclaim
    const ref = ((): WeakRef<object> => {
      const big = { payload: new Array<number>(1000).fill(1) };
      wheel.cancel(wheel.schedule(10_000, () => big.payload.length));
      return new WeakRef(big);
    })();
    await new Promise((resolve) => setImmediate(resolve)); // WeakRef targets are kept until the job ends
    gc();
    expect(ref.deref()).toBeUndefined();
    expect(wheel.size).toBe(1);
  });

  it('nextDeadline skips slots that hold only cancelled timers, at every level and in the overflow list', () => {
    const cases: Array<[cancelled: number[], armed: number, next: number]> = [
      [[1, 2, 3], 7, 7], // level 0
      [[10, 70, 130], 4000, 3968], // level 0 and level 1, armed at level 1 (slot start 62 * 64)
      [[5, 5000, 300_000], 64 ** 4 + 3, 64 ** 4], // levels 0, 2, 3; armed at level 4
      [[7, RANGE + 5], 3 * RANGE + 1, 3 * RANGE], // overflow: the earliest armed overflow timer decides
    ];
    for (const [cancelled, armed, next] of cases) {
      const wheel = new TimerWheel();
      const ids = cancelled.map((d) => wheel.schedule(d, () => {}));
      const fired: number[] = [];
      wheel.schedule(armed, () => fired.push(armed));
      for (const id of ids) wheel.cancel(id);
      expect(wheel.nextDeadline()).toBe(next);
      wheel.advance(armed - 1);
      expect(fired).toEqual([]);
      wheel.advance(armed);
      expect(fired).toEqual([armed]);
      expect(wheel.nextDeadline()).toBeUndefined();
    }
  });

  it('a slot reached by time reclaims its cancelled timers for new ones', () => {
    const wheel = new TimerWheel();
    wheel.schedule(100, () => {});
    const b = wheel.schedule(10, () => {});
    wheel.cancel(b);
    wheel.advance(50); // processes slot 10: its dead entry goes back to the free chain
    const c = wheel.schedule(5, () => {});
    expect(indexOf(c)).toBe(indexOf(b));
    expect(c).not.toBe(b);
    expect(wheel.cancel(b)).toBe(false); // the stale id does not cancel `c`
    expect(wheel.has(c)).toBe(true);
  });

  it('when the last armed timer is cancelled, every cancelled entry is reclaimed at once', () => {
    const wheel = new TimerWheel();
    const ids = [3, 100, 5000, 300_000, RANGE + 1].map((d) => wheel.schedule(d, () => {}));
    for (const id of ids) wheel.cancel(id);
    expect(wheel.size).toBe(0);
    expect(wheel.nextDeadline()).toBeUndefined();
    const fired: string[] = [];
    const fresh = wheel.schedule(3, () => fired.push('fresh'));
    expect(indexOf(fresh)).toBe(0); // entries are handed out from the start again
    for (const id of ids) expect(wheel.cancel(id)).toBe(false);
    wheel.advance(RANGE + 10);
    expect(fired).toEqual(['fresh']);
    expect(wheel.firedCount).toBe(1);
  });

  it('keeps refCount exact through cancels and fires of ref and unref timers on reused entries', () => {
    const wheel = new TimerWheel({ initialCapacity: 2 });
    wheel.schedule(1_000, () => {}); // stays armed: entries are reused one by one, not all reset
    for (let round = 0; round < 50; round++) {
      const unref = round % 3 === 0;
      const a = wheel.schedule(5, () => {}, unref);
      const b = wheel.schedule(5, () => {}, !unref);
      expect(wheel.refCount).toBe(2);
      expect(wheel.cancel(a)).toBe(true);
      expect(wheel.refCount).toBe(unref ? 2 : 1);
      expect(wheel.cancel(a)).toBe(false);
      expect(wheel.refCount).toBe(unref ? 2 : 1);
      wheel.advance(wheel.now + 5); // fires b, reclaims a
      expect(wheel.has(b)).toBe(false);
      expect(wheel.refCount).toBe(1);
      expect(wheel.size).toBe(1);
    }
    expect(wheel.firedCount).toBe(50);
    expect(wheel.cancelledCount).toBe(50);
  });

  it('schedule/cancel churn reuses cancelled entries instead of growing the arrays', () => {
    for (const armedCount of [1, 1000]) {
      const wheel = new TimerWheel({ initialCapacity: 4 });
      const fired: number[] = [];
      for (let k = 0; k < armedCount; k++) wheel.schedule(60_000 + k, () => fired.push(k));
      let maxIndex = 0;
      for (let k = 0; k < 100_000; k++) {
        // A request with a 30 s timeout that finishes almost at once, 1 ms apart.
        const id = wheel.schedule(30_000, () => fired.push(-1));
        maxIndex = Math.max(maxIndex, indexOf(id));
        wheel.cancel(id);
        if (k % 100 === 0) wheel.advance(wheel.now + 1);
      }
      // Entries in use never exceed the armed timers plus max(PURGE_MIN, armed) dead ones.
      expect(maxIndex).toBeLessThanOrEqual(armedCount + Math.max(PURGE_MIN, armedCount));
      expect(wheel.size).toBe(armedCount);
      expect(wheel.cancelledCount).toBe(100_000);
      wheel.advance(200_000);
      expect(fired).toEqual(Array.from({ length: armedCount }, (_, k) => k));
    }
  });
});

// ---------------------------------------------------------------------------------------
// Model-based property tests: the wheel against a naive sorted list.

type Op =
  | { kind: 'schedule'; delay: number; child: number | undefined }
  /** Cancel the `pick`-th timer ever scheduled (an unknown id when out of range). */
  | { kind: 'cancel'; pick: number }
  /** Cancel the timer scheduled `back` schedules ago. */
  | { kind: 'cancelRecent'; back: number }
  /** Cancel every pending timer, newest first or oldest first. */
  | { kind: 'cancelAll'; newestFirst: boolean }
  /** Schedule `count` timers and cancel them all at once, except every `keepEvery`-th (0: none kept). */
  | { kind: 'churn'; count: number; delay: number; keepEvery: number }
  | { kind: 'advance'; dt: number }
  /** Advance to exactly the earliest pending deadline, plus `extra` ticks (often 0 or -1). */
  | { kind: 'advanceToNext'; extra: number };

interface ModelTimer {
  readonly label: number;
  readonly tick: number;
  readonly seq: number;
  readonly child: number | undefined;
  /** Scheduled into a different 2^36-tick block than the wheel's time: it went to the overflow list. */
  readonly overflow: boolean;
  pending: boolean;
  /** The child the model scheduled when it fired this timer. */
  childTimer?: ModelTimer;
}

/** Delays on and next to level boundaries, repeated often so that ties are common. */
const EDGES = [0, 1, 2, 63, 64, 65, 100, 4095, 4096, 4097, 64 ** 3, 64 ** 3 + 1, 64 ** 4 - 1, 64 ** 5, 64 ** 6 - 1, 64 ** 6, 64 ** 6 + 1];
const delayArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...EDGES) },
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 100 }) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 64 ** 3 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 2 ** 40 }) },
  { weight: 1, arbitrary: fc.double({ min: 0, max: 1000, noNaN: true }) },
);
const dtArb = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 100 }) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 64 ** 3 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 2 ** 41 }) },
  { weight: 1, arbitrary: fc.double({ min: 0, max: 50, noNaN: true }) },
);
const scheduleArb = fc.record({ kind: fc.constant('schedule' as const), delay: delayArb, child: fc.option(delayArb, { nil: undefined }) });
const advanceArb = fc.record({ kind: fc.constant('advance' as const), dt: dtArb });
const advanceToNextArb = fc.record({ kind: fc.constant('advanceToNext' as const), extra: fc.constantFrom(-1, 0, 0, 0, 1) });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: scheduleArb },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.integer({ min: -5, max: 200 }) }) },
  { weight: 3, arbitrary: advanceArb },
  { weight: 3, arbitrary: advanceToNextArb },
);
/** Mostly cancels, of recent timers (often still armed), of everything, and bursts of them. */
const cancelHeavyOpArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: scheduleArb },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('cancelRecent' as const), back: fc.integer({ min: 0, max: 12 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.integer({ min: -5, max: 200 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancelAll' as const), newestFirst: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('churn' as const),
      count: fc.integer({ min: 1, max: 400 }),
      delay: delayArb,
      keepEvery: fc.constantFrom(0, 0, 2, 7, 50),
    }),
  },
  { weight: 2, arbitrary: advanceArb },
  { weight: 3, arbitrary: advanceToNextArb },
);
const resolutionArb = fc.constantFrom(1, 3, 10);
const startArb = fc.oneof(fc.constantFrom(0, 64 ** 3, 64 ** 5 - 3, 2 ** 32 - 7), fc.integer({ min: 0, max: 2 ** 34 }));

const INDEX_MASK = 2 ** 26 - 1;

/**
 * Where `nextDeadline` must point, in ticks, for the earliest armed timer `m` seen from
 * the wheel's tick `e`, when that timer never went through the overflow list: the start of
 * its slot, at the level of the highest base-64 digit in which `m` and `e` differ.
 * Cancelled timers anywhere in the wheel must not move it.
 */
function expectedNextTick(e: number, m: number): number {
  let level = 0;
  for (let l = 1; l < 6; l++) if (Math.floor(e / LEVEL[l]!) !== Math.floor(m / LEVEL[l]!)) level = l;
  return Math.floor(m / LEVEL[level]!) * LEVEL[level]!;
}

/** Runs `ops` on a wheel and on the model, checking after every op. */
function checkAgainstModel(resolution: number, start: number, ops: readonly Op[]): void {
  const wheel = new TimerWheel({ resolutionMs: resolution, startMs: start, initialCapacity: 2 });
  const model: ModelTimer[] = [];
  const ids: number[] = [];
  const fired: number[] = [];
  let now = start;
  let seq = 0;
  let label = 0;
  let peakSize = 0;

  const modelSchedule = (delay: number, child: number | undefined): ModelTimer => {
    const tick = Math.ceil((now + delay) / resolution);
    const overflow = Math.floor(tick / RANGE) !== Math.floor(Math.floor(now / resolution) / RANGE);
    const timer: ModelTimer = { label: label++, tick, seq: seq++, child, overflow, pending: true };
    model.push(timer);
    return timer;
  };
  const wheelSchedule = (timer: ModelTimer, delay: number): void => {
    const id = wheel.schedule(delay, () => {
      fired.push(timer.label);
      expect(wheel.now).toBeGreaterThanOrEqual(timer.tick * resolution - 1e-9); // never early
      if (timer.child !== undefined) {
        expect(timer.childTimer).toBeDefined();
        wheelSchedule(timer.childTimer!, timer.child);
      }
    });
    // Cancelled timers never grow the arrays: a new entry index is only taken while the
    // dead (cancelled, not yet reclaimed) number at most max(PURGE_MIN, armed).
    peakSize = Math.max(peakSize, wheel.size);
    expect(id & INDEX_MASK).toBeLessThanOrEqual(2 * Math.max(PURGE_MIN, peakSize));
    ids.push(id);
  };
  const cancel = (k: number): void => {
    const inRange = k >= 0 && k < ids.length;
    const target = inRange ? model[k]! : undefined;
    expect(wheel.cancel(inRange ? ids[k]! : 1e9 + k)).toBe(target?.pending === true);
    if (target !== undefined) target.pending = false;
  };

  for (const op of ops) {
    if (op.kind === 'schedule') {
      wheelSchedule(modelSchedule(op.delay, op.child), op.delay);
    } else if (op.kind === 'cancel') {
      cancel(op.pick);
    } else if (op.kind === 'cancelRecent') {
      cancel(ids.length - 1 - op.back);
    } else if (op.kind === 'cancelAll') {
      const pending = model.flatMap((t, k) => (t.pending ? [k] : []));
      if (op.newestFirst) pending.reverse();
      for (const k of pending) cancel(k);
      expect(wheel.size).toBe(0);
    } else if (op.kind === 'churn') {
      const first = ids.length;
      for (let j = 0; j < op.count; j++) {
        const delay = op.delay + (j % 5);
        wheelSchedule(modelSchedule(delay, undefined), delay);
      }
      for (let j = 0; j < op.count; j++) if (op.keepEvery === 0 || j % op.keepEvery !== 0) cancel(first + j);
    } else {
      let target = now;
      if (op.kind === 'advance') target = now + op.dt;
      else {
        const ticks = model.filter((t) => t.pending).map((t) => t.tick);
        if (ticks.length > 0) target = Math.max(now, (Math.min(...ticks) + op.extra) * resolution);
      }
      const targetTick = Math.floor(target / resolution);
      const expected: number[] = [];
      for (;;) {
        let best: ModelTimer | undefined;
        for (const t of model) {
          if (t.pending && t.tick <= targetTick && (best === undefined || t.tick < best.tick || (t.tick === best.tick && t.seq < best.seq))) best = t;
        }
        if (best === undefined) break;
        best.pending = false;
        expected.push(best.label);
        if (best.tick * resolution > now) now = best.tick * resolution;
        if (best.child !== undefined) best.childTimer = modelSchedule(best.child, undefined);
      }
      fired.length = 0;
      wheel.advance(target);
      if (target > now) now = target;
      expect(fired).toEqual(expected);
      expect(wheel.now).toBe(now);
    }
    const pending = model.filter((t) => t.pending);
    expect(wheel.size).toBe(pending.length);
    const next = wheel.nextDeadline();
    if (pending.length === 0) expect(next).toBeUndefined();
    else {
      const earliest = Math.min(...pending.map((t) => t.tick));
      expect(next).toBeLessThanOrEqual(earliest * resolution);
      // Without the overflow list in play the answer is exact, whatever was cancelled.
      if (!pending.some((t) => t.overflow)) expect(next).toBe(expectedNextTick(Math.floor(now / resolution), earliest) * resolution);
    }
  }
}

describe('TimerWheel against a sorted-list model', () => {
  it('fires exactly the due, uncancelled timers in deadline order, ties in schedule order', () => {
    fc.assert(
      fc.property(resolutionArb, startArb, fc.array(opArb, { maxLength: 120 }), checkAgainstModel),
      { numRuns: 300 },
    );
  });

  it('stays exact under cancel-heavy runs: bursts, cancel-all, cancels of recent timers', () => {
    fc.assert(
      fc.property(resolutionArb, startArb, fc.array(cancelHeavyOpArb, { maxLength: 60 }), checkAgainstModel),
      { numRuns: 200 },
    );
  });
});
