import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TimerWheel } from '../../src/scheduler/timer-wheel.js';

/** Slot widths of the six levels, in ticks. */
const LEVEL = [1, 64, 64 ** 2, 64 ** 3, 64 ** 4, 64 ** 5];
const RANGE = 64 ** 6;

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

// ---------------------------------------------------------------------------------------
// Model-based property test: the wheel against a naive sorted list.

type Op =
  | { kind: 'schedule'; delay: number; child: number | undefined }
  | { kind: 'cancel'; pick: number }
  | { kind: 'advance'; dt: number }
  /** Advance to exactly the earliest pending deadline, plus `extra` ticks (often 0 or -1). */
  | { kind: 'advanceToNext'; extra: number };

interface ModelTimer {
  readonly label: number;
  readonly tick: number;
  readonly seq: number;
  readonly child: number | undefined;
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
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('schedule' as const), delay: delayArb, child: fc.option(delayArb, { nil: undefined }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.integer({ min: -5, max: 200 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), dt: dtArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advanceToNext' as const), extra: fc.constantFrom(-1, 0, 0, 0, 1) }) },
);

describe('TimerWheel against a sorted-list model', () => {
  it('fires exactly the due, uncancelled timers in deadline order, ties in schedule order', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 3, 10),
        fc.oneof(fc.constantFrom(0, 64 ** 3, 64 ** 5 - 3, 2 ** 32 - 7), fc.integer({ min: 0, max: 2 ** 34 })),
        fc.array(opArb, { maxLength: 120 }),
        (resolution, start, ops) => {
          const wheel = new TimerWheel({ resolutionMs: resolution, startMs: start, initialCapacity: 2 });
          const model: ModelTimer[] = [];
          const ids: number[] = [];
          const fired: number[] = [];
          let now = start;
          let seq = 0;
          let label = 0;

          const modelSchedule = (delay: number, child: number | undefined): ModelTimer => {
            const timer: ModelTimer = { label: label++, tick: Math.ceil((now + delay) / resolution), seq: seq++, child, pending: true };
            model.push(timer);
            return timer;
          };
          const wheelSchedule = (timer: ModelTimer, delay: number): void => {
            ids.push(
              wheel.schedule(delay, () => {
                fired.push(timer.label);
                expect(wheel.now).toBeGreaterThanOrEqual(timer.tick * resolution - 1e-9); // never early
                if (timer.child !== undefined) {
                  expect(timer.childTimer).toBeDefined();
                  wheelSchedule(timer.childTimer!, timer.child);
                }
              }),
            );
          };

          for (const op of ops) {
            if (op.kind === 'schedule') {
              wheelSchedule(modelSchedule(op.delay, op.child), op.delay);
            } else if (op.kind === 'cancel') {
              const id = op.pick >= 0 && op.pick < ids.length ? ids[op.pick]! : 1e9 + op.pick;
              const target = op.pick >= 0 && op.pick < ids.length ? model[op.pick]! : undefined;
              const expected = target?.pending === true;
              expect(wheel.cancel(id)).toBe(expected);
              if (target !== undefined) target.pending = false;
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
            else expect(next).toBeLessThanOrEqual(Math.min(...pending.map((t) => t.tick)) * resolution);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
