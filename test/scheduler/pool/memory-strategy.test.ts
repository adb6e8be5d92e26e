import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../helpers.js';
import { Runtime, WorkerCrashedError } from '../../../src/index.js';
import type { SharedSlabStats } from '../../../src/memory/index.js';
import { poolOf, type PoolRecordStats } from '../../../src/scheduler/pool/worker-pool.js';
import { tasks } from '../../fixtures/pool-tasks.js';

/** Longer than a record's inline bytes many times over. */
const BIG = 100_000;

type Pools = { 'pool.payloads': SharedSlabStats; 'pool.records': PoolRecordStats };

function pools(rt: { metrics(): Record<string, unknown> }): Pools {
  return (rt.metrics().memory as { pools: Pools }).pools;
}

/** Word 0 counts holds started; words 1.. are gates. */
function gates(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(32));
}

function open(view: Int32Array, gate: number): void {
  Atomics.store(view, gate, 1);
  Atomics.notify(view, gate);
}

type PoolRuntime = ReturnType<typeof build>;

function build(strategy: 'pooled' | 'heap') {
  return Runtime.builder().workers(2).memory({ strategy }).build();
}

/** Holds both workers in a task until gates 1 and 2 open; resolves once both are held. */
async function holdBoth(rt: PoolRuntime, view: Int32Array): Promise<Promise<number>[]> {
  const held = [rt.exec(tasks.hold, view, 0, 1), rt.exec(tasks.hold, view, 0, 2)];
  await until(() => Atomics.load(view, 0) === 2);
  return held;
}

function totalBuffers(rt: PoolRuntime): number {
  const counts = poolOf(rt)!.payloadBuffers();
  return counts.main + counts.workers.reduce((s, n) => s + n, 0);
}

describe("memory strategy 'pooled'", () => {
  const rt = build('pooled');
  beforeAll(async () => {
    expect(await rt.exec(tasks.inc, 1)).toBe(2);
  });
  afterAll(async () => {
    await rt.shutdown();
  });

  it('reports the payload arena and the task records in rt.metrics().memory', () => {
    const p = pools(rt);
    expect(p['pool.payloads']).toMatchObject({ blockSize: 8192, blockCount: 4096, inUse: 0, exhausted: 0 });
    const records = p['pool.records'];
    expect(records.payloads).toBe('arena');
    expect(records.recordBytes).toBe(256);
    expect(records.owners.map((o) => o.owner)).toEqual(['main', 'worker 0', 'worker 1']);
    expect(records.capacity).toBe(records.owners.reduce((s, o) => s + o.capacity, 0));
    expect(records.inUse).toBe(0);
    expect(rt.report.memory.strategy).toBe('pooled');
  });

  it('a payload longer than the whole arena goes into a buffer of its own, counted, and keeps no block', async () => {
    const tooLong = 4096 * 8192 + 1; // the arena's bytes, and one more
    const before = (rt.metrics().pool as { payloadFallbacks: number }).payloadFallbacks;
    expect(((await rt.exec(tasks.echo, new Uint8Array(tooLong))) as Uint8Array).length).toBe(tooLong); // the argument, on this thread
    expect((await rt.exec(tasks.zeros, tooLong)).length).toBe(tooLong); // the result, on a worker
    expect((rt.metrics().pool as { payloadFallbacks: number }).payloadFallbacks).toBeGreaterThan(before);
    expect(pools(rt)['pool.payloads']).toMatchObject({ inUse: 0 });
    expect(await rt.exec(tasks.echo, 'x'.repeat(BIG))).toHaveLength(BIG);
  });

  it('a long argument holds arena blocks while its task is queued, and gives them back after', async () => {
    const view = gates();
    const held = await holdBoth(rt, view);
    const big = 'x'.repeat(BIG);
    const queued = rt.exec(tasks.echo, big);
    const during = pools(rt);
    expect(during['pool.payloads'].inUse).toBeGreaterThanOrEqual(Math.ceil(BIG / 8192));
    expect(during['pool.records'].owners[0]!.inUse).toBe(3);
    expect(during['pool.records'].inUse).toBeGreaterThanOrEqual(3);
    open(view, 1);
    open(view, 2);
    expect(await Promise.all(held)).toEqual([1, 1]);
    expect(await queued).toBe(big);
    const after = pools(rt);
    expect(after['pool.payloads'].inUse).toBe(0);
    expect(after['pool.records'].owners[0]!.inUse).toBe(0);
  });

  it('frees the arena blocks of join sides with long arguments, stolen or run inline, and of nested exec', async () => {
    const before = rt.metrics().pool as { workers: Array<{ stolenSides: number; inlinePops: number }> };
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => rt.exec(tasks.bigJoin, BIG / 4, i % 2 === 0 ? 3_000_000 : 0)));
    expect(results).toEqual(Array(8).fill(BIG / 2));
    expect(await rt.exec(tasks.stolenBigJoin, new Int32Array(new SharedArrayBuffer(4)), BIG / 4)).toBe(BIG / 2);
    expect(await Promise.all([rt.exec(tasks.bigNested, BIG), rt.exec(tasks.bigNested, BIG)])).toEqual([BIG, BIG]);
    const after = rt.metrics().pool as typeof before;
    const sum = (m: typeof before, k: 'stolenSides' | 'inlinePops'): number => m.workers.reduce((s, w) => s + w[k], 0);
    expect(sum(after, 'stolenSides') + sum(after, 'inlinePops') - sum(before, 'stolenSides') - sum(before, 'inlinePops')).toBe(9);
    expect(pools(rt)['pool.payloads'].inUse).toBe(0);
  });
});

describe("memory strategy 'heap'", () => {
  const rt = build('heap');
  beforeAll(async () => {
    expect(await rt.exec(tasks.inc, 1)).toBe(2);
  });
  afterAll(async () => {
    await rt.shutdown();
  });

  it('keeps only a small arena, for records workers create, and reports records', () => {
    const p = pools(rt);
    expect(p['pool.payloads']).toMatchObject({ blockSize: 8192, blockCount: 512, inUse: 0 });
    expect(p['pool.records'].payloads).toBe('heap');
    expect(p['pool.records'].inUse).toBe(0);
    expect(rt.report.memory.strategy).toBe('heap');
  });

  it('carries long arguments and results of main-thread records in buffers of their own', async () => {
    const view = gates();
    const held = await holdBoth(rt, view);
    const text = 'y'.repeat(BIG);
    const queued = rt.exec(tasks.echo, text);
    // Queued: the argument is in a buffer of its own (kept by the main thread until the
    // record completes), not in the arena.
    expect(poolOf(rt)!.payloadBuffers().main).toBe(1);
    expect(pools(rt)['pool.payloads'].inUse).toBe(0);
    open(view, 1);
    open(view, 2);
    await Promise.all(held);
    expect(await queued).toBe(text);
    const numbers = Array.from({ length: BIG / 4 }, (_, i) => i * 1.5);
    const bytes = new Uint8Array(BIG).map((_, i) => i & 255);
    const [n, b, r] = await Promise.all([rt.exec(tasks.echo, numbers), rt.exec(tasks.echo, bytes), rt.exec(tasks.repeat, 'z', BIG)]);
    expect(n).toEqual(numbers);
    expect(b).toEqual(bytes);
    expect(r).toBe('z'.repeat(BIG));
    expect(await rt.map(tasks.inc, Array.from({ length: 20_000 }, (_, i) => i), { chunkSize: 10_000 })).toEqual(Array.from({ length: 20_000 }, (_, i) => i + 1));
    const p = pools(rt);
    expect(p['pool.payloads']).toMatchObject({ inUse: 0, exhausted: 0 });
    expect(poolOf(rt)!.payloadBuffers().main).toBe(0);
  });

  it('runs nested join and exec with long payloads inside workers (through the small arena)', async () => {
    const before = rt.metrics().pool as { workers: Array<{ stolenSides: number }> };
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => rt.exec(tasks.bigJoin, BIG, i % 2 === 0 ? 3_000_000 : 0)));
    expect(results).toEqual(Array(8).fill(2 * BIG));
    // Side a waits until the idle worker has stolen side b (whose 100 KB argument and
    // result go through the arena).
    expect(await rt.exec(tasks.stolenBigJoin, new Int32Array(new SharedArrayBuffer(4)), BIG)).toBe(2 * BIG);
    expect(await Promise.all([rt.exec(tasks.bigNested, BIG), rt.exec(tasks.bigNested, BIG)])).toEqual([BIG, BIG]);
    const after = rt.metrics().pool as typeof before;
    expect(after.workers.reduce((s, w) => s + w.stolenSides, 0)).toBeGreaterThan(before.workers.reduce((s, w) => s + w.stolenSides, 0));
    expect(pools(rt)['pool.payloads'].inUse).toBe(0);
  });

  it('lets the buffer of a cancelled queued task go', async () => {
    const view = gates();
    const held = await holdBoth(rt, view);
    const controller = new AbortController();
    const pool = poolOf(rt)!;
    const cancelled = pool.execWithSignal(tasks.echo, ['w'.repeat(BIG)], controller.signal).catch((e: unknown) => e);
    expect(pool.payloadBuffers().main).toBe(1);
    controller.abort(new Error('stop'));
    expect(((await cancelled) as Error).message).toBe('stop');
    open(view, 1);
    open(view, 2);
    await Promise.all(held);
    // A worker meets the cancelled record, drops its argument and hands it back.
    await until(() => pools(rt)['pool.records'].owners[0]!.inUse === 0);
    expect(pool.payloadBuffers().main).toBe(0);
    await until(() => pool.payloadBuffers().workers.every((n) => n === 0));
  });

  it('does not grow the buffer tables over many tasks', async () => {
    const BATCH = 16;
    let peak = 0;
    for (let round = 0; round < 20; round++) {
      const text = String(round).repeat(BIG / 4);
      const out = await Promise.all(Array.from({ length: BATCH }, () => rt.exec(tasks.echo, text)));
      expect(out.every((s) => s === text)).toBe(true);
      peak = Math.max(peak, totalBuffers(rt));
    }
    // 320 long arguments and 320 long results went through; the tables hold at most the
    // payloads that were live at each thread's last drain, and none once the pool is idle.
    expect(peak).toBeLessThanOrEqual(2 * BATCH);
    expect(poolOf(rt)!.payloadBuffers().main).toBe(0);
    await until(() => totalBuffers(rt) === 0);
  });

  it('a replacement worker reads argument buffers posted before it existed', async () => {
    const view = gates();
    const crash = rt.exec(tasks.holdThenExit, view, 0, 1, 7).catch((e: unknown) => e);
    const held = rt.exec(tasks.hold, view, 0, 2);
    await until(() => Atomics.load(view, 0) === 2);
    const restarts = (rt.metrics().pool as { restarts: number }).restarts;
    const texts = Array.from({ length: 4 }, (_, i) => String(i).repeat(BIG));
    const queued = texts.map((t) => rt.exec(tasks.echo, t));
    open(view, 1); // that worker exits; the other one stays held, so the replacement runs the queue
    expect(await crash).toBeInstanceOf(WorkerCrashedError);
    expect(await Promise.all(queued)).toEqual(texts);
    expect((rt.metrics().pool as { restarts: number }).restarts).toBe(restarts + 1);
    open(view, 2);
    expect(await held).toBe(1);
    expect(poolOf(rt)!.payloadBuffers().main).toBe(0);
  });

  it('shuts down with long payloads still queued', async () => {
    const other = build('heap');
    expect(await other.exec(tasks.inc, 1)).toBe(2);
    const view = gates();
    const held = (await holdBoth(other, view)).map((h) => h.catch((e: unknown) => e));
    const queued = Array.from({ length: 3 }, () => other.exec(tasks.echo, 'q'.repeat(BIG)).catch((e: unknown) => e));
    const down = other.shutdown({ timeoutMs: 0 });
    open(view, 1);
    open(view, 2);
    await down;
    // Each settles: done before the deadline, or rejected with RuntimeClosedError.
    for (const outcome of await Promise.all([...held, ...queued])) if (outcome instanceof Error) expect(outcome.name).toBe('RuntimeClosedError');
    expect(poolOf(other)!.payloadBuffers().main).toBe(0);
  });
});
