import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RwLock } from '../../src/sync/index.js';
import { abortLater, step } from './helpers.js';

describe('RwLock', () => {
  it('many readers or one writer; a waiting writer blocks later readers', async () => {
    const lock = new RwLock(1);
    const r1 = await lock.read();
    const r2 = await lock.read();
    expect(lock.readers).toBe(2);
    const order: string[] = [];
    const w = lock.write().then((g) => (order.push('write'), g));
    const r3 = lock.read().then((g) => (order.push('read'), g));
    expect(lock.tryRead()).toBeUndefined(); // writer waiting: new readers queue
    r1.release();
    r2.release();
    const wg = await w;
    expect(lock.isWriteLocked).toBe(true);
    wg.value = 2;
    wg.release();
    const rg = await r3;
    expect(order).toEqual(['write', 'read']);
    expect(rg.value).toBe(2);
    rg.release();
    expect(await lock.withWrite((v) => v + 1)).toBe(3);
    expect(await lock.withRead((v) => v)).toBe(2);
  });

  it('an aborted writer no longer blocks readers behind it', async () => {
    const lock = new RwLock('x');
    const r = await lock.read();
    const ac = new AbortController();
    const w = lock.write({ signal: ac.signal });
    const r2 = lock.read();
    ac.abort();
    await expect(w).rejects.toMatchObject({ name: 'AbortError' });
    (await r2).release();
    r.release();
    expect(lock.readers).toBe(0);
    expect(lock.tryWrite()).toBeDefined();
  });

  it('property: never a writer with anyone else; all released at the end', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(fc.record({ write: fc.boolean(), abort: fc.boolean() }), { maxLength: 10 }), async (s, ops) => {
        const lock = new RwLock(0);
        let readers = 0;
        let writers = 0;
        const tasks = ops.map(async (op, i) => {
          await step(s, `arrive ${i}`);
          const ac = new AbortController();
          abortLater(s, ac, op.abort, `abort ${i}`);
          try {
            if (op.write) {
              const g = await lock.write({ signal: ac.signal });
              writers++;
              expect(writers).toBe(1);
              expect(readers).toBe(0);
              await step(s, `hold ${i}`);
              writers--;
              g.release();
            } else {
              const g = await lock.read({ signal: ac.signal });
              readers++;
              expect(writers).toBe(0);
              await step(s, `hold ${i}`);
              readers--;
              g.release();
            }
          } catch {
            // aborted
          }
        });
        await s.waitFor(Promise.all(tasks));
        expect(lock.readers).toBe(0);
        expect(lock.isWriteLocked).toBe(false);
        expect(lock.tryWrite()).toBeDefined();
      }),
      { numRuns: 150 },
    );
  });

  it('maxReaders bounds the read guards held at once; the next reader waits', async () => {
    const lock = new RwLock('v', { maxReaders: 2 });
    expect(lock.maxReaders).toBe(2);
    const a = await lock.read();
    const b = await lock.read();
    expect(lock.tryRead()).toBeUndefined();
    let third = false;
    const c = lock.read().then((g) => ((third = true), g));
    await Promise.resolve();
    expect(third).toBe(false);
    expect(lock.readers).toBe(2);
    expect(lock.isWriteLocked).toBe(false);
    a.release();
    (await c).release();
    expect(third).toBe(true);
    b.release();
    expect(lock.readers).toBe(0);
    const w = await lock.write(); // a writer takes all maxReaders permits
    expect(lock.isWriteLocked).toBe(true);
    expect(lock.tryRead()).toBeUndefined();
    w.release();
  });

  it('rejects a bad maxReaders with a coded error', () => {
    for (const bad of [0, -1, 1.5, 2 ** 29 + 1, Number.NaN]) {
      expect(() => new RwLock(0, { maxReaders: bad })).toThrow(expect.objectContaining({ code: 'ZOKIO_ERR_INVALID_ARGUMENT' }));
    }
  });

  it('downgrade turns the write guard into a read guard with no writer in between; waiting readers join', async () => {
    const lock = new RwLock(0, { maxReaders: 4 });
    const w = await lock.write();
    w.value = 7;
    const order: string[] = [];
    const reader = lock.read().then((g) => (order.push(`read ${g.value}`), g));
    const writer = lock.write().then((g) => (order.push('write'), g));
    const late = lock.read().then((g) => (order.push('late read'), g)); // behind the writer
    const r = w.downgrade();
    expect(() => w.value).toThrow(expect.objectContaining({ code: 'ZOKIO_ERR_CLOSED' }));
    expect(() => w.downgrade()).toThrow(expect.objectContaining({ code: 'ZOKIO_ERR_CLOSED' }));
    expect(r.value).toBe(7);
    const rg = await reader;
    expect(order).toEqual(['read 7']);
    expect(lock.readers).toBe(2);
    expect(lock.isWriteLocked).toBe(false);
    r.release();
    rg.release();
    const wg = await writer;
    expect(order).toEqual(['read 7', 'write']);
    wg.release();
    (await late).release();
    expect(order).toEqual(['read 7', 'write', 'late read']);
    expect(lock.readers).toBe(0);
  });

  it('downgrade with maxReaders 1 keeps the one read permit', async () => {
    const lock = new RwLock('x', { maxReaders: 1 });
    const r = (await lock.write()).downgrade();
    expect(lock.readers).toBe(1);
    expect(lock.tryRead()).toBeUndefined();
    expect(lock.tryWrite()).toBeUndefined();
    r.release();
    expect(lock.tryWrite()).toBeDefined();
  });
});
