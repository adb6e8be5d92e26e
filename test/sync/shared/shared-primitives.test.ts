import { describe, expect, it } from 'vitest';
import { ChannelClosedError, ClosedError } from '../../../src/errors.js';
import { reviveShared } from '../../../src/sync/shared/revive.js';
import { SharedChannel, SharedMutex, SharedSemaphore } from '../../../src/sync/index.js';
import { codeOf } from '../helpers.js';

describe('Shared* on one thread', () => {
  it('SharedSemaphore: try/acquire/release, revive from a clone, close', async () => {
    const sem = new SharedSemaphore(1);
    const copy = reviveShared(structuredClone(sem)) as SharedSemaphore;
    expect(copy).toBeInstanceOf(SharedSemaphore);
    const p = copy.tryAcquire()!;
    expect(sem.available).toBe(0);
    const waiting = sem.acquire();
    p.release();
    (await waiting).release();
    expect(copy.available).toBe(1);
    const ac = new AbortController();
    const held = await sem.acquire();
    const aborted = sem.acquire(1, { signal: ac.signal });
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    held.release();
    expect(sem.available).toBe(1);
    expect(() => sem.acquireSync()).not.toThrow(); // permit free: no wait needed
    const blocked = sem.acquire();
    sem.close();
    await expect(blocked).rejects.toBeInstanceOf(ClosedError);
    expect(codeOf(() => new SharedSemaphore(-1))).toBe('ZOKIO_ERR_INVALID_ARGUMENT');
    expect(codeOf(() => SharedSemaphore.from({ buffer: new SharedArrayBuffer(3) }))).toBe('ZOKIO_ERR_INVALID_ARGUMENT');
  });

  it('SharedMutex: lock, tryLock, withLock, revive', async () => {
    const m = new SharedMutex();
    const copy = SharedMutex.from(structuredClone(m));
    const g = await m.lock();
    expect(copy.tryLock()).toBeUndefined();
    const next = copy.lock();
    g.release();
    const g2 = await next;
    expect(m.isLocked).toBe(true);
    g2[Symbol.dispose]();
    expect(await m.withLock(() => 5)).toBe(5);
    expect(m.isLocked).toBe(false);
    expect(() => m.lockSync()).not.toThrow();
  });

  it('SharedChannel: FIFO with wrap-around, full vs closed, bytes mode, bad input', async () => {
    const ch = new SharedChannel<{ i: number; s: string }>({ capacityBytes: 128 });
    const copy = reviveShared(structuredClone(ch)) as SharedChannel<{ i: number; s: string }>;
    let sent = 0;
    let got = 0;
    for (let round = 0; round < 20; round++) {
      while (ch.trySend({ i: sent, s: 'x'.repeat(sent % 7) }) === 'sent') sent++;
      const r = copy.tryRecv();
      expect(r).toEqual({ ok: true, value: { i: got, s: 'x'.repeat(got % 7) } });
      got++;
    }
    expect(ch.trySend({ i: -1, s: 'x'.repeat(40) })).toBe('full');
    const waitingSend = ch.send({ i: sent, s: '' });
    while (got <= sent) expect((await copy.recv()).i).toBe(got++);
    await waitingSend;
    ch.close();
    expect(ch.trySend({ i: 0, s: '' })).toBe('closed');
    await expect(ch.send({ i: 0, s: '' })).rejects.toBeInstanceOf(ChannelClosedError);
    expect(copy.tryRecv()).toEqual({ ok: false, reason: 'closed' });
    const ac = new AbortController();
    const empty = new SharedChannel<number>({ capacityBytes: 64 });
    const r = empty.recv({ signal: ac.signal });
    ac.abort();
    await expect(r).rejects.toMatchObject({ name: 'AbortError' });

    const bytes = new SharedChannel<Uint8Array>({ capacityBytes: 64, mode: 'bytes' });
    expect(bytes.trySend(new Uint8Array([1, 2, 3]))).toBe('sent');
    expect(bytes.tryRecv()).toEqual({ ok: true, value: new Uint8Array([1, 2, 3]) });
    expect(codeOf(() => bytes.trySend(new Uint8Array(61)))).toBe('ZOKIO_ERR_INVALID_ARGUMENT');
    expect(codeOf(() => new SharedChannel({ capacityBytes: 100 }))).toBe('ZOKIO_ERR_INVALID_ARGUMENT');
    expect(codeOf(() => new SharedChannel({ capacityBytes: 32 }))).toBe('ZOKIO_ERR_INVALID_ARGUMENT');
    expect(bytes.length).toBe(0);
  });

  it('sync waits are refused on the main thread', () => {
    const ch = new SharedChannel<number>({ capacityBytes: 64 });
    expect(codeOf(() => ch.recvSync())).toBe('ZOKIO_ERR_INVALID_ARGUMENT');
  });
});
