import { BroadcastChannel } from 'node:worker_threads';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  NotImplementedError,
  RuntimeClosedError,
  TaskArgumentError,
  TaskNotFoundError,
  WorkerCrashedError,
} from '../../../src/index.js';
import { tasks } from '../../fixtures/blocking-tasks.js';

import { blocking, gate, open, runtime } from './helpers.js';

describe('spawnBlocking', () => {
  it('runs sync and async tasks on a blocking thread, typed from the reference', async () => {
    const rt = runtime();
    const sum = rt.spawnBlocking(tasks.add, 2, 3);
    expectTypeOf(sum).toEqualTypeOf<Promise<number>>();
    expect(await sum).toBe(5);
    expect(await rt.spawnBlocking(tasks.double, 4)).toBe(8);
    expect(await rt.spawnBlocking(tasks.where)).toEqual({ mainThread: false, kind: 'blocking' });
  });

  it('uses at most blockingThreads threads, started lazily, and queues the rest in order', async () => {
    const rt = runtime(2);
    expect(rt.metrics().blocking).toBeUndefined();
    const gates = [gate(), gate(), gate(), gate()];
    const results = gates.map((g) => rt.spawnBlocking(tasks.waitFor, g));
    expect(blocking(rt)).toMatchObject({ threads: 2, maxThreads: 2, busy: 2, queued: 2, completed: 0 });
    gates.forEach((g, i) => open(g, i));
    expect(await Promise.all(results)).toEqual([0, 1, 2, 3]);
    expect(blocking(rt)).toMatchObject({ threads: 2, busy: 0, queued: 0, completed: 4, failed: 0 });
  });

  it('a signal removes a queued call, which never runs, and drops the result of a started one', async () => {
    const rt = runtime(1);
    const busy = gate();
    const controller = new AbortController();
    const running = rt.spawnBlocking({ signal: controller.signal }, tasks.waitFor, busy);
    expectTypeOf(running).toEqualTypeOf<Promise<number>>();
    const marker = gate();
    const queued = rt.spawnBlocking({ signal: controller.signal }, tasks.waitFor, marker);
    const after = rt.spawnBlocking(tasks.add, 2, 2);
    expect(blocking(rt)).toMatchObject({ busy: 1, queued: 2 });
    controller.abort(new Error('not needed'));
    await expect(running).rejects.toThrow('not needed');
    await expect(queued).rejects.toThrow('not needed');
    expect(blocking(rt)).toMatchObject({ busy: 1, queued: 1 });
    // The started call runs to its end on its thread; then the queue moves on without the removed one.
    open(busy, 7);
    expect(await after).toBe(4);
    expect(blocking(rt)).toMatchObject({ busy: 0, queued: 0, completed: 2, failed: 0 });
    expect(Atomics.load(marker, 0)).toBe(0);
    // An aborted signal refuses the call before it is queued.
    await expect(rt.spawnBlocking({ signal: controller.signal }, tasks.add, 1, 1)).rejects.toThrow('not needed');
    expect(blocking(rt)).toMatchObject({ queued: 0, completed: 2 });
  });

  it("the running task's abort rejects its spawnBlocking call and removes it from the queue", async () => {
    const rt = runtime(1);
    const busy = gate();
    const held = rt.spawnBlocking(tasks.waitFor, busy);
    const task = rt.spawn(() => rt.spawnBlocking(tasks.add, 1, 2));
    await new Promise((r) => setImmediate(r));
    expect(blocking(rt)).toMatchObject({ queued: 1 });
    task.abort(new Error('caller gone'));
    await expect(task).rejects.toThrow('caller gone');
    expect(blocking(rt)).toMatchObject({ queued: 0 });
    open(busy, 1);
    expect(await held).toBe(1);
    expect(blocking(rt)).toMatchObject({ completed: 1 });
  });

  it('refuses options that are not an object, with a TypeError', async () => {
    const rt = runtime(1);
    await expect((rt.spawnBlocking as (...a: unknown[]) => Promise<unknown>)(42, tasks.add, 1, 1)).rejects.toThrow(TypeError);
    await expect((rt.spawnBlocking as (...a: unknown[]) => Promise<unknown>)({}, 'add', 1, 1)).rejects.toThrow(/expected \(ref, \.\.\.args\) or \(options, ref, \.\.\.args\)/);
  });

  it('rejects with the task error, its code kept', async () => {
    const rt = runtime();
    await expect(rt.spawnBlocking(tasks.failWithCode, 'E_DISK')).rejects.toMatchObject({ code: 'E_DISK', message: 'failed with E_DISK' });
    expect(blocking(rt)).toMatchObject({ completed: 1, failed: 1 });
  });

  it('rejects with TaskNotFoundError naming module and task', async () => {
    const rt = runtime();
    const err = await rt.spawnBlocking({ module: tasks.add.module, name: 'missing' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskNotFoundError);
    expect((err as Error).message).toMatch(/'missing'.*blocking-tasks\.ts/);
  });

  it('rejects with TaskArgumentError for arguments that cannot be cloned', async () => {
    const rt = runtime();
    const bad = [() => 1] as unknown as [number, number];
    await expect(rt.spawnBlocking(tasks.add, ...bad)).rejects.toBeInstanceOf(TaskArgumentError);
  });

  it('rejects with WorkerCrashedError when the thread exits, then keeps serving', async () => {
    const rt = runtime(1);
    await expect(rt.spawnBlocking(tasks.exitThread)).rejects.toBeInstanceOf(WorkerCrashedError);
    expect(await rt.spawnBlocking(tasks.add, 1, 1)).toBe(2);
  });

  it('rejects queued and running calls with RuntimeClosedError at shutdown', async () => {
    const rt = runtime(1);
    const running = rt.spawnBlocking(tasks.waitFor, gate()).catch((e: unknown) => e);
    const queued = rt.spawnBlocking(tasks.add, 1, 1).catch((e: unknown) => e);
    await rt.shutdown();
    expect(await running).toBeInstanceOf(RuntimeClosedError);
    expect(await queued).toBeInstanceOf(RuntimeClosedError);
    expect(((await running) as Error).message).toMatch(/while the blocking task ran/);
    await expect(rt.spawnBlocking(tasks.add, 1, 1)).rejects.toBeInstanceOf(RuntimeClosedError);
  });

  it('runs while every stealing worker is busy', async (ctx) => {
    const rt = runtime(1);
    const name = `zokio-test-hold-${process.pid}-${Date.now()}`;
    const started = new BroadcastChannel(`${name}:started`);
    let running = 0;
    const bothRunning = new Promise<void>((resolve) => {
      started.onmessage = () => {
        if (++running === 2) resolve();
      };
    });
    // Both stealing workers hold their thread until the release below. Were spawnBlocking
    // to run on a stealing worker, it could not start, and this test would hang.
    const held = [rt.exec(tasks.holdUntilBroadcast, name), rt.exec(tasks.holdUntilBroadcast, name)].map((p) => p.catch((e: unknown) => e));
    const first = await Promise.race([held[0], bothRunning.then(() => 'running')]);
    started.close();
    if (first instanceof NotImplementedError) ctx.skip(); // the work-stealing pool has not landed yet
    expect(first).toBe('running');
    expect(await rt.spawnBlocking(tasks.where)).toEqual({ mainThread: false, kind: 'blocking' });
    expect(rt.blockOn(tasks.add, 1, 2)).toBe(3);
    const release = new BroadcastChannel(`${name}:release`);
    release.postMessage('released');
    expect(await Promise.all(held)).toEqual(['released', 'released']);
    release.close();
  });
});
