import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClosedError } from '../../src/errors.js';
import { Semaphore } from '../../src/sync/index.js';
import { abortLater, codeOf, step } from './helpers.js';

describe('Semaphore', () => {
  it('acquire, tryAcquire, release, dispose and withPermit', async () => {
    const sem = new Semaphore(2);
    const a = await sem.acquire();
    const b = sem.tryAcquire();
    expect(b?.permits).toBe(1);
    expect(sem.tryAcquire()).toBeUndefined();
    a.release();
    a.release(); // idempotent
    expect(sem.available).toBe(1);
    b![Symbol.dispose]();
    expect(sem.available).toBe(2);
    expect(await sem.withPermit(async () => sem.available, { permits: 2 })).toBe(0);
    expect(sem.available).toBe(2);
    await expect(sem.withPermit(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(sem.available).toBe(2);
    sem.tryAcquire()!.forget();
    expect(sem.available).toBe(1);
  });

  it('is FIFO: a large waiter at the head blocks smaller ones behind it', async () => {
    const sem = new Semaphore(2);
    const held = await sem.acquire(2);
    const order: string[] = [];
    const big = sem.acquire(2).then((p) => (order.push('big'), p));
    const small = sem.acquire(1).then((p) => (order.push('small'), p));
    expect(sem.tryAcquire()).toBeUndefined(); // nobody barges past waiters
    held.release();
    const bigPermit = await big;
    expect(order).toEqual(['big']);
    bigPermit.release();
    (await small).release();
    expect(order).toEqual(['big', 'small']);
    expect(sem.available).toBe(2);
  });

  it('an aborted head waiter lets the waiters behind it through', async () => {
    const sem = new Semaphore(1);
    const ac = new AbortController();
    const big = sem.acquire(2, { signal: ac.signal });
    const small = sem.acquire(1);
    ac.abort();
    await expect(big).rejects.toMatchObject({ name: 'AbortError' });
    const p = await small;
    expect(sem.available).toBe(0);
    p.release();
    expect(sem.available).toBe(1);
    expect(sem.waiting).toBe(0);
  });

  it('close rejects waiters and later acquires with ClosedError; held permits still release', async () => {
    const sem = new Semaphore(1);
    const p = await sem.acquire();
    const w = sem.acquire();
    sem.close();
    await expect(w).rejects.toBeInstanceOf(ClosedError);
    await expect(sem.acquire()).rejects.toMatchObject({ code: 'ZOKIO_ERR_CLOSED' });
    expect(sem.tryAcquire()).toBeUndefined();
    p.release();
    expect(sem.available).toBe(1);
  });

  it('rejects bad input with a coded error and leaves its state intact', async () => {
    for (const bad of [-1, 1.5, NaN, 2 ** 31]) expect(codeOf(() => new Semaphore(bad))).toBe('ZOKIO_ERR_INVALID_ARGUMENT');
    const sem = new Semaphore(3);
    for (const bad of [0, -2, 2.5]) {
      expect(codeOf(() => sem.acquire(bad))).toBe('ZOKIO_ERR_INVALID_ARGUMENT');
      expect(codeOf(() => sem.tryAcquire(bad))).toBe('ZOKIO_ERR_INVALID_ARGUMENT');
      expect(codeOf(() => sem.addPermits(bad === 0 ? -1 : bad))).toBe('ZOKIO_ERR_INVALID_ARGUMENT');
    }
    expect(codeOf(() => sem.addPermits(Semaphore.MAX_PERMITS))).toBe('ZOKIO_ERR_INVALID_ARGUMENT');
    expect(sem.available).toBe(3);
    expect(sem.waiting).toBe(0);
  });

  it('property: permits never negative and conserved, FIFO service, consistent after any abort', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.record({ n: fc.integer({ min: 1, max: 4 }), abort: fc.boolean() }), { maxLength: 12 }),
        async (s, total, requests) => {
          const sem = new Semaphore(total);
          let held = 0;
          const arrivals: number[] = [];
          const grants: number[] = [];
          // Permits handed to a waiter leave `available` at once but reach `held` when the
          // waiter resumes, so mid-run the sum may be below `total`; at the end it is equal.
          const check = (): void => {
            expect(sem.available).toBeGreaterThanOrEqual(0);
            expect(sem.available + held).toBeLessThanOrEqual(total);
          };
          const tasks = requests.map(async (req, i) => {
            const n = Math.min(req.n, total);
            await step(s, `arrive ${i}`);
            const ac = new AbortController();
            abortLater(s, ac, req.abort, `abort ${i}`);
            arrivals.push(i);
            let permit;
            try {
              permit = await sem.acquire(n, { signal: ac.signal });
            } catch {
              check();
              return;
            }
            held += n;
            grants.push(i);
            check();
            await step(s, `hold ${i}`);
            held -= n;
            permit.release();
            check();
          });
          await s.waitFor(Promise.all(tasks));
          expect(held).toBe(0);
          expect(sem.available).toBe(total);
          expect(sem.waiting).toBe(0);
          expect(grants).toEqual(arrivals.filter((i) => grants.includes(i)));
        },
      ),
      { numRuns: 200 },
    );
  });
});
