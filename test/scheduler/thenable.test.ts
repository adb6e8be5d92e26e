import { describe, expect, it } from 'vitest';
import { isThenable } from '../../src/scheduler/thenable.js';

describe('isThenable', () => {
  it('is true for promises and for any object or function with a then method', () => {
    const fn = Object.assign(() => 1, { then: () => undefined });
    expect([Promise.resolve(1), { then: () => undefined }, fn].map(isThenable)).toEqual([true, true, true]);
  });

  it('is false for plain values, null, and a then that is not a function', () => {
    expect([undefined, null, 0, 'then', {}, { then: 1 }, () => 1].map(isThenable)).toEqual([false, false, false, false, false, false, false]);
  });
});
