import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../helpers.js';
import { mainRecordsInUse } from './pool-metrics.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Runtime, TaskAbortedError, TaskArgumentError, TaskNotFoundError, WorkerCrashedError, ZokioError, type TaskRef } from '../../../src/index.js';
import { poolOf } from '../../../src/scheduler/pool/worker-pool.js';
import { tasks } from '../../fixtures/pool-tasks.js';

const rt = Runtime.builder().workers(2).build();

beforeAll(async () => {
  expect(await rt.exec(tasks.inc, 1)).toBe(2); // boots the workers once for this file
});
afterAll(async () => {
  await rt.shutdown();
});

describe('exec', () => {
  it('runs a task from a TypeScript module and returns its result', async () => {
    expect(await rt.exec(tasks.add, 2, 3)).toBe(5);
  });

  it('carries scalars inline and other values serialized, both ways', async () => {
    expect(await rt.exec(tasks.concat, 'a', { s: 'b' })).toBe('ab');
    const values = [null, true, false, 1.5, -0, 'text', 12n, [1, 2, 3], new Uint8Array([1, 2]), new Date(5), new Map([['k', 1]]), { a: 'x', n: [1] }, 'x'.repeat(50_000)];
    for (const v of values) expect(await rt.exec(tasks.echo, v)).toEqual(v);
  });

  it('shares SharedArrayBuffer-backed arguments instead of copying them', async () => {
    const view = new Int32Array(new SharedArrayBuffer(16));
    await Promise.all(Array.from({ length: 50 }, () => rt.exec(tasks.shared, view, 1)));
    expect(Atomics.load(view, 1)).toBe(50);
  });

  it('keeps an own field named __proto__ in an argument that carries shared memory', async () => {
    const arg = JSON.parse('{"__proto__":{"x":1},"n":2}') as Record<string, unknown>;
    arg.view = new Int32Array(new SharedArrayBuffer(8));
    const echo = rt.exec.bind(rt) as unknown as (ref: TaskRef, value: unknown) => Promise<Record<string, unknown>>;
    const back = await echo(tasks.echo as unknown as TaskRef, arg);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(back, '__proto__')?.value).toEqual({ x: 1 });
    expect(back.n).toBe(2);
    expect(back.view).toBeInstanceOf(Int32Array);
  });

  it('rejects a non-cloneable argument with TaskArgumentError naming its position, before queueing', async () => {
    const before = rt.metrics().pool as { workers: Array<{ executed: number }> };
    const executed = before.workers.reduce((s, w) => s + w.executed, 0);
    const ref = tasks.concat as unknown as TaskRef<unknown[], string>;
    // The compiler rejects these calls (see test/types/worker-tasks.test-d.ts); an untyped
    // JavaScript caller still gets here, and the run-time check must catch it.
    const untypedExec = rt.exec.bind(rt) as unknown as (ref: TaskRef, ...args: unknown[]) => Promise<unknown>;
    const err = await untypedExec(ref, 'a', { s: () => 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskArgumentError);
    expect((err as Error).message).toMatch(/argument 2 of task 'concat'/);
    const sym = await untypedExec(ref, Symbol('s'), 'b').catch((e: unknown) => e);
    expect((sym as Error).message).toMatch(/argument 1 of task 'concat'/);
    const after = rt.metrics().pool as { workers: Array<{ executed: number }> };
    expect(after.workers.reduce((s, w) => s + w.executed, 0)).toBe(executed);
  });

  it('keeps message, stack and code of errors thrown in a task', async () => {
    const err = (await rt.exec(tasks.fail, 'bad input', 'E_BAD').catch((e: unknown) => e)) as Error & { code: string };
    expect(err.message).toBe('bad input');
    expect(err.code).toBe('E_BAD');
    expect(err.stack).toMatch(/pool-tasks/);
    const coded = await rt.exec(tasks.failAborted).catch((e: unknown) => e);
    expect(coded).toBeInstanceOf(ZokioError);
    expect(coded).toBeInstanceOf(TaskAbortedError);
  });

  it('names module and task when a task is unknown', async () => {
    const ghost = { module: tasks.inc.module, name: 'ghost' } as TaskRef<[number], number>;
    const err = (await rt.exec(ghost, 1).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(TaskNotFoundError);
    expect(err.message).toContain("'ghost'");
    expect(err.message).toContain('pool-tasks.ts');
    const missing = { module: new URL('./no-such-module.ts', tasks.inc.module).href, name: 'x' } as TaskRef<[], number>;
    const err2 = (await rt.exec(missing).catch((e: unknown) => e)) as Error;
    expect(err2).toBeInstanceOf(TaskNotFoundError);
    expect(err2.message).toContain('no-such-module.ts');
    expect(err2.message).toContain("'x'");
  });

  it('runs async tasks and exec from inside a worker task', async () => {
    expect(await rt.exec(tasks.sleepy, 5, 7)).toBe(7);
    expect(await rt.exec(tasks.fanOut, [1, 2, 3, 4])).toBe(14);
  });

  it('a worker awaiting a nested exec that another worker runs stays alive while it parks', async () => {
    // Atomics.waitAsync does not keep a worker's event loop alive: a worker parked on it
    // with nothing else pending used to exit (code 13, an unsettled top-level await).
    const view = new Int32Array(new SharedArrayBuffer(8));
    const outer = rt.exec(tasks.awaitHeldElsewhere, view, 0, 1).catch((e: unknown) => e);
    await until(() => Atomics.load(view, 0) === 1); // the other worker runs `hold`
    // Give the awaiting worker the time to park (the result does not depend on how long).
    await new Promise((resolve) => setTimeout(resolve, 100));
    Atomics.store(view, 1, 1);
    Atomics.notify(view, 1);
    expect(await outer).toBe(1);
    expect((rt.metrics().pool as { restarts: number }).restarts).toBe(0);
  });

  it('maps over many inputs in input order with progress', async () => {
    const inputs = Array.from({ length: 10_000 }, (_, i) => i);
    const seen: number[] = [];
    const out = await rt.map(tasks.inc, inputs, { chunkSize: 1000, onProgress: (done) => seen.push(done) });
    expect(out).toEqual(inputs.map((x) => x + 1));
    expect(seen.at(-1)).toBe(10_000);
    expect(seen.length).toBe(10);
  });
});

function executed(): number {
  return (rt.metrics().pool as { workers: Array<{ executed: number }> }).workers.reduce((s, w) => s + w.executed, 0);
}

describe('abort', () => {
  it('removes a queued task (rejects with the reason) and flags a running one', async () => {
    const base = executed();
    const busyCtl = new AbortController();
    const busy = [rt.exec({ signal: busyCtl.signal }, tasks.spinUntilAborted, 1e13), rt.exec({ signal: busyCtl.signal }, tasks.spinUntilAborted, 1e13)];
    await until(() => executed() >= base + 2); // both workers are spinning now
    const reason = new Error('not needed any more');
    const queuedCtl = new AbortController();
    const queued = rt.exec({ signal: queuedCtl.signal }, tasks.inc, 1);
    queuedCtl.abort(reason);
    await expect(queued).rejects.toBe(reason);
    busyCtl.abort();
    expect(await Promise.all(busy)).toEqual(['aborted', 'aborted']);
    expect(await rt.exec(tasks.inc, 9)).toBe(10);
  });

  it('an async task sees its signal after an await, and aborts on it', async () => {
    const flags = new Int32Array(new SharedArrayBuffer(8));
    const ctl = new AbortController();
    const running = rt.exec({ signal: ctl.signal }, tasks.awaitAbortAfterAwait, flags);
    await until(() => Atomics.load(flags, 0) === 1, 'the task to wait on its signal');
    ctl.abort();
    expect(await running).toBe('aborted after an await');
  });

  it("aborting a task aborts its nested exec: the caller's await rejects, the child's signal aborts", async () => {
    const flags = new Int32Array(new SharedArrayBuffer(8));
    const ctl = new AbortController();
    const parent = rt.exec({ signal: ctl.signal }, tasks.execAfterAwait, flags);
    await until(() => Atomics.load(flags, 0) === 1, 'the nested task to start');
    ctl.abort();
    expect(await parent).toBe('parent caught TaskAbortedError');
    await until(() => Atomics.load(flags, 1) === 1, 'the nested task to see the abort');
    expect(await rt.exec(tasks.inc, 1)).toBe(2);
  });

  it('exec({ signal }) inside a worker task: the abort rejects the call with its reason and reaches the sub-task', async () => {
    const flags = new Int32Array(new SharedArrayBuffer(8));
    expect(await rt.exec(tasks.execWithSignal, flags)).toBe('caught: enough');
    await until(() => Atomics.load(flags, 1) === 1, 'the nested task to see the abort');
    expect(await rt.exec(tasks.execAborted)).toBe('caught: early');
  });

  it('the free exec refuses a call that is neither (ref, ...args) nor (options, ref, ...args), and the pool goes on', async () => {
    const exec = (await import('../../../src/index.js')).exec as unknown as (...call: unknown[]) => Promise<unknown>;
    await expect(rt.run(() => exec({ signal: new AbortController().signal }, { not: 'a ref' }))).rejects.toThrow(TypeError);
    await expect(rt.run(() => exec(null, tasks.inc, 1))).rejects.toThrow(/expected \(ref, \.\.\.args\)/);
    expect(await rt.run(() => exec(tasks.inc, 1))).toBe(2);
    expect(await rt.run(() => exec({}, tasks.inc, 2))).toBe(3);
  });

  it('takes back the records of tasks cancelled while queued, also once nothing else is pending', async () => {
    // One worker, so the order in which it meets the records is known.
    const solo = Runtime.builder().workers(1).build();
    try {
      const busyCtl = new AbortController();
      const busy = solo.exec({ signal: busyCtl.signal }, tasks.spinUntilAborted, 1e13);
      await until(() => (solo.metrics().pool as { workers: Array<{ executed: number }> }).workers[0]!.executed === 1);
      // Queued behind the spinning task: `kickSpin` returns at once but leaves the worker a
      // long spin of its own, and only then does it meet the cancelled records. Their
      // promises settled at the abort, so nothing is pending when they come back.
      const kick = solo.exec(tasks.kickSpin, 50_000_000);
      const queuedCtl = new AbortController();
      const queued = Array.from({ length: 8 }, (_, i) => solo.exec({ signal: queuedCtl.signal }, tasks.inc, i).catch((e: unknown) => e));
      queuedCtl.abort(new Error('cancelled'));
      expect((await Promise.all(queued)).map((e) => (e as Error).message)).toEqual(Array(8).fill('cancelled'));
      busyCtl.abort();
      expect(await busy).toBe('aborted');
      expect(await kick).toBe(0);
      await until(() => mainRecordsInUse(solo) === 0, 'the cancelled records to come back', 5_000);
    } finally {
      await solo.shutdown();
    }
  });

  it('aborting a map signal drops queued chunks and flags running ones', async () => {
    const base = executed();
    const ctl = new AbortController();
    const reason = new Error('enough');
    const mapped = rt.map(tasks.spinUntilAborted, [1e13, 1e13, 1e13, 1e13, 1e13], { chunkSize: 1, signal: ctl.signal });
    await until(() => executed() >= base + 2);
    ctl.abort(reason);
    await expect(mapped).rejects.toBe(reason);
    // The running chunks saw their flags and returned: both workers take new work.
    expect(await Promise.all([rt.exec(tasks.inc, 1), rt.exec(tasks.inc, 2)])).toEqual([2, 3]);
  });
});

describe('process lifetime', () => {
  const child = fileURLToPath(new URL('../../fixtures/pool-child.ts', import.meta.url));
  function run(mode: string): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, ['--import', 'tsx', child, mode], { encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('a script whose work is done exits by itself without shutdown', () => {
    const r = run('idle-exit');
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('result 3');
    expect(r.status).toBe(0);
  });

  it('shutdown with work in flight settles it and the process exits', () => {
    const r = run('shutdown-in-flight');
    if (!r.stdout.includes('drained')) throw new Error(`child failed: ${JSON.stringify(r)}`);
    expect(r.stdout).toContain('drained 2');
    expect(r.stdout).toContain('aborted RuntimeClosedError');
    expect(r.stdout).toContain('after shutdown ZOKIO_ERR_RUNTIME_CLOSED');
    expect(r.status).toBe(0);
  });
});
