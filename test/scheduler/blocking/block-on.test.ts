import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  NestedRuntimeError,
  NotImplementedError,
  TaskNotFoundError,
  TimeoutError,
  WorkerCrashedError,
  ZokioError,
  createRuntime,
} from '../../../src/index.js';
import { tasks } from '../../fixtures/blocking-tasks.js';

import { blocking, gate, open, runtime, track } from './helpers.js';

describe('blockOn outside the runtime', () => {
  it('returns the value of a sync and of an async task', () => {
    const rt = runtime();
    expect(rt.blockOn(tasks.add, 2, 3)).toBe(5);
    expect(rt.blockOn(tasks.double, 21)).toBe(42);
  });

  it('runs the task on a blocking worker thread', () => {
    const rt = runtime();
    expect(rt.blockOn(tasks.where)).toEqual({ mainThread: false, kind: 'blocking' });
  });

  it('is typed from the task reference, with and without options', () => {
    const rt = runtime();
    expectTypeOf(rt.blockOn(tasks.add, 1, 2)).toEqualTypeOf<number>();
    expectTypeOf(rt.blockOn({ timeoutMs: 1000 }, tasks.double, 1)).toEqualTypeOf<number>();
    // @ts-expect-error wrong argument type
    expect(() => rt.blockOn(tasks.add, 'x', 2)).not.toThrow(NestedRuntimeError);
    const current = track(createRuntime({}));
    // @ts-expect-error a current-thread runtime has no blockOn in its type
    expectTypeOf(current.blockOn).toBeUnknown();
  });

  it('rethrows task errors with their code', () => {
    const rt = runtime();
    let caught: unknown;
    try {
      rt.blockOn(tasks.failWithCode, 'E_CUSTOM');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(Error);
    expect(caught).toMatchObject({ code: 'E_CUSTOM', message: 'failed with E_CUSTOM' });

    expect(() => rt.blockOn(tasks.failWithZokioError)).toThrow(TimeoutError);
    expect(() => rt.blockOn(tasks.failWithZokioError)).toThrow('inner deadline passed');
  });

  it('throws TaskNotFoundError naming the module and the task', () => {
    const rt = runtime();
    const missingTask = { module: tasks.add.module, name: 'noSuchTask' };
    expect(() => rt.blockOn(missingTask)).toThrow(TaskNotFoundError);
    expect(() => rt.blockOn(missingTask)).toThrow(/'noSuchTask'.*blocking-tasks\.ts/);
    const missingModule = { module: new URL('../../fixtures/no-such-module.ts', import.meta.url).href, name: 'x' };
    expect(() => rt.blockOn(missingModule)).toThrow(TaskNotFoundError);
    expect(() => rt.blockOn(missingModule)).toThrow(/no-such-module\.ts.*'x'/);
  });

  it('throws TimeoutError with { timeoutMs } while the task runs, and the pool keeps working', () => {
    const rt = runtime(1);
    const g = gate();
    expect(rt.blockOn(tasks.add, 0, 0)).toBe(0); // the thread is up
    // Whether the task had started when the time ran out is up to the scheduler; either way
    // the call ends with TimeoutError instead of waiting for a task that never returns.
    expect(() => rt.blockOn({ timeoutMs: 20 }, tasks.waitFor, g)).toThrow(TimeoutError);
    expect(blocking(rt)).toMatchObject({ timedOut: 1 });
    open(g);
    // The only thread finishes the abandoned task first, then runs this one.
    expect(rt.blockOn(tasks.add, 1, 1)).toBe(2);
  });

  it('drops a queued task that timed out before it started', () => {
    const rt = runtime(1);
    const g = gate();
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const held = rt.spawnBlocking(tasks.waitFor, g);
    let caught: unknown;
    try {
      rt.blockOn({ timeoutMs: 10 }, tasks.count, counter);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TimeoutError);
    expect((caught as Error).message).toMatch(/had not started and will not run/);
    open(g, 7);
    expect(rt.blockOn(tasks.count, counter)).toBe(1); // the timed-out call never ran
    return expect(held).resolves.toBe(7);
  });

  it('waits for a busy thread instead of deadlocking when every blocking thread is taken', async () => {
    const rt = runtime(1);
    const never = gate();
    const first = rt.spawnBlocking(tasks.stall, never, 30);
    expect(blocking(rt).busy).toBe(1);
    // Queued behind `stall` on the only thread; no event-loop turn is needed to get there.
    expect(rt.blockOn(tasks.add, 20, 22)).toBe(42);
    await expect(first).resolves.toBe('stalled');
  });

  it('rejects a bad timeoutMs', () => {
    const rt = runtime();
    expect(() => rt.blockOn({ timeoutMs: -1 }, tasks.add, 1, 1)).toThrow(expect.objectContaining({ code: 'ZOKIO_ERR_INVALID_ARGUMENT' }));
  });

  it('throws WorkerCrashedError when the thread dies under it, and replaces the thread', () => {
    const rt = runtime(1);
    expect(() => rt.blockOn(tasks.exitThread)).toThrow(WorkerCrashedError);
    expect(rt.blockOn(tasks.add, 1, 2)).toBe(3);
  });
});

describe('blockOn inside the runtime', () => {
  function expectNested(fn: () => unknown): void {
    let caught: unknown;
    try {
      fn();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(NestedRuntimeError);
    expect(caught).toBeInstanceOf(ZokioError);
    expect((caught as NestedRuntimeError).code).toBe('ZOKIO_ERR_NESTED_RUNTIME');
    expect((caught as Error).message).toContain('await rt.spawnBlocking(tasks.add, ...)');
  }

  it('throws NestedRuntimeError inside rt.run, without starting a thread', async () => {
    const rt = runtime();
    await rt.run(() => {
      expectNested(() => rt.blockOn(tasks.add, 1, 2));
      expectNested(() => rt.blockOn({ timeoutMs: 10 }, tasks.add, 1, 2));
    });
    expect(rt.metrics().blocking).toBeUndefined();
  });

  it('throws NestedRuntimeError inside a spawned task, also after an await', async () => {
    const rt = runtime();
    await rt.spawn(async () => {
      expectNested(() => rt.blockOn(tasks.add, 1, 2));
      await new Promise((resolve) => setImmediate(resolve));
      expectNested(() => rt.blockOn(tasks.add, 1, 2));
    });
    await rt.scope(async (scope) => {
      expectNested(() => rt.blockOn(tasks.add, 1, 2));
      void scope;
    });
  });

  it('throws NestedRuntimeError inside a blocking task (a Zokio worker thread)', async () => {
    const rt = runtime();
    const err = await rt.spawnBlocking(tasks.nestedBlockOn).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NestedRuntimeError);
    expect((err as Error).message).toMatch(/inside a blocking task.*await rt\.spawnBlocking\(tasks\.add, \.\.\.\)/);
  });

  it('throws NestedRuntimeError inside a worker task of the stealing pool', async (ctx) => {
    const rt = runtime();
    const err = await rt.exec(tasks.nestedBlockOn).catch((e: unknown) => e);
    if (err instanceof NotImplementedError) ctx.skip(); // the work-stealing pool has not landed yet
    expect(err).toBeInstanceOf(NestedRuntimeError);
    expect((err as Error).message).toMatch(/inside a worker task/);
  });
});
