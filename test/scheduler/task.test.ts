import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, TaskAbortedError, ZokioError, isTask, type Task } from '../../src/index.js';
import { taskQueueSlots } from '../../src/scheduler/task.js';
import { deferred, flush, untilAborted } from '../helpers.js';

const rt = Runtime.builder().build();
afterEach(() => expect(rt.metrics().tasks.alive).toBe(0));

describe('Task states', () => {
  it('goes pending → running → done', async () => {
    const gate = deferred<number>();
    const task = rt.spawn(() => gate.promise, { name: 'gated' });
    expect(isTask(task)).toBe(true);
    expect(task.name).toBe('gated');
    expect(task.state).toBe('pending');
    await flush();
    expect(task.state).toBe('running');
    gate.resolve(7);
    expect(await task).toBe(7);
    expect(task.state).toBe('done');
  });

  it('does not keep its body alive while it waits for the promise the body returned', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const gate = deferred<number>();
    const [task, ref] = ((): [Task<number>, WeakRef<object>] => {
      const big = { payload: new Array<number>(1000).fill(1) };
      const body = (): Promise<number> => {
        big.payload[0] = 2; // the body's closure holds `big`; the promise it returns does not
        return gate.promise;
      };
      return [rt.spawn(body), new WeakRef(big)];
    })();
    await flush();
    expect(task.state).toBe('running');
    await new Promise((resolve) => setImmediate(resolve)); // WeakRef targets are kept until the job ends
    gc();
    expect(ref.deref()).toBeUndefined();
    gate.resolve(7);
    expect(await task).toBe(7);
  });

  it('goes running → failed and rejects with the thrown error', async () => {
    const err = new Error('boom');
    const task = rt.spawn(async () => {
      throw err;
    });
    await expect(task).rejects.toBe(err);
    expect(task.state).toBe('failed');
  });

  it('runs synchronous bodies and synchronous throws', async () => {
    expect(await rt.spawn(() => 5)).toBe(5);
    const task = rt.spawn(() => {
      throw new RangeError('sync');
    });
    await expect(task).rejects.toThrow(RangeError);
    expect(task.state).toBe('failed');
  });

  it('a body that returns a value is done within its own turn: the task spawned next sees it done', async () => {
    const first = rt.spawn(() => 1);
    const seen = rt.spawn(() => first.state);
    expect(await seen).toBe('done');
    expect(await first).toBe(1);
  });

  it('settles with what a body returns through any thenable: a custom thenable, a Promise subclass, a rejecting thenable', async () => {
    const later = <T>(value: T): PromiseLike<T> => ({ then: (ok) => Promise.resolve(ok?.(value)) as never });
    class Sub<T> extends Promise<T> {}
    const thenable = rt.spawn(() => later(3));
    const sub = rt.spawn(() => new Sub<number>((resolve) => setImmediate(resolve, 4)));
    const err = new Error('from a thenable');
    const failing = rt.spawn((): PromiseLike<never> => ({ then: (_ok, fail) => Promise.resolve(fail?.(err)) as never }));
    expect(await thenable).toBe(3);
    expect(await sub).toBe(4);
    await expect(failing).rejects.toBe(err);
    expect([thenable.state, sub.state, failing.state]).toEqual(['done', 'done', 'failed']);
  });

  it('starts the tasks of one batch in spawn order, each in its own spawner\'s AsyncLocalStorage context', async () => {
    const { AsyncLocalStorage } = await import('node:async_hooks');
    const store = new AsyncLocalStorage<string>();
    const seen: string[] = [];
    const tasks: Task<void>[] = [];
    for (let i = 0; i < 6; i++) {
      const spawnHere = (): void => void tasks.push(rt.spawn(() => void seen.push(`${i}:${store.getStore() ?? '-'}`)));
      if (i % 3 === 0) spawnHere();
      else store.run(`ctx${i}`, spawnHere);
    }
    await Promise.all(tasks);
    expect(seen).toEqual(['0:-', '1:ctx1', '2:ctx2', '3:-', '4:ctx4', '5:ctx5']);
  });

  it('tasks that spawn the next one as they start, in two overlapping chains, run in order and keep the start queue small', async () => {
    const order: string[] = [];
    const chain = (name: string, left: number): Task<void> =>
      rt.spawn(() => {
        order.push(`${name}${left}`);
        if (left > 0) void chain(name, left - 1);
      });
    chain('a', 20_000);
    chain('b', 20_000);
    while (rt.metrics().tasks.alive > 0) await flush();
    expect(order.slice(0, 6)).toEqual(['a20000', 'b20000', 'a19999', 'b19999', 'a19998', 'b19998']);
    expect(order).toHaveLength(40_002);
    // The queues never held more than two tasks: each keeps its initial 64 slots.
    expect(taskQueueSlots()).toBeLessThanOrEqual(3 * 64);
  });

  it('does not start a body before the spawner yields', async () => {
    let started = false;
    const task = rt.spawn(() => {
      started = true;
    });
    expect(started).toBe(false);
    await task;
    expect(started).toBe(true);
  });

  it('aborting a pending task means it never runs', async () => {
    let ran = false;
    const task = rt.spawn(() => {
      ran = true;
    });
    task.abort('not needed');
    expect(task.state).toBe('aborted');
    const err = await task.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskAbortedError);
    expect((err as TaskAbortedError).code).toBe('ZOKIO_ERR_TASK_ABORTED');
    expect((err as Error).cause).toBe('not needed');
    await flush();
    expect(ran).toBe(false);
  });

  it('aborting a running task aborts its signal with the reason', async () => {
    let seen: unknown;
    const task = rt.spawn(async (cx) => {
      try {
        await untilAborted(cx.signal);
      } catch (reason) {
        seen = reason;
        throw reason;
      }
    });
    await flush();
    expect(task.state).toBe('running');
    task.abort('stop');
    expect(task.state).toBe('aborted');
    await expect(task).rejects.toBeInstanceOf(TaskAbortedError);
    expect(seen).toBe('stop');
  });

  it('an aborted task that ignores its signal still rejects as aborted', async () => {
    const gate = deferred<string>();
    const task = rt.spawn(() => gate.promise);
    await flush();
    task.abort();
    gate.resolve('late result');
    await expect(task).rejects.toBeInstanceOf(TaskAbortedError);
  });

  it('abort after completion changes nothing', async () => {
    const task = rt.spawn(async () => 1);
    await task;
    task.abort();
    expect(task.state).toBe('done');
    expect(await task).toBe(1);
  });

  it('the spawn signal aborts the task, before or after start', async () => {
    const early = new AbortController();
    early.abort('early');
    const a = rt.spawn(async () => 1, { signal: early.signal });
    expect(a.state).toBe('aborted');
    await expect(a).rejects.toBeInstanceOf(TaskAbortedError);

    const late = new AbortController();
    const b = rt.spawn(async (cx) => untilAborted(cx.signal), { signal: late.signal });
    await flush();
    late.abort('late');
    await expect(b).rejects.toMatchObject({ code: 'ZOKIO_ERR_TASK_ABORTED', cause: 'late' });
  });

  it('unobserved failures do not become unhandled rejections', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    rt.spawn(async () => {
      throw new Error('nobody listens');
    });
    const pending = rt.spawn(() => new Promise(() => {}));
    await flush();
    pending.abort();
    await flush();
    await flush();
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
  });

  it('counts tasks in metrics', async () => {
    const before = rt.metrics().tasks;
    const tasks: Task<number>[] = [];
    for (let i = 0; i < 100; i++) tasks.push(rt.spawn(async () => i));
    expect(rt.metrics().tasks.queued).toBeGreaterThanOrEqual(100);
    const failing = rt.spawn(async () => {
      throw new ZokioError('ZOKIO_ERR_TIMEOUT', 'x');
    });
    await Promise.all(tasks);
    await failing.catch(() => undefined);
    const after = rt.metrics().tasks;
    expect(after.spawned - before.spawned).toBe(101);
    expect(after.done - before.done).toBe(100);
    expect(after.failed - before.failed).toBe(1);
  });
});
