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
});
