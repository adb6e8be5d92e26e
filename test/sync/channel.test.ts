import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChannelClosedError } from '../../src/errors.js';
import { channel, unboundedChannel } from '../../src/sync/index.js';
import { abortLater, codeOf, step } from './helpers.js';

describe('channel', () => {
  it('delivers in order, waits while full, ends iteration when senders close', async () => {
    const [tx, rx] = channel<number>(3);
    expect(tx.capacity).toBe(3);
    for (let i = 0; i < 3; i++) expect(tx.trySend(i)).toBe('sent');
    expect(tx.trySend(3)).toBe('full');
    expect(rx.length).toBe(3);
    let sent = false;
    const pending = tx.send(3).then(() => (sent = true));
    await Promise.resolve();
    expect(sent).toBe(false);
    expect(await rx.recv()).toBe(0);
    await pending;
    expect(sent).toBe(true);
    tx.close();
    const rest: number[] = [];
    for await (const n of rx) rest.push(n);
    expect(rest).toEqual([1, 2, 3]);
    expect(rx.tryRecv()).toEqual({ ok: false, reason: 'closed' });
    await expect(rx.recv()).rejects.toBeInstanceOf(ChannelClosedError);
  });

  it('tells full from closed in trySend, and rejects sends after the receiver closes', async () => {
    const [tx, rx] = channel<string>(1);
    expect(tx.trySend('a')).toBe('sent');
    expect(tx.trySend('b')).toBe('full');
    const waiting = tx.send('c');
    rx.close();
    await expect(waiting).rejects.toMatchObject({ code: 'ZOKIO_ERR_CHANNEL_CLOSED' });
    expect(tx.trySend('d')).toBe('closed');
    expect(tx.isClosed).toBe(true);
    expect(await rx.recv()).toBe('a'); // buffered messages survive close()
    await expect(rx.recv()).rejects.toBeInstanceOf(ChannelClosedError);
  });

  it('stays open until every clone is closed', async () => {
    const [tx, rx] = channel<number>(4);
    const tx2 = tx.clone();
    tx.close();
    expect(rx.isClosed).toBe(false);
    await tx2.send(7);
    await expect(tx.send(1)).rejects.toBeInstanceOf(ChannelClosedError);
    tx2.close();
    expect(await rx.recv()).toBe(7);
    expect(rx.isClosed).toBe(true);
    expect(() => tx.clone()).toThrow(ChannelClosedError);
  });

  it('an aborted recv takes no message; an aborted send is withdrawn', async () => {
    const [tx, rx] = channel<number>(1);
    const ac = new AbortController();
    const r = rx.recv({ signal: ac.signal });
    ac.abort(new Error('stop'));
    await expect(r).rejects.toThrow('stop');
    await tx.send(1);
    const ac2 = new AbortController();
    const s = tx.send(2, { signal: ac2.signal });
    ac2.abort();
    await expect(s).rejects.toMatchObject({ name: 'AbortError' });
    expect(await rx.recv()).toBe(1);
    expect(rx.tryRecv()).toEqual({ ok: false, reason: 'empty' });
  });

  it('rejects bad capacities with a coded error', () => {
    for (const bad of [0, -1, 1.5, NaN, Infinity, 2 ** 31, '4' as unknown as number]) {
      expect(codeOf(() => channel(bad))).toBe('ZOKIO_ERR_INVALID_ARGUMENT');
    }
  });

  it('unbounded: send never waits, grows past its initial ring', async () => {
    const [tx, rx] = unboundedChannel<number>();
    for (let i = 0; i < 1000; i++) tx.send(i);
    expect(rx.length).toBe(1000);
    tx.close();
    expect(() => tx.send(1)).toThrow(ChannelClosedError);
    let expected = 0;
    for await (const n of rx) expect(n).toBe(expected++);
    expect(expected).toBe(1000);
  });

  it('property: no lost or duplicated message, per-sender FIFO, under any interleaving and aborts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.array(fc.boolean(), { maxLength: 8 }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 10 }),
        async (s, capacity, plans, recvAborts) => {
          const [tx, rx] = channel<readonly [number, number]>(capacity);
          const senders = plans.map((_, id) => (id === 0 ? tx : tx.clone()));
          const delivered = new Set<string>();
          const received: (readonly [number, number])[] = [];
          const sending = plans.map(async (plan, id) => {
            for (let i = 0; i < plan.length; i++) {
              await step(s, `send ${id}.${i}`);
              const ac = new AbortController();
              abortLater(s, ac, plan[i]!, `abort send ${id}.${i}`);
              try {
                await senders[id]!.send([id, i], { signal: ac.signal });
                delivered.add(`${id}:${i}`);
              } catch (err) {
                expect(err).not.toBeInstanceOf(ChannelClosedError);
              }
            }
            senders[id]!.close();
          });
          const receiving = (async () => {
            for (let k = 0; ; k++) {
              await step(s, `recv ${k}`);
              const ac = new AbortController();
              abortLater(s, ac, recvAborts[k % recvAborts.length]!, `abort recv ${k}`);
              try {
                received.push(await rx.recv({ signal: ac.signal }));
              } catch (err) {
                if (err instanceof ChannelClosedError) return;
              }
            }
          })();
          await s.waitFor(Promise.all([...sending, receiving]));
          const keys = received.map(([id, i]) => `${id}:${i}`);
          expect(new Set(keys).size).toBe(keys.length); // no duplicates
          expect([...keys].sort()).toEqual([...delivered].sort()); // nothing lost, nothing extra
          for (let id = 0; id < plans.length; id++) {
            const mine = received.filter(([from]) => from === id).map(([, i]) => i);
            expect(mine).toEqual([...mine].sort((a, b) => a - b)); // per-sender FIFO
          }
          expect(rx.length).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('model: trySend/tryRecv match a bounded FIFO queue', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.array(fc.oneof(fc.constant('recv' as const), fc.integer()), { maxLength: 200 }), (capacity, ops) => {
        const [tx, rx] = channel<number>(capacity);
        const model: number[] = [];
        for (const op of ops) {
          if (op === 'recv') {
            const r = rx.tryRecv();
            if (model.length === 0) expect(r).toEqual({ ok: false, reason: 'empty' });
            else expect(r).toEqual({ ok: true, value: model.shift() });
          } else {
            const r = tx.trySend(op);
            if (model.length < capacity) {
              expect(r).toBe('sent');
              model.push(op);
            } else expect(r).toBe('full');
          }
          expect(rx.length).toBe(model.length);
        }
      }),
    );
  });

  it('reserve holds a slot; the permit sends without waiting and a waiting receiver gets it directly', async () => {
    const [tx, rx] = channel<string>(2);
    const p1 = await tx.reserve();
    expect(p1.remaining).toBe(1);
    expect(tx.trySend('a')).toBe('sent');
    expect(tx.trySend('b')).toBe('full'); // one slot buffered, one reserved
    let admitted = false;
    const p2 = tx.reserve().then((p) => ((admitted = true), p));
    await Promise.resolve();
    expect(admitted).toBe(false);
    p1.send('r1');
    expect(() => p1.send('again')).toThrow(expect.objectContaining({ code: 'ZOKIO_ERR_CLOSED' }));
    expect(await rx.recv()).toBe('a'); // frees a slot: the waiting reservation gets it
    const permit2 = await p2;
    expect(admitted).toBe(true);
    expect(await rx.recv()).toBe('r1');
    const waiting = rx.recv();
    permit2.send('direct');
    expect(await waiting).toBe('direct');
    expect(rx.length).toBe(0);
  });

  it('an unused permit gives its slots back on release or dispose; tryReserve tells full from closed', async () => {
    const [tx, rx] = channel<number>(3);
    {
      using many = await tx.reserveMany(3);
      expect(many.remaining).toBe(3);
      expect(tx.tryReserve()).toBe('full');
      many.send(1);
      expect(many.remaining).toBe(2);
    }
    const again = tx.tryReserveMany(2);
    expect(again).not.toBe('full');
    if (typeof again === 'string') throw new Error('expected a permit');
    again.release();
    again.release(); // idempotent
    expect(tx.trySend(2)).toBe('sent');
    expect(tx.trySend(3)).toBe('sent');
    expect(tx.tryReserve()).toBe('full');
    rx.close();
    expect(tx.tryReserve()).toBe('closed');
    await expect(tx.reserve()).rejects.toBeInstanceOf(ChannelClosedError);
    expect(codeOf(() => tx.reserveMany(4))).toBe('ZOKIO_ERR_INVALID_ARGUMENT');
    expect(codeOf(() => tx.tryReserveMany(0))).toBe('ZOKIO_ERR_INVALID_ARGUMENT');
  });

  it('a permit whose receiver closed throws ChannelClosedError; an outstanding permit keeps the channel open', async () => {
    const [tx, rx] = channel<number>(2);
    const permit = await tx.reserve();
    tx.close();
    expect(rx.isClosed).toBe(false); // the permit may still send
    const next = rx.recv();
    permit.send(5);
    expect(await next).toBe(5);
    expect(rx.isClosed).toBe(true);
    const [tx2, rx2] = channel<number>(2);
    const p2 = await tx2.reserve();
    const ending = rx2.recv();
    tx2.close();
    p2.release(); // last slot given back after the last sender closed: the receiver sees the end
    await expect(ending).rejects.toBeInstanceOf(ChannelClosedError);
    const [tx3, rx3] = channel<number>(2);
    const p3 = await tx3.reserve();
    rx3.close();
    expect(() => p3.send(1)).toThrow(ChannelClosedError);
  });

  it('a cancelled multi-slot reservation at the head lets the waiters behind it in', async () => {
    const [tx, rx] = channel<number>(3);
    tx.trySend(0);
    tx.trySend(1);
    const ac = new AbortController();
    const big = tx.reserveMany(3, { signal: ac.signal }); // needs 3, 1 free
    let sent = false;
    const small = tx.send(2).then(() => (sent = true)); // FIFO: waits behind `big`
    await Promise.resolve();
    expect(sent).toBe(false);
    ac.abort();
    await expect(big).rejects.toMatchObject({ name: 'AbortError' });
    await small;
    expect(sent).toBe(true);
    const got: number[] = [];
    expect(await rx.recvMany(got, 10)).toBe(3);
    expect(got).toEqual([0, 1, 2]);
  });

  it('recvMany waits for one, takes up to limit, returns 0 once closed and drained', async () => {
    const [tx, rx] = channel<number>(8);
    const buf: number[] = [99];
    const waiting = rx.recvMany(buf, 3);
    tx.trySend(1);
    tx.trySend(2);
    expect(await waiting).toBe(2); // woken by the first message, takes the one buffered since
    for (let i = 3; i <= 7; i++) tx.trySend(i);
    expect(await rx.recvMany(buf, 3)).toBe(3);
    expect(buf).toEqual([99, 1, 2, 3, 4, 5]);
    tx.close();
    expect(await rx.recvMany(buf, 10)).toBe(2);
    expect(await rx.recvMany(buf, 10)).toBe(0);
    expect(buf).toEqual([99, 1, 2, 3, 4, 5, 6, 7]);
    expect(codeOf(() => rx.recvMany(buf, 0))).toBe('ZOKIO_ERR_INVALID_ARGUMENT');
    const [, rx2] = channel<number>(1);
    const ac = new AbortController();
    const aborted = rx2.recvMany(buf, 1, { signal: ac.signal });
    ac.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    expect(buf.length).toBe(8);
  });

  it('property: sends and reservations under any interleaving and aborts lose and duplicate nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.array(fc.record({ reserve: fc.integer({ min: 0, max: 3 }), abort: fc.boolean(), release: fc.boolean() }), { maxLength: 6 }), {
          minLength: 1,
          maxLength: 3,
        }),
        async (s, capacity, plans) => {
          const [tx, rx] = channel<string>(capacity);
          const senders = plans.map((_, id) => (id === 0 ? tx : tx.clone()));
          const delivered: string[] = [];
          const received: string[] = [];
          const sending = plans.map(async (plan, id) => {
            for (const [i, op] of plan.entries()) {
              await step(s, `op ${id}.${i}`);
              const ac = new AbortController();
              abortLater(s, ac, op.abort, `abort ${id}.${i}`);
              const k = Math.min(op.reserve, capacity);
              try {
                if (k === 0) {
                  await senders[id]!.send(`${id}.${i}`, { signal: ac.signal });
                  delivered.push(`${id}.${i}`);
                } else {
                  const permit = await senders[id]!.reserveMany(k, { signal: ac.signal });
                  await step(s, `hold ${id}.${i}`);
                  const use = op.release ? k - 1 : k;
                  for (let j = 0; j < use; j++) {
                    permit.send(`${id}.${i}.${j}`);
                    delivered.push(`${id}.${i}.${j}`);
                  }
                  permit.release();
                }
              } catch (err) {
                expect(err).not.toBeInstanceOf(ChannelClosedError);
              }
            }
            senders[id]!.close();
          });
          const receiving = (async () => {
            const buf: string[] = [];
            for (let r = 0; ; r++) {
              await step(s, `recv ${r}`);
              buf.length = 0;
              if ((await rx.recvMany(buf, 1 + (r % 3))) === 0) return;
              received.push(...buf);
            }
          })();
          await s.waitFor(Promise.all([...sending, receiving]));
          expect(new Set(received).size).toBe(received.length);
          expect([...received].sort()).toEqual([...delivered].sort());
          expect(rx.length).toBe(0);
          expect(rx.isClosed).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
});
