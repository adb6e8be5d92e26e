import { describe, expect, it } from 'vitest';
import { interval, intervalAt, now } from '../../src/index.js';
import { pausedRuntime } from '../helpers.js';

/** `n` ticks of `it` as `tick@now`, each read right after it arrives. */
async function take(it: AsyncIterator<number>, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`${(await it.next()).value}@${now()}`);
  return out;
}

describe('Interval', () => {
  it('intervalAt ticks first at start, then one period apart; a start in the past is due at once', async () => {
    const { clock, rt } = pausedRuntime();
    const seen = rt.run(async () => {
      const late = intervalAt(now() - 5, 10);
      const first = `${(await late.next()).value}@${now()}`;
      await late.return!();
      const it = intervalAt(now() + 3, 10);
      return [first, ...(await take(it, 3))];
    });
    await clock.advance(100);
    expect(await seen).toEqual(['-5@0', '3@3', '13@13', '23@23']);
  });

  it('reset moves the next tick to one period from now; resetAfter and resetAt to the given time', async () => {
    const { clock, rt } = pausedRuntime();
    const seen = rt.run(async () => {
      const it = interval(10);
      const out = await take(it, 1); // 10@10
      await clockAt(14);
      it.reset(); // next at 24
      expect(it.nextTick).toBe(24);
      out.push(...(await take(it, 2))); // 24, 34
      it.resetAfter(3); // 37
      out.push(...(await take(it, 1)));
      it.resetAt(100);
      out.push(...(await take(it, 2))); // 100, 110
      await it.return!();
      return out;
    });
    async function clockAt(t: number): Promise<void> {
      while (now() < t) await new Promise<void>((r) => setImmediate(r));
    }
    await clock.advance(14);
    await clock.advance(200);
    expect(await seen).toEqual(['10@10', '24@24', '34@34', '37@37', '100@100', '110@110']);
  });

  it('a reset while next() waits re-arms its timer (earlier and later)', async () => {
    const { clock, rt } = pausedRuntime();
    const it = (await rt.run(() => ({ made: interval(50) }))).made;
    const first = it.next();
    await clock.advance(10);
    it.resetAt(20); // earlier than 50
    await clock.advance(10);
    expect(await first).toEqual({ value: 20, done: false });
    const second = it.next(); // due at 70
    await clock.advance(5);
    it.resetAfter(100); // later: 125
    let got = false;
    void second.then(() => (got = true));
    await clock.advance(60); // t = 85, the old timer at 70 must not fire
    expect(got).toBe(false);
    await clock.advance(40); // t = 125
    expect(await second).toEqual({ value: 125, done: false });
    it.resetImmediately();
    expect(await it.next()).toEqual({ value: 125, done: false }); // due now
    await it.return!();
  });

  it('resetImmediately while next() waits delivers the tick now', async () => {
    const { clock, rt } = pausedRuntime();
    const it = (await rt.run(() => ({ made: interval(50) }))).made;
    const pending = it.next();
    await clock.advance(7);
    it.resetImmediately();
    expect(await pending).toEqual({ value: 7, done: false });
    expect(it.nextTick).toBe(57);
    await it.return!();
  });

  it('rejects bad arguments with RangeError and leaves the schedule as it was', async () => {
    const { rt } = pausedRuntime();
    await rt.run(async () => {
      expect(() => intervalAt(Number.NaN, 10)).toThrow(/^start must be/);
      expect(() => intervalAt(0, 0)).toThrow(/^ms must be/);
      const it = interval(10);
      expect(() => it.resetAfter(-1)).toThrow(/^ms must be/);
      expect(() => it.resetAt(Infinity)).toThrow(/^deadline must be/);
      expect(it.nextTick).toBe(10);
      expect(it.period).toBe(10);
      await it.return!();
    });
  });
});
