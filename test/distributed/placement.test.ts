/**
 * Where serveTasks runs a job's task: the placement rule on its own (a model checked with
 * fast-check), then through serveTasks with a real redis-server, asserting which thread
 * ran each job (never how long anything took: the tests pick `inlineBelowMs` far above
 * or below what the tasks take).
 */
import { threadId } from 'node:worker_threads';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, RemoteTaskError, Runtime } from '../../src/index.js';
import { serveTasks } from '../../src/distributed/index.js';
import { Placement, STREAK } from '../../src/distributed/placement.js';
import { placementTasks, type Where } from './fixtures/placement-tasks.js';
import { startRedisServer, type RedisServer } from './redis-server.js';

const SHORT = 0.001;
const LONG = 5;

describe('Placement', () => {
  it(`a task runs inline after ${STREAK} short runs in a row, not before`, () => {
    const p = new Placement(1);
    for (let i = 0; i < STREAK - 1; i++) {
      p.ran('t', SHORT);
      expect(p.inline('t')).toBe(false);
    }
    p.ran('t', SHORT);
    expect(p.inline('t')).toBe(true);
    expect(p.inline('other')).toBe(false);
  });

  it('a long run among the first ones restarts the streak', () => {
    const p = new Placement(1);
    for (let i = 0; i < STREAK - 1; i++) p.ran('t', SHORT);
    p.ran('t', LONG);
    for (let i = 0; i < STREAK - 1; i++) p.ran('t', SHORT);
    expect(p.inline('t')).toBe(false);
    p.ran('t', SHORT);
    expect(p.inline('t')).toBe(true);
  });

  it('inline, one long run is forgiven and a second within the window sends the task back', () => {
    const p = new Placement(1);
    for (let i = 0; i < STREAK; i++) p.ran('t', SHORT);
    p.ran('t', LONG);
    expect(p.inline('t')).toBe(true);
    for (let i = 0; i < STREAK - 2; i++) p.ran('t', SHORT);
    p.ran('t', LONG); // the first long run is still in the window
    expect(p.inline('t')).toBe(false);
  });

  it('a run at exactly belowMs counts as long', () => {
    const p = new Placement(1);
    for (let i = 0; i < STREAK - 1; i++) p.ran('t', SHORT);
    p.ran('t', 1);
    expect(p.inline('t')).toBe(false);
  });

  it('a task that returned a promise never runs inline', () => {
    const p = new Placement(1);
    p.ran('t', -1);
    for (let i = 0; i < 4 * STREAK; i++) p.ran('t', SHORT);
    expect(p.inline('t')).toBe(false);
    for (let i = 0; i < STREAK; i++) p.ran('u', SHORT);
    p.ran('u', -1);
    expect(p.inline('u')).toBe(false);
  });

  it('belowMs 0 keeps every task on the pool', () => {
    const p = new Placement(0);
    for (let i = 0; i < 4 * STREAK; i++) p.ran('t', 0);
    expect(p.inline('t')).toBe(false);
  });

  it('matches the rule written out over the whole history (property)', () => {
    // Run kinds: 0 short, 1 long, 2 returned a promise (at most once, anywhere or never).
    const kind = fc.oneof({ arbitrary: fc.constant<number>(0), weight: 10 }, { arbitrary: fc.constant<number>(1), weight: 1 });
    const history = fc.tuple(fc.array(kind, { maxLength: 200, size: 'max' }), fc.option(fc.nat(250))).map(([runs, at]) => (at === null || at >= runs.length ? runs : runs.with(at, 2)));
    let reachedInline = 0;
    fc.assert(fc.property(history, (runs) => {
      const p = new Placement(1);
      let inline = false;
      let never = false;
      runs.forEach((kind, i) => {
        p.ran('t', kind === 0 ? SHORT : kind === 1 ? LONG : -1);
        never ||= kind === 2;
        const window = runs.slice(Math.max(0, i + 1 - STREAK), i + 1);
        const longs = window.filter((k) => k === 1).length;
        if (never) inline = false;
        else if (inline) inline = longs < 2;
        else inline = i + 1 >= STREAK && longs === 0;
        expect(p.inline('t')).toBe(inline);
        if (inline) reachedInline++;
      });
    }));
    expect(reachedInline).toBeGreaterThan(0); // the histories reach the inline side
  });
});

describe('serveTasks placement', () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await startRedisServer();
  });

  afterAll(async () => {
    await redis?.[Symbol.asyncDispose]();
  });

  async function serveAndRun(queue: string, inlineBelowMs: number | undefined, run: (rt: ReturnType<typeof producer>) => Promise<Where[]>): Promise<{ runs: Where[]; inline: number; completed: number }> {
    const connection = { host: '127.0.0.1', port: redis.port };
    await using server = await serveTasks([placementTasks], { connection, queue, workers: 2, ...(inlineBelowMs === undefined ? {} : { inlineBelowMs }) });
    await using rt = producer(queue);
    const runs = await run(rt);
    const { inline, completed } = server.metrics();
    return { runs, inline, completed };
  }

  function producer(queue: string) {
    return Runtime.builder().distributed({ engine: 'bullmq', connection: { host: '127.0.0.1', port: redis.port }, queue }).build();
  }

  async function inSequence(n: number, one: () => Promise<Where>): Promise<Where[]> {
    const out: Where[] = [];
    for (let i = 0; i < n; i++) out.push(await one());
    return out;
  }

  it(`a short synchronous task moves to the serving thread after ${STREAK} pool runs, and sees its job's signal there`, async () => {
    const n = STREAK + 8;
    const { runs, inline, completed } = await serveAndRun('inline', 1000, (rt) => inSequence(n, () => rt.remote.exec(placementTasks.where)));
    expect(runs.slice(0, STREAK).every((w) => w.thread !== threadId)).toBe(true);
    expect(runs.slice(STREAK).every((w) => w.thread === threadId)).toBe(true);
    expect(runs.every((w) => w.signal)).toBe(true);
    expect(inline).toBe(n - STREAK);
    expect(completed).toBe(n);
  });

  it('a result and an error are the same whichever side ran the task', async () => {
    const n = STREAK + 4;
    let inlineFailure: unknown;
    const inlined = await serveAndRun('same-inline', 1000, async (rt) => {
      const out = await inSequence(n, () => rt.remote.exec(placementTasks.shaped, false) as Promise<never>);
      inlineFailure = await rt.remote.exec(placementTasks.shaped, true).catch((e: unknown) => e);
      return out;
    });
    expect(inlined.inline).toBe(n - STREAK + 1); // the last successful runs and the failing one
    let poolFailure: unknown;
    const pooled = await serveAndRun('same-pool', 0, async (rt) => {
      poolFailure = await rt.remote.exec(placementTasks.shaped, true).catch((e: unknown) => e);
      return [];
    });
    expect(pooled.inline).toBe(0);
    const results = inlined.runs as unknown as Array<{ point: object; m: Map<number, string>; when: Date; thread: number }>;
    for (const r of results) {
      expect(r.point).toEqual({ x: 3, y: 4 }); // a plain object on both sides
      expect(r.m).toEqual(new Map([[1, 'a']]));
      expect(r.when).toEqual(new Date(0));
    }
    expect(results.at(-1)!.thread).toBe(threadId);
    expect(results[0]!.thread).not.toBe(threadId);
    for (const failure of [inlineFailure, poolFailure]) {
      expect(failure).toBeInstanceOf(RemoteTaskError);
      expect(failure).toMatchObject({ remoteName: 'RangeError', message: 'shaped failed', remoteCode: 'E_SHAPED' });
    }
  });

  it('jobs submitted at once all complete, on whichever side, each once', async () => {
    const n = 400;
    const { runs, inline, completed } = await serveAndRun('burst', 1000, (rt) => Promise.all(Array.from({ length: n }, () => rt.remote.exec(placementTasks.where))));
    expect(runs).toHaveLength(n);
    expect(completed).toBe(n);
    expect(inline).toBe(runs.filter((w) => w.thread === threadId).length);
    expect(inline).toBeGreaterThan(0);
  });

  it('an async task, a task longer than inlineBelowMs, and every task with inlineBelowMs 0 stay on the pool', async () => {
    const n = STREAK + 8;
    const a = await serveAndRun('async', 1000, (rt) => inSequence(n, () => rt.remote.exec(placementTasks.whereAsync)));
    expect(a.runs.every((w) => w.thread !== threadId && w.signal)).toBe(true);
    expect(a.inline).toBe(0);
    const b = await serveAndRun('long', 0.5, (rt) => inSequence(n, () => rt.remote.exec(placementTasks.busy, 2)));
    expect(b.runs.every((w) => w.thread !== threadId)).toBe(true);
    expect(b.inline).toBe(0);
    const c = await serveAndRun('off', 0, (rt) => inSequence(n, () => rt.remote.exec(placementTasks.where)));
    expect(c.runs.every((w) => w.thread !== threadId)).toBe(true);
    expect(c.inline).toBe(0);
  });

  it('a task that reports progress stays on the pool', async () => {
    const n = STREAK + 4;
    const { inline } = await serveAndRun('progress', 1000, (rt) => inSequence(n, () => rt.remote.exec({ onProgress: () => undefined }, placementTasks.where)));
    expect(inline).toBe(0);
  });

  it('refuses an inlineBelowMs that is not a number of ms, 0 or more, before connecting', async () => {
    for (const bad of [-1, Number.NaN, '0.05']) {
      const err = await serveTasks([placementTasks], { connection: { host: '127.0.0.1', port: 1 }, queue: 'q', inlineBelowMs: bad as never }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).code).toBe('ZOKIO_ERR_CONFIG');
      expect((err as ConfigError).field).toBe('inlineBelowMs');
    }
  });
});
