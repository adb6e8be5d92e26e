import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChannelClosedError } from '../../src/errors.js';
import { after, channel, oneshot, select } from '../../src/sync/index.js';
import { step } from './helpers.js';

describe('select', () => {
  it('biased: the first ready branch in written order wins and others keep their messages', async () => {
    const [t1, r1] = channel<string>(2);
    const [t2, r2] = channel<string>(2);
    await t1.send('one');
    await t2.send('two');
    const r = await select({ b: r2, a: r1 }, { biased: true });
    expect(r).toEqual({ key: 'b', value: 'two' });
    expect(r1.tryRecv()).toEqual({ ok: true, value: 'one' });
  });

  it('waits on receivers, promises, timeouts and signals', async () => {
    const [tx, rx] = channel<number>(1);
    const pending = select({ rx, never: new Promise<never>(() => {}) });
    await tx.send(5);
    expect(await pending).toEqual({ key: 'rx', value: 5 });
    expect(await select({ rx, p: Promise.resolve('p') })).toEqual({ key: 'p', value: 'p' });
    expect(await select({ rx, t: after(1) })).toEqual({ key: 't', value: undefined });
    const ac = new AbortController();
    const s = select({ rx, stop: ac.signal });
    ac.abort('bye');
    expect(await s).toEqual({ key: 'stop', value: 'bye' });
    const [otx, orx] = oneshot<number>();
    const so = select({ rx, one: orx });
    otx.send(3);
    expect(await so).toEqual({ key: 'one', value: 3 });
    await expect(select({ p: Promise.reject(new Error('no')) })).rejects.toThrow('no');
  });

  it('a closed receiver branch is disabled; all disabled rejects', async () => {
    const [tx, rx] = channel<number>(1);
    const [tx2, rx2] = channel<number>(1);
    tx.close();
    const s = select({ rx, rx2 });
    await tx2.send(1);
    expect(await s).toEqual({ key: 'rx2', value: 1 });
    tx2.close();
    await expect(select({ rx, rx2 })).rejects.toBeInstanceOf(ChannelClosedError);
  });

  it('an aborted select takes nothing', async () => {
    const [tx, rx] = channel<number>(1);
    const ac = new AbortController();
    const s = select({ rx }, { signal: ac.signal });
    ac.abort();
    await expect(s).rejects.toMatchObject({ name: 'AbortError' });
    await tx.send(1);
    expect(rx.tryRecv()).toEqual({ ok: true, value: 1 });
  });

  it('property: exactly one branch takes a message; every message is received once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 12 }), async (s, targets) => {
        const chans = [channel<number>(2), channel<number>(2), channel<number>(2)];
        const sends = targets.map(async (k, i) => {
          await step(s, `send ${i} to ${k}`);
          await chans[k]![0].send(i);
        });
        const got: number[] = [];
        const receiving = (async () => {
          while (got.length < targets.length) {
            await step(s, 'select');
            const r = await select({ a: chans[0]![1], b: chans[1]![1], c: chans[2]![1] });
            const k = r.key === 'a' ? 0 : r.key === 'b' ? 1 : 2;
            expect(targets[r.value]).toBe(k);
            got.push(r.value);
          }
        })();
        await s.waitFor(Promise.all([...sends, receiving]));
        expect([...got].sort((x, y) => x - y)).toEqual(targets.map((_, i) => i));
        for (const [, rx] of chans) expect(rx.length).toBe(0);
      }),
      { numRuns: 150 },
    );
  });
});
