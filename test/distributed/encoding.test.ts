import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TaskArgumentError } from '../../src/index.js';
import { decodeValue, encodeValue } from '../../src/distributed/encoding.js';

function roundTrip(value: unknown): unknown {
  return decodeValue(JSON.parse(JSON.stringify(encodeValue(value, 'args'))));
}

describe('tagged JSON', () => {
  it('keeps every Cloneable type', () => {
    const err = Object.assign(new TypeError('boom', { cause: 'why' }), { code: 'E_BOOM' });
    const value = {
      big: -(2n ** 80n), date: new Date(1234), bad: new Date(NaN), re: /a+b/giu, map: new Map<unknown, unknown>([[1n, 'x'], ['k', new Set([undefined])]]),
      f64: new Float64Array([1.5, -0]), i16: new Int16Array([-3]), ab: new Uint8Array([9, 8]).buffer, dv: new DataView(new Uint8Array([7]).buffer),
      nums: [NaN, Infinity, -Infinity, -0, 0], u: undefined, nested: { $z: 'not a tag', v: 1 }, err,
    };
    const back = roundTrip(value) as typeof value;
    expect(back).toEqual(value);
    expect(Object.is(back.nums[3], -0)).toBe(true);
    expect(back.nested).toEqual({ $z: 'not a tag', v: 1 });
    expect(back.err).toBeInstanceOf(Error);
    expect(back.err).toMatchObject({ name: 'TypeError', message: 'boom', code: 'E_BOOM', cause: 'why', stack: err.stack });
    expect(back.f64).toBeInstanceOf(Float64Array);
    expect(Object.is(back.f64[1], -0)).toBe(true);
  });

  it('round-trips arbitrary JSON-like and tagged values (property)', () => {
    const leaf = fc.oneof(fc.string(), fc.double(), fc.bigInt(), fc.boolean(), fc.constant(undefined), fc.constant(null), fc.date({ noInvalidDate: true }));
    const tree = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node')), fc.dictionary(fc.string(), tie('node')), fc.array(tie('node')).map((a) => new Set(a))),
    })).node;
    fc.assert(fc.property(tree, (value) => {
      expect(roundTrip(value)).toEqual(value);
    }));
  });

  it('keeps a field named __proto__ as a field, and never lets decoded data choose a prototype', () => {
    const value: Record<string, unknown> = { a: 1 };
    Object.defineProperty(value, '__proto__', { value: { x: 1 }, enumerable: true, writable: true, configurable: true });
    const back = roundTrip(value) as Record<string, unknown>;
    expect(Object.keys(back)).toEqual(['a', '__proto__']);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(back, '__proto__')?.value).toEqual({ x: 1 });

    const hostile = decodeValue(JSON.parse('{"__proto__":{"polluted":1},"n":{"$z":"o","v":{"__proto__":{"polluted":2}}}}')) as Record<string, { polluted?: number }>;
    expect(Object.getPrototypeOf(hostile)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(hostile.n)).toBe(Object.prototype);
    expect((hostile as { polluted?: number }).polluted).toBeUndefined();
    expect(hostile.n!.polluted).toBeUndefined();
    expect(Object.hasOwn(hostile, '__proto__')).toBe(true);
  });

  it.each([
    ['a function', [1, { cb: () => 1 }], 'args[1].cb'],
    ['a symbol', [Symbol('s')], 'args[0]'],
    ['a class instance with methods', [{ at: new (class Point { x = 1; norm() { return 1; } })() }], 'args[0].at'],
    ['a SharedArrayBuffer', [new SharedArrayBuffer(8)], 'args[0]'],
    ['a view of a SharedArrayBuffer', [[new Int32Array(new SharedArrayBuffer(8))]], 'args[0][0]'],
    ['a map value with a function', [new Map([['k', () => 1]])], 'args[0].get("k")'],
  ])('refuses %s with TaskArgumentError naming the path', (_what, args, path) => {
    const err = (() => {
      try {
        encodeValue(args, 'args');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(TaskArgumentError);
    expect((err as TaskArgumentError).code).toBe('ZOKIO_ERR_TASK_ARGUMENT');
    expect((err as Error).message).toContain(`${path} cannot be sent`);
  });

  it('refuses a cycle, naming where it closes', () => {
    const a: { self?: unknown; list: unknown[] } = { list: [] };
    a.list.push(a);
    expect(() => encodeValue([a], 'args')).toThrow(/args\[0\]\.list\[0\] cannot be sent .* cycle/);
  });

  it('refuses a value over the size limit, naming its size', () => {
    expect(() => encodeValue(['x'.repeat(2000)], 'args', 1000)).toThrow(/args cannot be sent .* over the limit of 1000 bytes/);
  });

  it('sends a class instance without methods as its fields', () => {
    class Plain { constructor(readonly x: number) {} }
    expect(roundTrip(new Plain(3))).toEqual({ x: 3 });
  });
});
