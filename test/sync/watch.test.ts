import { describe, expect, it } from 'vitest';
import { ChannelClosedError } from '../../src/errors.js';
import { watch } from '../../src/sync/index.js';

describe('watch', () => {
  it('keeps the latest value; changed() waits for an unseen one', async () => {
    const [tx, rx] = watch(0);
    expect(rx.borrow()).toBe(0);
    expect(rx.hasChanged).toBe(false);
    const c = rx.changed();
    tx.send(1);
    tx.send(2);
    await c;
    expect(rx.borrow()).toBe(2);
    expect(rx.hasChanged).toBe(false);
    tx.sendModify((v) => v + 1);
    const other = tx.subscribe();
    expect(other.hasChanged).toBe(false);
    expect(rx.hasChanged).toBe(true);
    expect(rx.borrowAndUpdate()).toBe(3);
    tx.close();
    await expect(rx.changed()).rejects.toBeInstanceOf(ChannelClosedError);
    expect(() => tx.send(4)).toThrow(ChannelClosedError);
    expect(rx.borrow()).toBe(3);
  });

  it('iterates over changes until the sender closes; aborted changed() marks nothing seen', async () => {
    const [tx, rx] = watch('a');
    const ac = new AbortController();
    const c = rx.changed({ signal: ac.signal });
    ac.abort();
    await expect(c).rejects.toMatchObject({ name: 'AbortError' });
    tx.send('b');
    const seen: string[] = [];
    const done = (async () => {
      for await (const v of rx.clone()) {
        seen.push(v);
        if (v === 'c') break;
      }
    })();
    await Promise.resolve();
    tx.send('c');
    await done;
    expect(seen).toEqual(['b', 'c']);
    expect(rx.hasChanged).toBe(true);
  });

  it('waitFor resolves with the first value that passes, checking the current one first', async () => {
    const [tx, rx] = watch(1);
    expect(await rx.waitFor((v) => v === 1)).toBe(1);
    const p = rx.waitFor((v) => v >= 3);
    tx.send(2);
    tx.send(3);
    expect(await p).toBe(3);
    expect(rx.hasChanged).toBe(false);
    const stop = rx.waitFor((v) => v > 100);
    tx.close();
    await expect(stop).rejects.toBeInstanceOf(ChannelClosedError);
    const [, rx2] = watch(0);
    const ac = new AbortController();
    const aborted = rx2.waitFor(() => false, { signal: ac.signal });
    ac.abort(new Error('enough'));
    await expect(aborted).rejects.toThrow('enough');
    await expect(rx2.waitFor(() => { throw new Error('bad predicate'); })).rejects.toThrow('bad predicate');
  });

  it('markChanged and markUnchanged set what changed() sees', async () => {
    const [tx, rx] = watch('a');
    rx.borrowAndUpdate();
    expect(rx.hasChanged).toBe(false);
    rx.markChanged();
    expect(rx.hasChanged).toBe(true);
    await rx.changed(); // at once
    tx.send('b');
    rx.markUnchanged();
    expect(rx.hasChanged).toBe(false);
  });

  it('receiverCount and Sender.closed follow receivers closing', async () => {
    const [tx, rx] = watch(0);
    const rx2 = tx.subscribe();
    const rx3 = rx.clone();
    expect(tx.receiverCount).toBe(3);
    let closed = false;
    const all = tx.closed().then(() => (closed = true));
    const pending = rx2.changed();
    rx2.close();
    rx2.close(); // again: nothing
    await expect(pending).rejects.toBeInstanceOf(ChannelClosedError);
    await expect(rx2.changed()).rejects.toBeInstanceOf(ChannelClosedError);
    expect(tx.receiverCount).toBe(2);
    rx.close();
    rx3[Symbol.dispose]();
    await all;
    expect(closed).toBe(true);
    expect(tx.receiverCount).toBe(0);
    await tx.closed();
    tx.send(1); // sending with no receiver is allowed, as before
    expect(rx.borrow()).toBe(1);
  });
});
