import { describe, expect, it } from 'vitest';
import { Runtime, WorkerCrashedError } from '../../../src/index.js';
import { poolOf } from '../../../src/scheduler/pool/worker-pool.js';
import { tasks } from '../../fixtures/pool-tasks.js';
import { exitOnLoad } from '../../fixtures/pool-tasks-exit-on-load.js';
import { until } from '../../helpers.js';
import { mainRecordsInUse, recordStats } from './pool-metrics.js';

describe('crash recovery', () => {
  it('a worker that exits mid-task fails only that task; queued work runs exactly once elsewhere', async () => {
    const rt = Runtime.builder().workers(2).strategy('round_robin').build();
    try {
      expect(await rt.exec(tasks.inc, 0)).toBe(1);
      const pool = poolOf(rt)!;
      // Worker 0 gets a slow task, then the crash, then queued work behind it in its inbox;
      // worker 1 also holds queued work.
      const slow = pool.execOn(0, tasks.spinFor, [2_000_000]);
      const crash = pool.execOn(0, tasks.exit, [3]);
      const queued: Array<Promise<unknown>> = [];
      for (let i = 0; i < 400; i++) queued.push(pool.execOn(i % 2, tasks.tagged, [i, 0]));
      const err = await crash.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkerCrashedError);
      expect((err as Error).message).toContain("'exit'");
      expect(await slow).toBeTypeOf('number');
      const results = (await Promise.all(queued)) as Array<[number, number]>;
      expect(results.map((r) => r[0])).toEqual(queued.map((_, i) => i));
      expect(results.every(([id, twice]) => twice === id * 2)).toBe(true);
      const m = rt.metrics().pool as { restarts: number; workers: Array<{ alive: boolean }> };
      expect(m.restarts).toBe(1);
      // The replacement works.
      expect(await Promise.all([pool.execOn(0, tasks.inc, [1]), pool.execOn(1, tasks.inc, [2])])).toEqual([2, 3]);
      // An uncaught exception in a callback is a crash too.
      const cb = await rt.exec(tasks.throwLater).catch((e: unknown) => e);
      expect(cb).toBeInstanceOf(WorkerCrashedError);
      expect(await rt.exec(tasks.inc, 5)).toBe(6);
    } finally {
      await rt.shutdown();
    }
  });

  it('a worker that reaches its resourceLimits fails only its task; queued work runs and a replacement starts', async () => {
    const rt = Runtime.builder().workers(2).resourceLimits({ maxOldGenerationSizeMb: 64 }).build();
    try {
      expect(await rt.exec(tasks.inc, 0)).toBe(1);
      const oom = rt.exec(tasks.exhaustHeap).catch((e: unknown) => e);
      const queued = Array.from({ length: 200 }, (_, i) => rt.exec(tasks.inc, i));
      const err = await oom;
      expect(err).toBeInstanceOf(WorkerCrashedError);
      expect((err as Error).message).toContain("task 'exhaustHeap'");
      expect((err as Error).message).toContain('memory limit');
      expect(await Promise.all(queued)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      expect((rt.metrics().pool as { restarts: number }).restarts).toBe(1);
      expect(await Promise.all([rt.exec(tasks.inc, 1), rt.exec(tasks.inc, 2)])).toEqual([2, 3]);
      expect(mainRecordsInUse(rt)).toBe(0);
      // The blocking pool's threads run under the same limits.
      const blocked = await rt.spawnBlocking(tasks.exhaustHeap).catch((e: unknown) => e);
      expect(blocked).toBeInstanceOf(WorkerCrashedError);
      expect(await rt.spawnBlocking(tasks.inc, 7)).toBe(8);
    } finally {
      await rt.shutdown();
    }
  });
});

describe('task records', () => {
  it('a worker holds at most its quota of records; past it, its nested submissions run inline', async () => {
    const rt = Runtime.builder().workers(2).build();
    try {
      expect(await rt.exec(tasks.inc, 0)).toBe(1); // starts the pool
      const quota = recordStats(rt).owners[1]!.capacity;
      const view = new Int32Array(new SharedArrayBuffer(8));
      const n = quota + 500;
      const outer = rt.exec(tasks.manyHeld, view, 0, 1, n);
      // The other worker runs one of the records and the submitting worker the first inline
      // one; both wait at the gate, so no record comes back meanwhile.
      await until(() => Atomics.load(view, 0) === 2, 'both workers to hold');
      const held = recordStats(rt).owners.map((o) => o.inUse);
      expect(held[0]).toBe(1); // the outer task
      expect(Math.max(held[1]!, held[2]!)).toBe(quota);
      expect(Math.min(held[1]!, held[2]!)).toBe(0);
      Atomics.store(view, 1, 1);
      Atomics.notify(view, 1);
      expect(await outer).toBe(n);
      await until(() => recordStats(rt).inUse === 0, 'every record to be freed');
      expect(recordStats(rt).owners.map((o) => o.inUse)).toEqual([0, 0, 0]);
    } finally {
      await rt.shutdown();
    }
  });

  it('frees every record a dead worker submitted, also one whose outcome it never read', async () => {
    const rt = Runtime.builder().workers(2).build();
    try {
      expect(await rt.exec(tasks.inc, 0)).toBe(1);
      const view = new Int32Array(new SharedArrayBuffer(8));
      const err = await rt.exec(tasks.exitAfterNested, view).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkerCrashedError);
      expect(Atomics.load(view, 0)).toBe(1); // the nested task ran, on the other worker
      // Its record was done before the owner died: the replacement worker frees it.
      await until(() => recordStats(rt).inUse === 0, 'the orphaned record to be freed');
      expect(recordStats(rt).owners.map((o) => o.inUse)).toEqual([0, 0, 0]);
      expect(await Promise.all([rt.exec(tasks.manyNested, 10), rt.exec(tasks.manyNested, 10)])).toEqual([55, 55]);
    } finally {
      await rt.shutdown();
    }
  });
});

describe('a worker that dies while it loads a task module', () => {
  type PoolMetrics = { restarts: number };

  it('fails the record it held, and the replacement takes new work', async () => {
    const rt = Runtime.builder().workers(2).build();
    try {
      expect(await rt.exec(tasks.inc, 0)).toBe(1);
      const err = await rt.exec(exitOnLoad.never, 1).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkerCrashedError);
      expect((err as Error).message).toContain("while loading the module of task 'never'");
      expect((err as Error).message).toContain('exit code 9');
      expect((rt.metrics().pool as PoolMetrics).restarts).toBe(1);
      expect(await Promise.all([rt.exec(tasks.inc, 1), rt.exec(tasks.inc, 2)])).toEqual([2, 3]);
      expect(mainRecordsInUse(rt)).toBe(0);
    } finally {
      await rt.shutdown();
    }
  });

  it('takes back a record cancelled while held, which that worker can no longer hand back', async () => {
    const rt = Runtime.builder().workers(1).build();
    try {
      expect(await rt.exec(tasks.inc, 0)).toBe(1);
      const ctl = new AbortController();
      const cancelled = rt.exec({ signal: ctl.signal }, exitOnLoad.never, 1).catch((e: unknown) => e);
      ctl.abort(new Error('cancelled'));
      expect(((await cancelled) as Error).message).toBe('cancelled');
      await until(() => (rt.metrics().pool as PoolMetrics).restarts === 1, 'the worker to die');
      await until(() => mainRecordsInUse(rt) === 0, 'the cancelled record to come back');
      expect(await rt.exec(tasks.inc, 5)).toBe(6);
    } finally {
      await rt.shutdown();
    }
  });
});

describe('stress', () => {
  it('100,000 tasks with random per-worker placement each run exactly once with the right result', async () => {
    const rt = Runtime.builder().workers(3).queueCapacity(1024).build();
    try {
      expect(await rt.exec(tasks.inc, 0)).toBe(1);
      const pool = poolOf(rt)!;
      const n = 100_000;
      let seed = 12345;
      const ps = new Array<Promise<unknown>>(n);
      for (let i = 0; i < n; i++) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        const where = seed % 4; // 0..2: a worker's inbox; 3: the injector
        ps[i] = where === 3 ? rt.exec(tasks.tagged, i, 0) : pool.execOn(where, tasks.tagged, [i, 0]);
      }
      const results = (await Promise.all(ps)) as Array<[number, number]>;
      const seen = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const [id, twice] = results[i]!;
        expect(id).toBe(i);
        expect(twice).toBe(2 * i);
        seen[id]!++;
      }
      expect(seen.every((c) => c === 1)).toBe(true);
      const m = rt.metrics().pool as { workers: Array<{ executed: number }>; pending: number };
      expect(m.workers.reduce((s, w) => s + w.executed, 0)).toBeGreaterThanOrEqual(n);
      expect(m.pending).toBe(0);
    } finally {
      await rt.shutdown();
    }
  });
});
