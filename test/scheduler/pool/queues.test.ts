import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CONTENDED, EMPTY, WorkDeque } from '../../../src/scheduler/pool/deque.js';
import { dequeWords, ringWords } from '../../../src/scheduler/pool/layout.js';
import { Injector } from '../../../src/scheduler/pool/injector.js';

/** The model of a deque: an array, bottom at the end. */
interface DequeModel {
  items: number[];
  capacity: number;
}

type DequeCmd = fc.Command<DequeModel, WorkDeque>;

class Push implements DequeCmd {
  constructor(readonly value: number) {}
  check(): boolean {
    return true;
  }
  run(m: DequeModel, d: WorkDeque): void {
    const ok = d.push(this.value);
    expect(ok).toBe(m.items.length < m.capacity);
    if (ok) m.items.push(this.value);
    expect(d.size()).toBe(m.items.length);
  }
  toString(): string {
    return `push(${this.value})`;
  }
}

class Pop implements DequeCmd {
  check(): boolean {
    return true;
  }
  run(m: DequeModel, d: WorkDeque): void {
    expect(d.pop()).toBe(m.items.length > 0 ? m.items.pop() : EMPTY);
    expect(d.size()).toBe(m.items.length);
  }
  toString(): string {
    return 'pop';
  }
}

class Steal implements DequeCmd {
  check(): boolean {
    return true;
  }
  run(m: DequeModel, d: WorkDeque): void {
    const got = d.steal();
    expect(got).not.toBe(CONTENDED); // single-threaded: nobody to lose against
    expect(got).toBe(m.items.length > 0 ? m.items.shift() : EMPTY);
    expect(d.size()).toBe(m.items.length);
  }
  toString(): string {
    return 'steal';
  }
}

/** Starting positions, including ones just below the 2^31 and 2^32 wrap-around. */
const startArb = fc.constantFrom(0, 2 ** 31 - 5, -5, 12345);

describe('WorkDeque (Chase-Lev) against a model', () => {
  it('push/pop/steal behave like a double-ended array with a capacity', () => {
    const cmds = [fc.integer({ min: 0, max: 1 << 30 }).map((v) => new Push(v)), fc.constant(new Pop()), fc.constant(new Steal())];
    fc.assert(
      fc.property(fc.constantFrom(16, 32), startArb, fc.commands(cmds, { maxCommands: 300 }), (capacity, start, commands) => {
        const i32 = new Int32Array(new SharedArrayBuffer(dequeWords(capacity) * 4 + 64));
        Atomics.store(i32, 4, start | 0); // TOP
        Atomics.store(i32, 4 + 16, start | 0); // BOTTOM
        const deque = new WorkDeque(i32, 4, capacity);
        fc.modelRun(() => ({ model: { items: [], capacity }, real: deque }), commands);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects a capacity that is not a power of two', () => {
    expect(() => new WorkDeque(new Int32Array(100), 0, 24)).toThrow(RangeError);
  });
});

interface RingModel {
  items: number[];
  capacity: number;
}
type RingCmd = fc.Command<RingModel, Injector>;

class RingPush implements RingCmd {
  constructor(readonly value: number) {}
  check(): boolean {
    return true;
  }
  run(m: RingModel, r: Injector): void {
    const ok = r.push(this.value);
    expect(ok).toBe(m.items.length < m.capacity);
    if (ok) m.items.push(this.value);
    expect(r.size()).toBe(m.items.length);
  }
  toString(): string {
    return `push(${this.value})`;
  }
}

class RingPop implements RingCmd {
  check(): boolean {
    return true;
  }
  run(m: RingModel, r: Injector): void {
    expect(r.pop()).toBe(m.items.length > 0 ? m.items.shift() : EMPTY);
    expect(r.size()).toBe(m.items.length);
  }
  toString(): string {
    return 'pop';
  }
}

describe('Injector (bounded MPMC ring) against a model', () => {
  it('push/pop behave like a bounded FIFO, across position wrap-around', () => {
    const cmds = [fc.integer({ min: 0, max: 1 << 30 }).map((v) => new RingPush(v)), fc.constant(new RingPop())];
    fc.assert(
      fc.property(fc.constantFrom(16, 32, 64), startArb, fc.commands(cmds, { maxCommands: 400 }), (capacity, start, commands) => {
        const i32 = new Int32Array(new SharedArrayBuffer(ringWords(capacity) * 4 + 64));
        const ring = new Injector(i32, 8, capacity);
        ring.init(start);
        fc.modelRun(() => ({ model: { items: [], capacity }, real: ring }), commands);
      }),
      { numRuns: 200 },
    );
  });
});
