import { describe, expect, it } from 'vitest';
import { now, sleepFor, sleepUntil, type RuntimeBase } from '../../src/index.js';
import { pausedRuntime } from '../helpers.js';

/** Runs `fn` inside `rt` and hands back what it made, boxed (a Sleep is a thenable: unboxed, it would be awaited). */
function inside<T>(rt: RuntimeBase, fn: () => T): Promise<{ made: T }> {
  return rt.run(() => ({ made: fn() }));
}

describe('Sleep', () => {
  it('knows its deadline and whether it has elapsed', async () => {
    const { clock, rt } = pausedRuntime();
    const s = (await inside(rt, () => sleepUntil(now() + 30))).made;
    expect(s.deadline).toBe(30);
    expect(s.isElapsed).toBe(false);
    await clock.advance(29);
    expect(s.isElapsed).toBe(false);
    await clock.advance(1);
    await s;
    expect(s.isElapsed).toBe(true);
    expect((await inside(rt, () => sleepFor(5))).made.deadline).toBe(35);
  });

  it('reset moves the deadline later or earlier; every awaiter wakes at the new one', async () => {
    const { clock, rt } = pausedRuntime();
    const s = (await inside(rt, () => sleepFor(10))).made;
    const woke: number[] = [];
    const a = s.then(() => woke.push(clock.now()));
    const b = s.then(() => woke.push(clock.now()));
    s.reset(40);
    await clock.advance(20);
    expect(woke).toEqual([]);
    s.reset(25);
    await clock.advance(10);
    await Promise.all([a, b]);
    expect(woke).toEqual([25, 25]);
  });

  it('reset after it elapsed makes it pending again until the new deadline', async () => {
    const { clock, rt } = pausedRuntime();
    const s = (await inside(rt, () => sleepFor(5))).made;
    await clock.advance(5);
    await s;
    s.reset(15);
    expect(s.isElapsed).toBe(false);
    let done = false;
    const again = s.then(() => (done = true));
    await clock.advance(9);
    expect(done).toBe(false);
    await clock.advance(1);
    await again;
    expect(s.isElapsed).toBe(true);
  });

  it('a signal cancels the timer and rejects with its reason; a later reset does nothing', async () => {
    const { clock, rt } = pausedRuntime();
    const ac = new AbortController();
    const s = (await inside(rt, () => sleepFor(10, { signal: ac.signal }))).made;
    ac.abort(new Error('stop'));
    await expect(s).rejects.toThrow('stop');
    s.reset(20);
    await clock.advance(30);
    await expect(s).rejects.toThrow('stop');
    expect(s.isElapsed).toBe(false);
    const done = new AbortController();
    done.abort(new Error('already'));
    const pre = (await inside(rt, () => sleepFor(1, { signal: done.signal }))).made;
    await expect(pre).rejects.toThrow('already');
  });

  it('bad arguments throw RangeError and change nothing', async () => {
    const { rt } = pausedRuntime();
    await expect(inside(rt, () => sleepUntil(Number.NaN))).rejects.toThrow(/^deadline must be/);
    await expect(inside(rt, () => sleepFor(-1))).rejects.toThrow(/^ms must be/);
    const s = (await inside(rt, () => sleepFor(1))).made;
    expect(() => s.reset(Infinity)).toThrow(/^deadline must be/);
    expect(s.deadline).toBe(1);
    s.then(undefined, () => {});
    await rt.shutdown({ timeoutMs: 0 });
  });
});
