import { describe, expect, it } from 'vitest';
import { Runtime, TaskAbortedError } from '../../../src/index.js';
import { until } from '../../helpers.js';
import { parity } from '../../fixtures/pool-parity-tasks.js';

describe('forced abort', () => {
  it('terminates the worker of a task that ignores its signal, rejects at once, replaces the worker, runs the others on it again exactly once', async () => {
    await using rt = Runtime.builder().workers(1).build();
    const view = new Int32Array(new SharedArrayBuffer(16)); // 0: stubborn started, 1: stubborn gate, 2: runs of the other task, 3: its gate
    // Another task in flight on the same (only) worker: async, parked on its gate.
    const other = rt.exec(parity.countThenWait, view, 2, 3);
    await until(() => Atomics.load(view, 2) === 1);
    // And one with scalar arguments only (kept as a copy of the record's words): started
    // before the stubborn task (one worker, FIFO), its timer cannot fire while that spins.
    const scalars = rt.exec(parity.addLater, 2.5, -1, 50);
    const controller = new AbortController();
    const reason = new Error('enough');
    const stubborn = rt.exec({ signal: controller.signal, force: true }, parity.ignoreSignal, view).catch((e: unknown) => e);
    await until(() => Atomics.load(view, 0) === 1);
    controller.abort(reason);
    const err = (await stubborn) as Error;
    expect(err).toBeInstanceOf(TaskAbortedError);
    expect(err.cause).toBe(reason);
    // The replacement runs the other task again: its second run.
    await until(() => Atomics.load(view, 2) === 2);
    Atomics.store(view, 3, 1);
    expect(await other).toBe(2);
    expect(await scalars).toBe(1.5); // ran again with the same arguments
    expect(Atomics.load(view, 2)).toBe(2); // exactly once more
    const m = rt.metrics().pool as { restarts: number; pending: number; workers: Array<{ alive: boolean }> };
    expect(m.restarts).toBe(1);
    expect(m.pending).toBe(0);
    expect(await rt.exec(parity.sum, new Uint8Array(3))).toBe(3000); // the pool works on
    expect(m.workers[0]!.alive).toBe(true);
  });

  it('is the builder default with .forceAbort(true); without force the task keeps running', async () => {
    await using rt = Runtime.builder().workers(1).forceAbort(true).build();
    const view = new Int32Array(new SharedArrayBuffer(16));
    const controller = new AbortController();
    const p = rt.exec({ signal: controller.signal }, parity.ignoreSignal, view).catch((e: unknown) => e);
    await until(() => Atomics.load(view, 0) === 1);
    controller.abort('stop');
    const err = (await p) as Error;
    expect(err).toBeInstanceOf(TaskAbortedError);
    expect(err.cause).toBe('stop');

    const gentle = new AbortController();
    const view2 = new Int32Array(new SharedArrayBuffer(16));
    const q = rt.exec({ signal: gentle.signal, force: false }, parity.ignoreSignal, view2);
    await until(() => Atomics.load(view2, 0) === 1);
    gentle.abort('stop');
    Atomics.store(view2, 1, 1); // lets it finish: not forced, so it returns its value
    expect(await q).toBe(1);
    expect((rt.metrics().pool as { restarts: number }).restarts).toBe(1);
  });
});
