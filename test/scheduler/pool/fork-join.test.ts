import { describe, expect, it } from 'vitest';
import { Runtime, join } from '../../../src/index.js';
import { tasks, treeChecksum } from '../../fixtures/pool-tasks.js';

function seqFib(n: number): number {
  return n < 2 ? n : seqFib(n - 1) + seqFib(n - 2);
}

/** A seed whose random tree at `depth` has at least `min` nodes. */
function bigTree(min: number, depth: number): { seed: number; nodes: number; sum: number } {
  for (let seed = 1; ; seed++) {
    const t = treeChecksum(seed, depth);
    if (t.nodes >= min && t.nodes <= min * 6) return { seed, ...t };
    if (seed > 10_000) throw new Error("no tree of that size");
  }
}

describe('join outside a worker', () => {
  it('runs both sides inline', () => {
    expect(join([tasks.add, 1, 2], [tasks.inc, 5])).toEqual([3, 6]);
    expect(tasks.fib).toBeDefined();
  });
});

describe.each([1, 2, 4])('fork-join on %i worker(s)', (workers) => {
  it('fib, merge sort, errors on either side, depth 40', async () => {
    const rt = Runtime.builder().workers(workers).build();
    try {
      expect(await rt.exec(tasks.fib, 27, 12)).toBe(seqFib(27));
      const n = 200_000;
      const data = new Float64Array(new SharedArrayBuffer(n * 8));
      for (let i = 0; i < n; i++) data[i] = Math.sin(i * 12.9898) * 43758.5453;
      const tmp = new Float64Array(new SharedArrayBuffer(n * 8));
      const expected = Float64Array.from(data).sort();
      expect(await rt.exec(tasks.mergeSort, data, tmp, 0, n, 4096)).toBe(n);
      expect(data).toEqual(expected);
      for (const side of ['a', 'b']) {
        const err = (await rt.exec(tasks.joinFail, side).catch((e: unknown) => e)) as Error & { code?: string };
        expect(err.message).toBe(side === 'a' ? 'boom 1' : 'boom 2');
        expect(err.code).toBe('E_BOOM');
      }
      expect(await rt.exec(tasks.depth, 40)).toBe(40);
      const m = rt.metrics().pool as { workers: Array<{ joins: number; inlinePops: number; stolenSides: number; helpIterations: number }> };
      const joins = m.workers.reduce((s, w) => s + w.joins, 0);
      const resolved = m.workers.reduce((s, w) => s + w.inlinePops + w.stolenSides, 0);
      expect(joins).toBeGreaterThan(0);
      expect(resolved).toBe(joins);
      if (workers === 1) expect(m.workers[0]!.stolenSides).toBe(0);
    } finally {
      await rt.shutdown();
    }
  });
});

describe.each([2, 4])('random fork-join trees on %i workers', (workers) => {
  it('sum to the sequential checksum over >= 100,000 nodes', async () => {
    const { seed, nodes, sum } = bigTree(100_000, 26);
    expect(nodes).toBeGreaterThanOrEqual(100_000);
    const rt = Runtime.builder().workers(workers).build();
    try {
      expect(await rt.exec(tasks.tree, seed, 26)).toBe(sum);
    } finally {
      await rt.shutdown();
    }
  });
});
