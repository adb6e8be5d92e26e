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
});
