import { describe, expect, it } from 'vitest';
import { Barrier } from '../../src/sync/index.js';
import { codeOf } from './helpers.js';

describe('Barrier', () => {
  it('releases n waiters with exactly one leader, and is reusable', async () => {
    const b = new Barrier(3);
    for (let round = 0; round < 2; round++) {
      const r = await Promise.all([b.wait(), b.wait(), b.wait()]);
      expect(r.filter((x) => x.isLeader)).toHaveLength(1);
      expect(b.arrived).toBe(0);
    }
  });

  it('an aborted waiter leaves the generation; the barrier then needs one more', async () => {
    const b = new Barrier(2);
    const ac = new AbortController();
    const a = b.wait({ signal: ac.signal });
    ac.abort();
    await expect(a).rejects.toMatchObject({ name: 'AbortError' });
    expect(b.arrived).toBe(0);
    const [x, y] = await Promise.all([b.wait(), b.wait()]);
    expect([x.isLeader, y.isLeader].sort()).toEqual([false, true]);
  });

  it('rejects bad party counts', () => {
    for (const bad of [0, -1, 1.5]) expect(codeOf(() => new Barrier(bad))).toBe('ZOKIO_ERR_INVALID_ARGUMENT');
  });
});
