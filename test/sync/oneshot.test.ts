import { describe, expect, it } from 'vitest';
import { ChannelClosedError } from '../../src/errors.js';
import { oneshot } from '../../src/sync/index.js';

describe('oneshot', () => {
  it('carries one value, sent before or after recv', async () => {
    const [tx, rx] = oneshot<number>();
    const p = rx.recv();
    tx.send(1);
    expect(await p).toBe(1);
    expect(() => tx.send(2)).toThrow(ChannelClosedError);
    await expect(rx.recv()).rejects.toBeInstanceOf(ChannelClosedError);
    const [tx2, rx2] = oneshot<string>();
    tx2.send('x');
    expect(rx2.tryRecv()).toEqual({ ok: true, value: 'x' });
    expect(rx2.tryRecv()).toEqual({ ok: false, reason: 'closed' });
  });

  it('sender closed without sending rejects the receiver; receiver closed makes send throw', async () => {
    const [tx, rx] = oneshot<number>();
    const p = rx.recv();
    tx.close();
    await expect(p).rejects.toMatchObject({ code: 'ZOKIO_ERR_CHANNEL_CLOSED' });
    const [tx2, rx2] = oneshot<number>();
    expect(rx2.tryRecv()).toEqual({ ok: false, reason: 'empty' });
    rx2.close();
    expect(tx2.isClosed).toBe(true);
    expect(() => tx2.send(1)).toThrow(ChannelClosedError);
  });

  it('an aborted recv leaves the value for the next recv', async () => {
    const [tx, rx] = oneshot<number>();
    const ac = new AbortController();
    const p = rx.recv({ signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    tx.send(9);
    expect(await rx.recv()).toBe(9);
  });

  it('Sender.closed resolves when the receiver closes', async () => {
    const [tx, rx] = oneshot<number>();
    let closed = false;
    const p = tx.closed().then(() => (closed = true));
    await Promise.resolve();
    expect(closed).toBe(false);
    rx.close();
    await p;
    expect(closed).toBe(true);
    await tx.closed(); // already closed: at once
    const [tx2] = oneshot<number>();
    const ac = new AbortController();
    const waiting = tx2.closed({ signal: ac.signal });
    ac.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
  });

  it('isTerminated: after the value is taken, or once the end was reported', async () => {
    const [tx, rx] = oneshot<number>();
    expect(rx.isTerminated).toBe(false);
    tx.send(1);
    expect(rx.isTerminated).toBe(false); // sent, not received yet
    expect(await rx.recv()).toBe(1);
    expect(rx.isTerminated).toBe(true);
    const [tx2, rx2] = oneshot<number>();
    tx2.close();
    expect(rx2.isTerminated).toBe(false);
    expect(rx2.tryRecv()).toEqual({ ok: false, reason: 'closed' });
    expect(rx2.isTerminated).toBe(true);
    const [tx3, rx3] = oneshot<number>();
    const waiting = rx3.recv();
    tx3.close();
    await expect(waiting).rejects.toBeInstanceOf(ChannelClosedError);
    expect(rx3.isTerminated).toBe(true);
  });
});
