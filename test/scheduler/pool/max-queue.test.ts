import { describe, expect, it } from 'vitest';
import { QueueFullError, Runtime, RuntimeClosedError } from '../../../src/index.js';
import { until } from '../../helpers.js';
import { parity } from '../../fixtures/pool-parity-tasks.js';

function pending(rt: { metrics(): unknown }): number {
  return ((rt.metrics() as { pool: { pending: number } }).pool).pending;
}

describe('maxQueue', () => {
  it('past the limit exec waits for room by default, and every call runs exactly once', async () => {
    await using rt = Runtime.builder().workers(1).maxQueue(2).build();
    const view = new Int32Array(new SharedArrayBuffer(8)); // 0: starts, 1: gate
    const calls = Array.from({ length: 8 }, () => rt.exec(parity.block, view, 1));
    await until(() => Atomics.load(view, 0) === 1);
    expect(pending(rt)).toBe(3); // one running + maxQueue queued; the other 5 wait outside
    Atomics.store(view, 1, 1);
    Atomics.notify(view, 1);
    expect(await Promise.all(calls)).toEqual(new Array(8).fill(1));
    expect(Atomics.load(view, 0)).toBe(8);
  });

  it("rejects with QueueFullError with onFull 'reject' (builder default or per call); an abort while waiting rejects with the reason", async () => {
    await using rt = Runtime.builder().workers(1).maxQueue(1, { onFull: 'reject' }).build();
    const view = new Int32Array(new SharedArrayBuffer(8));
    const a = rt.exec(parity.block, view, 1);
    await until(() => Atomics.load(view, 0) === 1);
    const b = rt.exec(parity.block, view, 1);
    const full = await rt.exec(parity.block, view, 1).catch((e: unknown) => e);
    expect(full).toBeInstanceOf(QueueFullError);
    expect((full as QueueFullError).code).toBe('ZOKIO_ERR_QUEUE_FULL');
    const controller = new AbortController();
    const waiting = rt.exec({ onFull: 'wait', signal: controller.signal }, parity.block, view, 1).catch((e: unknown) => e);
    controller.abort('gave up');
    expect(await waiting).toBe('gave up');
    const waits = rt.exec({ onFull: 'wait' }, parity.block, view, 1);
    Atomics.store(view, 1, 1);
    Atomics.notify(view, 1);
    expect(await Promise.all([a, b, waits])).toEqual([1, 1, 1]);
    expect(Atomics.load(view, 0)).toBe(3); // the rejected and the aborted calls never ran
  });
});

describe('shutdown({ force: true })', () => {
  it('drops queued tasks with RuntimeClosedError and lets the running ones finish', async () => {
    const rt = Runtime.builder().workers(1).build();
    const view = new Int32Array(new SharedArrayBuffer(8));
    const running = rt.exec(parity.block, view, 1);
    await until(() => Atomics.load(view, 0) === 1);
    const queued = Array.from({ length: 5 }, () => rt.exec(parity.block, view, 1).catch((e: unknown) => e));
    const done = rt.shutdown({ force: true, timeoutMs: 30_000 });
    for (const q of await Promise.all(queued)) expect(q).toBeInstanceOf(RuntimeClosedError);
    Atomics.store(view, 1, 1);
    Atomics.notify(view, 1);
    expect(await running).toBe(1);
    await done;
    expect(Atomics.load(view, 0)).toBe(1); // none of the dropped ones started
  });
});
