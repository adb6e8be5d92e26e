/**
 * Real threads: 2 workers and the main thread share one SharedChannel of jobs, one of
 * results and a SharedSemaphore(2). Checks: every job handled exactly once (checksums),
 * never more than 2 holders of the semaphore at once, all permits back at the end.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SharedChannel, SharedSemaphore } from '../../../src/sync/index.js';

const fixture = fileURLToPath(new URL('../../fixtures/sync-shared-worker.mjs', import.meta.url));
const N = 3000;

function startWorker(workerData: unknown): { worker: Worker; done: Promise<{ handled: number }> } {
  const worker = new Worker(fixture, { workerData });
  const done = new Promise<{ handled: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited with ${code} before reporting`)));
  });
  return { worker, done };
}

describe('SharedChannel + SharedSemaphore across threads', () => {
  it('delivers every job exactly once with checksums and never exceeds the permits', async () => {
    const jobs = new SharedChannel<number>({ capacityBytes: 256 }); // small: forces waits for room
    const results = new SharedChannel<{ by: number; n: number; sq: number }>({ capacityBytes: 512 });
    const sem = new SharedSemaphore(2);
    const inside = new SharedArrayBuffer(8);
    const workers = [0, 1].map((id) => startWorker({ entry: './sync-shared-worker.ts', id, jobs, results, sem, inside: inside }));

    const producer = (async () => {
      for (let n = 1; n <= N; n++) await jobs.send(n);
      jobs.close();
    })();

    // The main thread also takes jobs while it collects results.
    let mainHandled = 0;
    const mainConsumer = (async () => {
      for await (const n of jobs) {
        const permit = await sem.acquire();
        const counters = new Int32Array(inside);
        const now = Atomics.add(counters, 0, 1) + 1;
        if (now > Atomics.load(counters, 1)) Atomics.store(counters, 1, Math.max(now, Atomics.load(counters, 1)));
        Atomics.sub(counters, 0, 1);
        permit.release();
        await results.send({ by: 2, n, sq: n * n });
        mainHandled++;
      }
    })();

    const seen = new Uint8Array(N + 1);
    let sum = 0;
    let sumSq = 0;
    const byThread = [0, 0, 0];
    for (let i = 0; i < N; i++) {
      const r = await results.recv();
      expect(r.sq).toBe(r.n * r.n);
      seen[r.n]!++;
      sum += r.n;
      sumSq += r.sq;
      byThread[r.by]!++;
    }
    await producer;
    await mainConsumer;
    const reports = await Promise.all(workers.map((w) => w.done));
    await Promise.all(workers.map((w) => w.worker.terminate()));

    expect(sum).toBe((N * (N + 1)) / 2);
    expect(sumSq).toBe((N * (N + 1) * (2 * N + 1)) / 6);
    expect(seen.subarray(1).every((count) => count === 1)).toBe(true);
    expect(reports[0]!.handled + reports[1]!.handled + mainHandled).toBe(N);
    expect(byThread).toEqual([reports[0]!.handled, reports[1]!.handled, mainHandled]);
    expect(Atomics.load(new Int32Array(inside), 1)).toBeLessThanOrEqual(2);
    expect(sem.available).toBe(2);
    expect(results.tryRecv()).toEqual({ ok: false, reason: 'empty' });
  });
});
