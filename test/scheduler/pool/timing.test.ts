import { describe, expect, it } from 'vitest';
import { Runtime, type PoolMetrics } from '../../../src/index.js';
import { until } from '../../helpers.js';
import { parity } from '../../fixtures/pool-parity-tasks.js';

function pool(rt: { metrics(): unknown }): PoolMetrics {
  return (rt.metrics() as { pool: PoolMetrics }).pool;
}

describe('timing metrics', () => {
  it('counts every exec and map chunk in the run-time and queue-wait histograms, quantiles ordered', async () => {
    await using rt = Runtime.builder().workers(2).build();
    await rt.exec(parity.sum, new Uint8Array(1));
    const before = pool(rt).timing;
    await Promise.all(Array.from({ length: 500 }, () => rt.exec(parity.sum, new Uint8Array(4))));
    await rt.map(parity.sum, [new Uint8Array(1), new Uint8Array(2)], { chunkSize: 1 });
    const { runMs, queueWaitMs } = pool(rt).timing;
    expect(runMs.count - before.runMs.count).toBe(502);
    expect(queueWaitMs.count - before.queueWaitMs.count).toBe(502);
    for (const s of [runMs, queueWaitMs]) {
      expect(s.p50).toBeGreaterThanOrEqual(0);
      expect(s.p50).toBeLessThanOrEqual(s.p90);
      expect(s.p90).toBeLessThanOrEqual(s.p99);
      expect(s.p99).toBeLessThanOrEqual(s.max);
    }
    for (const w of pool(rt).workers) {
      expect(w.utilisation).toBeGreaterThanOrEqual(0);
      expect(w.utilisation).toBeLessThanOrEqual(1);
    }
  });

  it('a task held on a gate shows in run max, and the task queued behind it in queue-wait max', async () => {
    await using rt = Runtime.builder().workers(1).build();
    const view = new Int32Array(new SharedArrayBuffer(8));
    const held = rt.exec(parity.block, view, 1);
    await until(() => Atomics.load(view, 0) === 1);
    const behind = rt.exec(parity.sum, new Uint8Array(1));
    // The gate opens only after 30 ms of timer: the held task ran, and the other waited, at least that long.
    await new Promise((r) => setTimeout(r, 30));
    Atomics.store(view, 1, 1);
    Atomics.notify(view, 1);
    await Promise.all([held, behind]);
    const { runMs, queueWaitMs } = pool(rt).timing;
    expect(runMs.max).toBeGreaterThanOrEqual(25);
    expect(queueWaitMs.max).toBeGreaterThanOrEqual(25);
    expect(runMs.count).toBe(2);
    expect(pool(rt).workers[0]!.utilisation).toBeGreaterThan(0);
  });
});
