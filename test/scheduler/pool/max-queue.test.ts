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

describe('maxQueue, transfers and aborts under random interleavings (property)', () => {
  it('every call settles exactly once, runs at most once, and the pool never holds more than maxQueue beyond one per worker', async () => {
    const fc = await import('fast-check');
    await using rt = Runtime.builder().workers(2).maxQueue(3).build();
    type Call = { kind: 'exec' | 'transfer' | 'reject'; abortAfter: number | undefined };
    const callArb = fc.record({
      kind: fc.constantFrom<Call['kind']>('exec', 'transfer', 'reject'),
      abortAfter: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(callArb, { minLength: 1, maxLength: 24 }), async (calls) => {
        const runs = new Int32Array(new SharedArrayBuffer(4 * calls.length));
        let maxPending = 0;
        const settled = new Array<number>(calls.length).fill(0);
        const resolved = new Array<boolean>(calls.length).fill(false);
        const all = calls.map((call, i) => {
          const controller = new AbortController();
          const options = { signal: controller.signal, onFull: call.kind === 'reject' ? ('reject' as const) : ('wait' as const) };
          const buffer = new ArrayBuffer(8);
          const p =
            call.kind === 'transfer'
              ? rt.exec({ ...options, transfer: [buffer] }, parity.countRunWith, runs, i, buffer)
              : rt.exec(options, parity.countRun, runs, i);
          if (call.abortAfter !== undefined) setTimeout(() => controller.abort(new Error('abort')), call.abortAfter);
          maxPending = Math.max(maxPending, pending(rt));
          return p.then(
            () => {
              settled[i]!++;
              resolved[i] = true;
            },
            () => settled[i]!++,
          );
        });
        await Promise.all(all);
        expect(settled).toEqual(new Array(calls.length).fill(1));
        await until(() => pending(rt) === 0);
        for (let i = 0; i < calls.length; i++) {
          // resolved: ran exactly once; rejected (full, aborted): at most once (an abort may come after the start)
          if (resolved[i]) expect(Atomics.load(runs, i)).toBe(1);
          else expect(Atomics.load(runs, i)).toBeLessThanOrEqual(1);
        }
        expect(maxPending).toBeLessThanOrEqual(3 + 2);
      }),
      { numRuns: 15 },
    );
  });
});
