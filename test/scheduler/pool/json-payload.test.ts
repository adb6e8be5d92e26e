import v8 from 'node:v8';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Runtime, type TaskRef } from '../../../src/index.js';
import { exactJson } from '../../../src/scheduler/pool/json-payload.js';
import { tasks } from '../../fixtures/pool-tasks.js';

/** What the structured clone gives: the reference the JSON path must equal. */
const cloned = (v: unknown): unknown => v8.deserialize(v8.serialize(v));

/**
 * Same value, stricter than `toStrictEqual`: same types and prototypes, own keys in the
 * same order, numbers by `Object.is` (so 0 and -0 differ), and shared references where
 * the other has them.
 */
function same(a: unknown, b: unknown, pairs = new Map<object, object>()): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b);
  const seen = pairs.get(a);
  if (seen !== undefined) return seen === b;
  pairs.set(a, b);
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b) || Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  return ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], pairs));
}

const rt = Runtime.builder().workers(1).build();
afterAll(async () => {
  await rt.shutdown();
});
// `exec` with a value of any shape (the echo task's own type admits only some).
const exec = rt.exec.bind(rt) as unknown as (ref: TaskRef, value: unknown) => Promise<unknown>;
const echo = (v: unknown): Promise<unknown> => exec(tasks.echo as unknown as TaskRef, v);

describe('the JSON payload format', () => {
  it('gives exactly what the structured clone gives, whenever it takes a value (fast-check)', () => {
    const values = fc.anything({
      maxDepth: 4,
      withNullPrototype: true,
      withBigInt: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withTypedArray: true,
      withSparseArray: true,
      withBoxedValues: true,
      withObjectString: true,
    });
    let taken = 0;
    fc.assert(
      fc.property(values, (v) => {
        const text = exactJson(v);
        if (text === undefined) return;
        taken++;
        expect(same(JSON.parse(text), cloned(v))).toBe(true);
      }),
      { numRuns: 2000 },
    );
    expect(taken).toBeGreaterThan(200); // the property saw the JSON path often
  });

  it('leaves to the serializer every value whose JSON form would differ', () => {
    const shared = { x: 1 };
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const named = Object.assign([1, 2], { extra: true });
    class Point {
      x = 1;
    }
    const refused: unknown[] = [
      -0, NaN, Infinity, -Infinity, undefined, 1n, [undefined], [1, , 3], { a: undefined }, named,
      [shared, shared], cycle, new Date(0), new Map(), new Set(), new Uint8Array(2), new Point(), new Proxy({}, {}),
      [Symbol('s')], { f: () => 1 }, Object(1), Array.from({ length: 2000 }, () => 1), 'x'.repeat(1025), { ['k'.repeat(1025)]: 1 },
    ];
    refused.forEach((v, i) => expect(exactJson(v), `refused[${i}]`).toBeUndefined());
  });

  it('keeps lone surrogates, key order, integer-like keys, __proto__ as a key and null prototypes', () => {
    const nullProto = Object.assign(Object.create(null) as object, { b: 1, a: 2 });
    const protoKey = JSON.parse('{"__proto__": {"x": 1}, "z": 0}') as unknown;
    const values: unknown[] = ['\ud800', 'a\udc00b', { b: 1, 2: 'two', a: [1.5, 'x'], 1: null }, nullProto, protoKey, 5e-324, 1e21, ''];
    for (const v of values) {
      const text = exactJson(v);
      expect(text).toBeDefined();
      expect(same(JSON.parse(text!), cloned(v))).toBe(true);
    }
  });

  it('carries arguments and results through the pool the same way on both paths', async () => {
    const shared = { k: 'v' };
    const values: unknown[] = [
      ['text', 1.5, true, null, { a: ['b', 2] }], // JSON path
      { b: 1, 2: 'two', a: 'z' },
      '\ud800',
      [shared, shared], // aliasing: serializer path
      { n: -0, m: NaN, u: undefined },
      [1, , 3],
    ];
    for (const v of values) expect(same(await echo(v), cloned(v))).toBe(true);
    const aliased = (await echo([shared, shared])) as object[];
    expect(aliased[0]).toBe(aliased[1]);
  });

  it('carries JSON payloads inline, in arena blocks and in a buffer of their own (both memory strategies); long text goes to the serializer', async () => {
    for (const strategy of ['pooled', 'heap'] as const) {
      const pool = Runtime.builder().workers(1).memory({ strategy }).build();
      try {
        const run = pool.exec.bind(pool) as unknown as (ref: TaskRef, value: unknown) => Promise<unknown>;
        for (const size of [4, 200, 1000]) {
          // Up to ~10 KB of JSON text: inline, then arena blocks or a buffer of its own.
          const value = { text: 'é'.repeat(Math.min(size, 900)), list: Array.from({ length: size }, (_, i) => i + 0.25) };
          expect(exactJson(value)).toBeDefined();
          expect(same(await run(tasks.echo as unknown as TaskRef, value), cloned(value))).toBe(true);
        }
        const long = { text: 'é'.repeat(300_000) };
        expect(exactJson(long)).toBeUndefined();
        expect(same(await run(tasks.echo as unknown as TaskRef, long), cloned(long))).toBe(true);
      } finally {
        await pool.shutdown();
      }
    }
  });
});
