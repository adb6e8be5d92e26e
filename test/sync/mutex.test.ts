import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClosedError } from '../../src/errors.js';
import { Mutex } from '../../src/sync/index.js';
import { abortLater, step } from './helpers.js';

describe('Mutex', () => {
  it('guards the value, is released by dispose, refuses use after release', async () => {
    const m = new Mutex({ n: 1 });
    const g = await m.lock();
    expect(m.isLocked).toBe(true);
    expect(m.tryLock()).toBeUndefined();
    g.value = { n: 2 };
    g[Symbol.dispose]();
    expect(g.held).toBe(false);
    expect(() => g.value).toThrow(ClosedError);
    expect(m.isLocked).toBe(false);
    expect(await m.withLock((v) => v.n)).toBe(2);
    const t = m.tryLock()!;
    expect(t.value.n).toBe(2);
    t.release();
    t.release();
    expect(m.isLocked).toBe(false);
  });

  it('an aborted waiter does not get the lock, and the next one does', async () => {
    const m = new Mutex(0);
    const g = await m.lock();
    const ac = new AbortController();
    const a = m.lock({ signal: ac.signal });
    const b = m.lock();
    ac.abort();
    await expect(a).rejects.toMatchObject({ name: 'AbortError' });
    g.release();
    const gb = await b;
    expect(m.waiting).toBe(0);
    gb.release();
    expect(m.isLocked).toBe(false);
  });

  it('property: one holder at a time, FIFO, lock free at the end after any aborts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(fc.boolean(), { maxLength: 12 }), async (s, aborts) => {
        const m = new Mutex(0);
        let holders = 0;
        const arrivals: number[] = [];
        const grants: number[] = [];
        const tasks = aborts.map(async (abort, i) => {
          await step(s, `arrive ${i}`);
          const ac = new AbortController();
          abortLater(s, ac, abort, `abort ${i}`);
          arrivals.push(i);
          let g;
          try {
            g = await m.lock({ signal: ac.signal });
          } catch {
            return;
          }
          grants.push(i);
          expect(++holders).toBe(1);
          await step(s, `hold ${i}`);
          g.value++;
          holders--;
          g.release();
        });
        await s.waitFor(Promise.all(tasks));
        expect(m.isLocked).toBe(false);
        expect(m.waiting).toBe(0);
        expect(m.unsafeValue).toBe(grants.length);
        expect(grants).toEqual(arrivals.filter((i) => grants.includes(i)));
      }),
      { numRuns: 200 },
    );
  });
});
