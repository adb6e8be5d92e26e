import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { SharedSlab } from '../../src/memory/index.js';
import { stressSlab, type StressResult } from '../fixtures/memory-slab-stress-loop.js';

const FIXTURE = new URL('../fixtures/memory-slab-stress.mjs', import.meta.url);

interface HoardReport {
  readonly cachedHere: number;
}

function startWorker<R = StressResult>(workerData: Record<string, unknown>): { ready: Promise<void>; result: Promise<R>; exited: Promise<number> } {
  const worker = new Worker(FIXTURE, { workerData });
  let onReady!: () => void;
  let onFail!: (err: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    onFail = reject;
  });
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  const result = new Promise<R>((resolve, reject) => {
    const fail = (err: unknown): void => {
      onFail(err);
      reject(err);
    };
    worker.on('message', (msg: { ready?: boolean } & R) => {
      if (msg.ready === true) onReady();
      else resolve(msg);
    });
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`worker exited with code ${code} before reporting`)));
  });
  result.catch(() => {}); // observed through `ready` or awaited later
  // A stress worker is terminated once it has reported; a hoarding one ends by itself.
  return { ready, result: workerData.mode === 'hoard' ? result : result.finally(() => worker.terminate()), exited };
}

function start(control: Int32Array, value: number): void {
  Atomics.store(control, 0, value);
  Atomics.notify(control, 0);
}

/** Every block is back on the shared list, each once: the main thread can allocate them all, then no more. */
function expectAllBlocksFree(slab: SharedSlab): void {
  const stats = slab.stats();
  expect(stats.inUse).toBe(0);
  expect(stats.cached).toBe(0);
  const all = Array.from({ length: slab.blockCount }, () => slab.alloc());
  expect(new Set(all).size).toBe(slab.blockCount);
  expect(all.every((o) => o >= slab.dataOffset)).toBe(true);
  expect(slab.alloc()).toBe(SharedSlab.EXHAUSTED);
  // The stamps were all released.
  for (const o of all) expect(Atomics.load(slab.int32, slab.word(o, 0))).toBe(0);
  for (const o of all) slab.free(o);
  slab.flush();
}

const PAIRS = 1_000_000;
const MAIN_PAIRS = 300_000;

/**
 * Two workers (one reviving the slab itself, one opening it from its handle) and the main
 * thread each run alloc/free pairs holding up to `hold` blocks, started together; returns
 * the three reports, after the checks every such run must pass.
 */
async function stressThreeOwners(slab: SharedSlab, hold: number): Promise<StressResult[]> {
  const control = new Int32Array(new SharedArrayBuffer(4));
  const workers = [
    startWorker({ slab, open: 'revive', id: 1, pairs: PAIRS, hold, control }),
    startWorker({ slab: slab.handle, open: 'from', id: 2, pairs: PAIRS, hold, control }),
  ];
  await Promise.all(workers.map((w) => w.ready));
  start(control, 1);
  const main = stressSlab(slab, 3, MAIN_PAIRS, hold);
  const results = [...(await Promise.all(workers.map((w) => w.result))), main];
  for (const r of results) {
    expect(r.violations, `owner ${r.id} saw a block held by another owner`).toBe(0);
    expect(r.freeErrors, `owner ${r.id} got a double-free error for a block it held`).toBe(0);
  }
  expect(results.map((r) => r.pairs)).toEqual([PAIRS, PAIRS, MAIN_PAIRS]);
  expect(slab.stats().exhausted).toBe(results.reduce((n, r) => n + r.exhausted, 0));
  return results;
}

describe('SharedSlab across threads', () => {
  it('2 workers x 1,000,000 alloc/free pairs plus the main thread, shared list only: no block ever has two owners', async () => {
    // 8 blocks for 3 owners holding up to 4 each: heavy contention on the head and regular exhaustion.
    const slab = new SharedSlab({ blockSize: 16, blockCount: 8, threadCache: 0 });
    const results = await stressThreeOwners(slab, 4);
    for (const r of results) expect(r.flushed).toBe(0);
    expectAllBlocksFree(slab);
  });

  it('2 workers x 1,000,000 pairs plus the main thread through thread caches: refills and flushes cross threads, no block has two owners', async () => {
    // 40 blocks, caches of 4 (batches of 2), 3 owners holding up to 16 each: every owner's
    // cache empties and fills over and over, blocks flushed by one thread are refilled by
    // another, and at times the free blocks all sit in the other threads' caches.
    const slab = new SharedSlab({ blockSize: 16, blockCount: 40, threadCache: 4 });
    const results = await stressThreeOwners(slab, 16);
    for (const r of results) {
      expect(r.refills, `owner ${r.id} never refilled its cache`).toBeGreaterThan(100);
      expect(r.flushes, `owner ${r.id} never flushed its cache`).toBeGreaterThan(100);
      expect(r.flushed).toBeLessThanOrEqual(4);
    }
    // Each owner flushed its cache before reporting: every block is back.
    expectAllBlocksFree(slab);
  });

  it('blocks cached by a worker are out of reach until it ends by itself, then come back', async () => {
    const slab = new SharedSlab({ blockSize: 16, blockCount: 16, threadCache: 8 });
    const control = new Int32Array(new SharedArrayBuffer(4));
    const worker = startWorker<HoardReport>({ slab, open: 'revive', id: 1, pairs: 8, hold: 0, control, mode: 'hoard' });
    await worker.ready;
    start(control, 1);
    const { cachedHere } = await worker.result;
    expect(cachedHere).toBe(8);
    expect(slab.stats()).toMatchObject({ inUse: 0, free: 16, cached: 8 });
    const mine = Array.from({ length: 8 }, () => slab.alloc());
    expect(mine.every((o) => o !== SharedSlab.EXHAUSTED)).toBe(true);
    expect(slab.alloc()).toBe(SharedSlab.EXHAUSTED); // the other 8 are in the worker's cache
    start(control, 2); // the worker's script ends: its exit hook flushes
    expect(await worker.exited).toBe(0);
    expect(slab.stats()).toMatchObject({ inUse: 8, free: 8, cached: 0 });
    const theirs = Array.from({ length: 8 }, () => slab.alloc());
    expect(new Set([...mine, ...theirs]).size).toBe(16);
    expect(theirs.every((o) => o !== SharedSlab.EXHAUSTED)).toBe(true);
    for (const o of [...mine, ...theirs]) slab.free(o);
    slab.flush();
    expectAllBlocksFree(slab);
  });
});
