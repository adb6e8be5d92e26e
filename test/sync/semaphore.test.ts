import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClosedError } from '../../src/errors.js';
import { Semaphore, type Permit } from '../../src/sync/index.js';
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

  it('a signal costs one listener while waiting, removed once the wait ends either way', async () => {
    const sem = new Semaphore(1);
    const held = await sem.acquire();
    const ac = new AbortController();
    const served = sem.acquire(1, { signal: ac.signal });
    const aborted = sem.acquire(1, { signal: ac.signal });
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(2);
    held.release(); // served gets it: its listener goes, the other stays
    const p = await served;
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    ac.abort(); // after the handoff: only the still-waiting one rejects
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    expect(p.permits).toBe(1);
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

  it('a release with waiters hands permits straight to the head, which resumes one microtask later', async () => {
    const sem = new Semaphore(1);
    const held = await sem.acquire();
    let resumed: Permit | undefined;
    const head = sem.acquire().then((p) => (resumed = p));
    const next = sem.acquire();
    held.release();
    expect(sem.available).toBe(0); // handed over, never free
    expect(sem.tryAcquire()).toBeUndefined();
    expect(sem.waiting).toBe(1);
    await Promise.resolve(); // the head's reaction was queued by release(), before this one
    expect(resumed?.permits).toBe(1);
    expect(await head).toBe(resumed);
    resumed!.release();
    resumed!.release(); // idempotent after a handoff too
    const last = await next;
    expect(sem.available).toBe(0);
    last.release();
    expect(sem.available).toBe(1);
    expect(sem.waiting).toBe(0);
  });

  it('a permit is not a thenable: every path delivers the permit object itself', async () => {
    const sem = new Semaphore(1);
    const p = await sem.acquire();
    expect((p as unknown as { then?: unknown }).then).toBeUndefined();
    expect(Object.keys(p)).not.toContain('then');
    expect(await Promise.resolve(p)).toBe(p);
    const waiting = sem.acquire();
    p.release();
    const q = await waiting;
    expect(await Promise.resolve(q)).toBe(q);
    expect(q.permits).toBe(1);
    q[Symbol.dispose]();
    expect(sem.available).toBe(1);
  });

  it('one addPermits serves several heads in order and stops at the first that does not fit', async () => {
    const sem = new Semaphore(0);
    const ac = new AbortController();
    const order: string[] = [];
    const mark = (name: string) => (p: Permit) => (order.push(name), p);
    const a = sem.acquire(1).then(mark('a'));
    const dead = sem.acquire(1, { signal: ac.signal }).catch(() => 'aborted');
    const b = sem.acquire(2).then(mark('b'));
    const e = sem.acquire(1).then(mark('e'));
    const c = sem.acquire(2).then(mark('c'));
    const d = sem.acquire(1).then(mark('d'));
    ac.abort();
    expect(await dead).toBe('aborted');
    sem.addPermits(4); // a (1), skips the aborted one, b (2), e (the last 1); c and d wait
    expect(sem.available).toBe(0);
    expect(sem.waiting).toBe(2);
    const [pa, pb, pe] = await Promise.all([a, b, e]);
    expect(order).toEqual(['a', 'b', 'e']);
    pa.release(); // 1 free: c needs 2, and d (which would fit) stays behind it
    expect(sem.available).toBe(0); // the free permit is set aside for c, the head
    expect(sem.waiting).toBe(2);
    pe.release(); // 2 free: c takes them
    const pc = await c;
    expect(sem.available).toBe(0);
    pb.release(); // 2 free: d takes 1
    const pd = await d;
    expect(sem.available).toBe(1);
    expect(order).toEqual(['a', 'b', 'e', 'c', 'd']);
    pc.release();
    pd.release();
    expect(sem.available).toBe(4);
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
  it('property: looping contenders (acquire, hold, release, again) are served in call order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 4 }),
        fc.array(
          fc.array(fc.record({ n: fc.integer({ min: 1, max: 4 }), abort: fc.boolean(), hold: fc.boolean(), tryFirst: fc.boolean() }), {
            minLength: 1,
            maxLength: 4,
          }),
          { minLength: 1, maxLength: 5 },
        ),
        fc.array(fc.integer({ min: 1, max: 2 }), { maxLength: 3 }),
        async (s, initial, contenders, extra) => {
          const sem = new Semaphore(initial);
          let total = initial;
          let held = 0;
          let seq = 0;
          const calls: number[] = []; // acquire calls in call order (ids)
          const grants: number[] = []; // the same ids in the order their permits arrived
          const check = (): void => {
            expect(sem.available).toBeGreaterThanOrEqual(0);
            expect(sem.available + held).toBeLessThanOrEqual(total);
          };
          const adders = extra.map(async (k, i) => {
            await step(s, `add ${i}`);
            total += k;
            sem.addPermits(k);
            check();
          });
          const loops = contenders.map(async (rounds, c) => {
            for (const [r, req] of rounds.entries()) {
              const n = Math.min(req.n, initial);
              await step(s, `arrive ${c}.${r}`);
              let permit: Permit | undefined;
              if (req.tryFirst) {
                permit = sem.tryAcquire(n);
                if (permit !== undefined) {
                  const id = seq++;
                  calls.push(id);
                  grants.push(id);
                }
              }
              if (permit === undefined) {
                const ac = new AbortController();
                abortLater(s, ac, req.abort, `abort ${c}.${r}`);
                const id = seq++;
                calls.push(id);
                try {
                  permit = await sem.acquire(n, req.abort ? { signal: ac.signal } : undefined);
                } catch {
                  calls.splice(calls.indexOf(id), 1); // aborted: never granted
                  check();
                  continue;
                }
                grants.push(id);
              }
              held += n;
              check();
              if (req.hold) await step(s, `hold ${c}.${r}`);
              held -= n;
              permit.release();
              check();
            }
          });
          await s.waitFor(Promise.all([...loops, ...adders]));
          expect(held).toBe(0);
          expect(sem.available).toBe(total);
          expect(sem.waiting).toBe(0);
          expect(grants).toEqual(calls);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('available reads 0 while a larger request waits: the free permits are set aside for it', async () => {
    const sem = new Semaphore(8);
    const held = await sem.acquire(8);
    const big = sem.acquire(8);
    const part = held.split(6)!;
    part.release(); // 6 free, but the head wants 8
    expect(sem.available).toBe(0);
    expect(sem.tryAcquire(1)).toBeUndefined();
    expect(sem.forgetPermits(3)).toBe(0); // set-aside permits cannot be forgotten
    held.release(); // now 8: the head is served
    const p = await big;
    expect(p.permits).toBe(8);
    expect(sem.available).toBe(0);
    p.release();
    expect(sem.available).toBe(8);
  });

  it('a cancelled head gives its set-aside permits back to available', async () => {
    const sem = new Semaphore(6);
    const held = await sem.acquire(6);
    const ac = new AbortController();
    const big = sem.acquire(8, { signal: ac.signal });
    held.release();
    expect(sem.available).toBe(0);
    ac.abort();
    await expect(big).rejects.toMatchObject({ name: 'AbortError' });
    expect(sem.available).toBe(6);
  });

  it('forgetPermits removes at most what is available and says how many', () => {
    const sem = new Semaphore(5);
    const p = sem.tryAcquire(2)!;
    expect(sem.forgetPermits(10)).toBe(3);
    expect(sem.available).toBe(0);
    p.release();
    expect(sem.available).toBe(2);
    expect(sem.forgetPermits(0)).toBe(0);
    expect(codeOf(() => sem.forgetPermits(-1))).toBe('ZOKIO_ERR_INVALID_ARGUMENT');
    expect(codeOf(() => sem.forgetPermits(1.5))).toBe('ZOKIO_ERR_INVALID_ARGUMENT');
    expect(sem.available).toBe(2);
  });

  it('Permit.split and merge move permits between permit objects of one semaphore', async () => {
    const sem = new Semaphore(5);
    const a = await sem.acquire(5);
    const b = a.split(2)!;
    expect([a.permits, b.permits]).toEqual([3, 2]);
    expect(a.split(4)).toBeUndefined(); // more than it holds: nothing changes
    expect(a.permits).toBe(3);
    b.release();
    expect(sem.available).toBe(2);
    const c = sem.tryAcquire(2)!;
    a.merge(c);
    expect([a.permits, c.permits]).toEqual([5, 0]);
    c.release(); // empty now: gives nothing back
    expect(sem.available).toBe(0);
    const other = new Semaphore(1).tryAcquire()!;
    expect(codeOf(() => a.merge(other))).toBe('ZOKIO_ERR_INVALID_ARGUMENT');
    expect(codeOf(() => a.merge(a))).toBe('ZOKIO_ERR_INVALID_ARGUMENT');
    expect(codeOf(() => a.split(0))).toBe('ZOKIO_ERR_INVALID_ARGUMENT');
    expect(a.permits).toBe(5);
    const whole = a.split(5)!; // splitting everything leaves `a` empty
    expect(a.permits).toBe(0);
    expect(a.split(1)).toBeUndefined();
    whole.release();
    expect(sem.available).toBe(5);
  });

  it('property: available is 0 exactly while someone waits, and split/merge/forget conserve permits', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.record({ n: fc.integer({ min: 1, max: 6 }), split: fc.boolean(), forget: fc.integer({ min: 0, max: 2 }) }), {
          maxLength: 10,
        }),
        async (s, initial, requests) => {
          const sem = new Semaphore(initial);
          let total = initial;
          let held = 0;
          const check = (): void => {
            if (sem.waiting > 0) expect(sem.available).toBe(0);
            expect(sem.available + held).toBeLessThanOrEqual(total);
          };
          const tasks = requests.map(async (req, i) => {
            await step(s, `arrive ${i}`);
            total -= sem.forgetPermits(req.forget);
            check();
            const n = Math.min(req.n, Math.max(1, total));
            // Every wait gets an abort at a point the scheduler picks: forgets elsewhere may
            // shrink the semaphore below a waiting request, which must not hang the run.
            const ac = new AbortController();
            abortLater(s, ac, true, `abort ${i}`);
            let permit: Permit;
            try {
              permit = await sem.acquire(n, { signal: ac.signal });
            } catch {
              check();
              return;
            }
            held += n;
            check();
            await step(s, `hold ${i}`);
            if (req.split && n > 1) {
              const part = permit.split(1)!;
              held -= 1;
              part.release();
              check();
              await step(s, `hold more ${i}`);
              held -= n - 1;
            } else held -= n;
            permit.release();
            check();
          });
          await s.waitFor(Promise.all(tasks));
          expect(held).toBe(0);
          expect(sem.waiting).toBe(0);
          expect(sem.available).toBe(total);
        },
      ),
      { numRuns: 200 },
    );
  });
});
