import { describe, expect, it } from 'vitest';
import { Notify } from '../../src/sync/index.js';

describe('Notify', () => {
  it('notifyOne stores one permit when nobody waits; notifyWaiters stores none', async () => {
    const n = new Notify();
    n.notifyOne();
    n.notifyOne();
    await n.notified(); // consumes the single stored permit
    let woke = false;
    const w = n.notified().then(() => (woke = true));
    n.notifyWaiters();
    await w;
    expect(woke).toBe(true);
    n.notifyWaiters();
    let late = false;
    void n.notified().then(() => (late = true));
    await Promise.resolve();
    expect(late).toBe(false);
    n.notifyOne();
    await Promise.resolve();
    expect(late).toBe(true);
  });

  it('wakes waiters FIFO; an aborted waiter consumes no notification', async () => {
    const n = new Notify();
    const order: number[] = [];
    const ac = new AbortController();
    const a = n.notified({ signal: ac.signal });
    const b = n.notified().then(() => order.push(2));
    const c = n.notified().then(() => order.push(3));
    ac.abort();
    await expect(a).rejects.toMatchObject({ name: 'AbortError' });
    n.notifyOne();
    await b;
    n.notifyOne();
    await c;
    expect(order).toEqual([2, 3]);
    expect(n.waiting).toBe(0);
  });

  it('notifyLast wakes the waiter that arrived last, or stores a permit when none waits', async () => {
    const n = new Notify();
    const woken: number[] = [];
    const ac = new AbortController();
    const waits = [0, 1, 2].map((i) => n.notified(i === 2 ? { signal: ac.signal } : undefined).then(() => woken.push(i), () => woken.push(-i)));
    ac.abort(); // the newest waiter leaves: notifyLast skips it
    await Promise.resolve();
    n.notifyLast();
    await Promise.resolve();
    await Promise.resolve();
    expect(woken).toEqual([-2, 1]);
    n.notifyLast();
    await Promise.all(waits);
    expect(woken).toEqual([-2, 1, 0]);
    expect(n.waiting).toBe(0);
    n.notifyLast(); // nobody waits: a permit is stored
    await n.notified();
  });
});
