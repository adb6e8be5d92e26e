import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChannelClosedError } from '../../src/errors.js';
import { broadcast } from '../../src/sync/index.js';
import { codeOf } from './helpers.js';

describe('broadcast', () => {
  it('every receiver sees every message; a waiting receiver is woken', async () => {
    const [tx, a] = broadcast<number>(4);
    const b = tx.subscribe();
    const waiting = a.recv();
    expect(tx.send(1)).toBe(2);
    expect(await waiting).toEqual({ kind: 'message', value: 1 });
    expect(await b.recv()).toEqual({ kind: 'message', value: 1 });
    tx.close();
    await expect(a.recv()).rejects.toBeInstanceOf(ChannelClosedError);
    const seen = [];
    for await (const r of b) seen.push(r);
    expect(seen).toEqual([]);
  });

  it('a lagging receiver learns exactly how many it missed, then continues from the oldest kept', async () => {
    const [tx, rx] = broadcast<number>(3);
    for (let i = 0; i < 10; i++) tx.send(i);
    expect(await rx.recv()).toEqual({ kind: 'lagged', missed: 7 });
    expect(await rx.recv()).toEqual({ kind: 'message', value: 7 });
    expect(rx.tryRecv()).toEqual({ kind: 'message', value: 8 });
    expect(rx.tryRecv()).toEqual({ kind: 'message', value: 9 });
    expect(rx.tryRecv()).toEqual({ kind: 'empty' });
  });

  it('drained() lets the producer wait for the slowest receiver without polling', async () => {
    const [tx, fast] = broadcast<number>(8);
    const slow = tx.subscribe();
    for (let i = 0; i < 6; i++) tx.send(i);
    while (fast.tryRecv().kind !== 'empty');
    expect(tx.length).toBe(6);
    let drained = false;
    const d = tx.drained(2).then(() => (drained = true));
    for (let i = 0; i < 3; i++) slow.tryRecv();
    await Promise.resolve();
    expect(drained).toBe(false);
    slow.tryRecv();
    await d;
    expect(tx.length).toBe(2);
    slow.close(); // a closed receiver no longer counts
    expect(tx.length).toBe(0);
    const ac = new AbortController();
    tx.send(1);
    const aborted = tx.drained(0, { signal: ac.signal });
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('an aborted recv does not move the receiver', async () => {
    const [tx, rx] = broadcast<string>(2);
    const ac = new AbortController();
    const r = rx.recv({ signal: ac.signal });
    ac.abort();
    await expect(r).rejects.toMatchObject({ name: 'AbortError' });
    tx.send('a');
    expect(await rx.recv()).toEqual({ kind: 'message', value: 'a' });
  });

  it('rejects bad capacities with a coded error', () => {
    for (const bad of [0, -3, 2.5]) expect(codeOf(() => broadcast(bad))).toBe('ZOKIO_ERR_INVALID_ARGUMENT');
  });

  it('model: lag counts are exact and no kept message is skipped or repeated', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.oneof(fc.constant(-1), fc.constant(-2), fc.nat(100)), { maxLength: 150 }),
        (capacity, ops) => {
          const [tx, r0] = broadcast<number>(capacity);
          const receivers = [r0, tx.subscribe()];
          const sent: number[] = [];
          const cursors = [0, 0];
          for (const op of ops) {
            if (op >= 0) {
              tx.send(op);
              sent.push(op);
              continue;
            }
            const k = op === -1 ? 0 : 1;
            const got = receivers[k]!.tryRecv();
            const oldest = Math.max(0, sent.length - capacity);
            if (cursors[k] === sent.length) expect(got).toEqual({ kind: 'empty' });
            else if (cursors[k]! < oldest) {
              expect(got).toEqual({ kind: 'lagged', missed: oldest - cursors[k]! });
              cursors[k] = oldest;
            } else {
              expect(got).toEqual({ kind: 'message', value: sent[cursors[k]!] });
              cursors[k]!++;
            }
          }
        },
      ),
    );
  });

  it('tryRecv tells empty from closed', () => {
    const [tx, rx] = broadcast<number>(2);
    expect(rx.tryRecv()).toEqual({ kind: 'empty' });
    tx.send(1);
    tx.close();
    expect(rx.tryRecv()).toEqual({ kind: 'message', value: 1 });
    expect(rx.tryRecv()).toEqual({ kind: 'closed' });
    const [, rx2] = broadcast<number>(2);
    rx2.close();
    expect(rx2.tryRecv()).toEqual({ kind: 'closed' });
  });

  it('resubscribe starts at the newest end; clone keeps the position', async () => {
    const [tx, rx] = broadcast<number>(4);
    tx.send(1);
    tx.send(2);
    const fresh = rx.resubscribe();
    const copy = rx.clone();
    expect(fresh.tryRecv()).toEqual({ kind: 'empty' });
    expect(copy.tryRecv()).toEqual({ kind: 'message', value: 1 });
    tx.send(3);
    expect(await fresh.recv()).toEqual({ kind: 'message', value: 3 });
    expect(tx.receiverCount).toBe(3);
  });

  it('Sender.closed resolves once every receiver has closed', async () => {
    const [tx, rx] = broadcast<number>(2);
    const other = tx.subscribe();
    let closed = false;
    const p = tx.closed().then(() => (closed = true));
    rx.close();
    await Promise.resolve();
    expect(closed).toBe(false);
    other.close();
    await p;
    expect(closed).toBe(true);
    await tx.closed();
    const [tx2] = broadcast<number>(1);
    const ac = new AbortController();
    const waiting = tx2.closed({ signal: ac.signal });
    ac.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
  });
});
