import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { SharedSlab } from '../../src/memory/index.js';
import { stressSlab, type StressResult } from '../fixtures/memory-slab-stress-loop.js';

const FIXTURE = new URL('../fixtures/memory-slab-stress.mjs', import.meta.url);

function startWorker(workerData: Record<string, unknown>): { ready: Promise<void>; result: Promise<StressResult> } {
  const worker = new Worker(FIXTURE, { workerData });
  let onReady!: () => void;
  let onFail!: (err: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    onFail = reject;
  });
  const result = new Promise<StressResult>((resolve, reject) => {
    const fail = (err: unknown): void => {
      onFail(err);
      reject(err);
    };
    worker.on('message', (msg: { ready?: boolean } & StressResult) => {
      if (msg.ready === true) onReady();
      else resolve(msg);
    });
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`worker exited with code ${code} before reporting`)));
  });
  result.catch(() => {}); // observed through `ready` or awaited later
  return { ready, result: result.finally(() => worker.terminate()) };
}

describe('SharedSlab across threads', () => {
  it('2 workers x 1,000,000 alloc/free pairs plus the main thread: no block ever has two owners', async () => {
    // 8 blocks for 3 owners holding up to 4 each: heavy contention on the head and regular exhaustion.
    const slab = new SharedSlab({ blockSize: 16, blockCount: 8 });
    const control = new Int32Array(new SharedArrayBuffer(4));
    const PAIRS = 1_000_000;
    const workers = [
      startWorker({ slab, open: 'revive', id: 1, pairs: PAIRS, hold: 4, control }),
      startWorker({ slab: slab.handle, open: 'from', id: 2, pairs: PAIRS, hold: 4, control }),
    ];
    await Promise.all(workers.map((w) => w.ready));
    Atomics.store(control, 0, 1);
    Atomics.notify(control, 0);
    const main = stressSlab(slab, 3, 300_000, 4);
    const results = [...(await Promise.all(workers.map((w) => w.result))), main];

    for (const r of results) {
      expect(r.violations, `owner ${r.id} saw a block held by another owner`).toBe(0);
      expect(r.freeErrors, `owner ${r.id} got a double-free error for a block it held`).toBe(0);
    }
    expect(results.map((r) => r.pairs)).toEqual([PAIRS, PAIRS, 300_000]);
    // Every block is back, and the free list still holds each block exactly once.
    const stats = slab.stats();
    expect(stats.inUse).toBe(0);
    expect(stats.exhausted).toBe(results.reduce((n, r) => n + r.exhausted, 0));
    const all = Array.from({ length: 8 }, () => slab.alloc());
    expect(new Set(all).size).toBe(8);
    expect(all.every((o) => o >= slab.dataOffset)).toBe(true);
    expect(slab.alloc()).toBe(SharedSlab.EXHAUSTED);
    // The stamps were all released.
    for (const o of all) expect(Atomics.load(slab.int32, slab.word(o, 0))).toBe(0);
  });
});
