import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime, TaskAbortedError, TaskArgumentError, type TaskRef } from '../../../src/index.js';
import { until } from '../../helpers.js';
import { parity } from '../../fixtures/pool-parity-tasks.js';

const rt = Runtime.builder().workers(2).build();

beforeAll(async () => {
  expect(await rt.exec(parity.sum, new Uint8Array(1))).toBe(1000);
});
afterAll(async () => {
  await rt.shutdown();
});

function poolMetrics(): { payloadFallbacks: number; pending: number } {
  return rt.metrics().pool as { payloadFallbacks: number; pending: number };
}

describe('large payloads under the default memory strategy', () => {
  it('runs 64 concurrent execs with a 1 MiB argument each: all succeed', async () => {
    const arg = new Uint8Array(1 << 20).fill(7);
    const results = await Promise.all(Array.from({ length: 64 }, () => rt.exec(parity.sum, arg)));
    const expected = (1 << 20) * 1000 + (256 * 7) % 1_000_003;
    expect(results).toEqual(new Array(64).fill(expected));
    expect(arg[0]).toBe(7); // copied, not moved: the caller's buffer is intact
    expect(poolMetrics().pending).toBe(0);
  });

  it('runs 64 concurrent execs with 1 MiB serialized payloads each: the arena overflows into buffers of their own, counted', async () => {
    const before = poolMetrics().payloadFallbacks;
    const arg = { text: 'x'.repeat((1 << 20) - 64) };
    const results = await Promise.all(Array.from({ length: 64 }, () => rt.exec(parity.keys, arg)));
    expect(results).toEqual(new Array(64).fill(['text']));
    expect(poolMetrics().payloadFallbacks).toBeGreaterThan(before);
    expect(poolMetrics().pending).toBe(0);
  });

  it('carries a 40 MiB argument and a 40 MiB result', async () => {
    const big = new Uint8Array(40 << 20).fill(3);
    expect(await rt.exec(parity.sum, big)).toBe((40 << 20) * 1000 + ((40 << 20) / 4096) * 3 % 1_000_003);
    const out = await rt.exec(parity.make, 40 << 20, 9);
    expect(out.length).toBe(40 << 20);
    expect(out[0]).toBe(9);
    expect(out[(40 << 20) - 1]).toBe(9);
  });
});

describe('errors keep their identity', () => {
  it('keeps built-in classes', async () => {
    const err = await rt.exec(parity.throwType, 'bad').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toBe('bad');
    expect((err as Error).name).toBe('TypeError');
  });

  it('keeps cause recursively and own enumerable cloneable properties', async () => {
    const err = (await rt.exec(parity.throwWithCause).catch((e: unknown) => e)) as Error & { status: number; details: unknown; fn?: unknown };
    expect(err.message).toBe('top');
    expect(err.status).toBe(503);
    expect(err.details).toEqual({ retry: true, ids: [1, 2] });
    expect('fn' in err).toBe(false);
    const mid = err.cause as Error;
    expect(mid).toBeInstanceOf(Error);
    expect(mid.message).toBe('middle');
    const root = mid.cause as Error;
    expect(root).toBeInstanceOf(RangeError);
    expect(root.message).toBe('root cause');
  });

  it('keeps a custom class name, on its nearest built-in class', async () => {
    const err = (await rt.exec(parity.throwCustom).catch((e: unknown) => e)) as Error & { status: number };
    expect(err.name).toBe('HttpError');
    expect(err).toBeInstanceOf(TypeError);
    expect(err.status).toBe(404);
  });
});

describe('abort of a running task', () => {
  it('rejects with TaskAbortedError whose cause is the caller reason', async () => {
    const controller = new AbortController();
    const reason = new Error('user pressed cancel');
    const started = new Int32Array(new SharedArrayBuffer(4));
    const p = rt.exec({ signal: controller.signal }, parity.spinThenThrow, started).catch((e: unknown) => e);
    // running (not queued): the task is on a worker before the abort
    await until(() => Atomics.load(started, 0) === 1);
    controller.abort(reason);
    const err = (await p) as Error;
    expect(err).toBeInstanceOf(TaskAbortedError);
    expect(err.cause).toBe(reason);
  });
});

describe('class instances with methods', () => {
  it('are rejected with TaskArgumentError naming the argument', async () => {
    class Point {
      constructor(readonly x: number) {}
      norm(): number {
        return Math.abs(this.x);
      }
    }
    const untyped = rt.exec.bind(rt) as unknown as (ref: TaskRef, ...args: unknown[]) => Promise<unknown>;
    const err = await untyped(parity.keys as TaskRef, new Point(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskArgumentError);
    expect((err as Error).message).toMatch(/argument 1 of task 'keys'.*Point/);
    const nested = await untyped(parity.keys as TaskRef, { list: [1, { p: new Point(2) }] }).catch((e: unknown) => e);
    expect(nested).toBeInstanceOf(TaskArgumentError);
    // plain data and data-only class instances still go
    class Data {
      constructor(readonly a: number) {}
    }
    expect(await untyped(parity.keys as TaskRef, new Data(1))).toEqual(['a']);
    expect(await untyped(parity.keys as TaskRef, { a: new Date(0), m: new Map() })).toEqual(['a', 'm']);
  });
});

