/**
 * waitWord keeps its thread's event loop open while an async wait is pending, and lets go
 * when the wait ends, resolved or aborted.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { waitWord } from '../../../src/sync/shared/atomics-wait.js';
import { pendingWaits } from '../../../src/scheduler/wait-async.js';
import { SharedChannel } from '../../../src/sync/index.js';

const fixture = fileURLToPath(new URL('../../fixtures/sync-shared-worker.mjs', import.meta.url));

describe('waitWord', () => {
  it('counts a pending wait until a notify or an abort ends it, once each', async () => {
    const word = new Int32Array(new SharedArrayBuffer(8));
    expect(pendingWaits()).toBe(0);
    const woken = waitWord(word, 0, 0, undefined)!;
    const controller = new AbortController();
    const aborted = waitWord(word, 1, 0, controller.signal)!;
    expect(pendingWaits()).toBe(2);
    controller.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    expect(pendingWaits()).toBe(1);
    Atomics.store(word, 0, 1);
    Atomics.notify(word, 0);
    await woken;
    expect(pendingWaits()).toBe(0);
    // The aborted wait's own promise settles on a later notify; it must not count down again.
    Atomics.store(word, 1, 1);
    Atomics.notify(word, 1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(pendingWaits()).toBe(0);
    expect(waitWord(word, 0, 0, undefined)).toBeUndefined(); // word changed already: no wait
    expect(pendingWaits()).toBe(0);
  });

  it('a worker whose only pending work is a shared-channel receive stays alive until it gets data', async () => {
    const numbers = new SharedChannel<number>({ capacityBytes: 256 });
    const worker = new Worker(fixture, { workerData: { entry: './sync-shared-idle-consumer.ts', numbers } });
    const ready = new Promise<void>((resolve) => worker.once('message', () => resolve()));
    const outcome = new Promise<unknown>((resolve) => {
      worker.on('message', (m) => m !== 'ready' && resolve({ sum: m }));
      worker.once('error', (err) => resolve({ err }));
      worker.once('exit', (code) => resolve({ exit: code }));
    });
    await ready;
    // Let the worker park on the empty channel (the result does not depend on how long;
    // with a wait that does not hold the loop open, the worker exits with code 13).
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const n of [1, 2, 3]) await numbers.send(n);
    numbers.close();
    expect(await outcome).toEqual({ sum: 6 });
    await worker.terminate();
  });
});
