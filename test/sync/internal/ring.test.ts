import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ring } from '../../../src/sync/internal/ring.js';

type Op = { kind: 'push'; value: number } | { kind: 'shift' } | { kind: 'pop' } | { kind: 'shrink' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.integer().map((value) => ({ kind: 'push', value }) as const) },
  { weight: 2, arbitrary: fc.constant({ kind: 'shift' } as const) },
  { weight: 1, arbitrary: fc.constant({ kind: 'pop' } as const) },
  { weight: 1, arbitrary: fc.constant({ kind: 'shrink' } as const) },
);

describe('Ring', () => {
  it('behaves as an array used as a FIFO/LIFO, through growth, wrap-around and shrinking (model)', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const ring = new Ring<number>(2);
        const model: number[] = [];
        for (const o of ops) {
          if (o.kind === 'push') {
            ring.push(o.value);
            model.push(o.value);
          } else if (o.kind === 'shift') {
            if (model.length > 0) expect(ring.shift()).toBe(model.shift());
          } else if (o.kind === 'pop') {
            if (model.length > 0) expect(ring.pop()).toBe(model.pop());
          } else {
            const slots = ring.buf.length;
            ring.shrinkIfEmpty(4);
            expect(ring.buf.length).toBe(model.length === 0 && slots > 4 ? 4 : slots);
          }
          expect(ring.length).toBe(model.length);
          if (model.length > 0) expect(ring.peek()).toBe(model[0]);
        }
        expect(ring.drain()).toEqual(model);
      }),
    );
  });

  it('keeps no shifted item alive, and an emptied ring gives back its grown buffer', () => {
    const ring = new Ring<object>(2);
    for (let i = 0; i < 100; i++) ring.push({ i });
    while (ring.length > 1) ring.shift();
    expect(ring.buf.filter((slot) => slot !== undefined)).toHaveLength(1);
    ring.shrinkIfEmpty(8);
    expect(ring.buf.length).toBe(128); // not empty yet: keeps its buffer
    ring.shift();
    ring.shrinkIfEmpty(8);
    expect(ring.buf.length).toBe(8);
  });
});
