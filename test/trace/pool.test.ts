import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/index.js';
import { installTracing, span, toChromeEvents, tracerOf } from '../../src/trace/index.js';
import { MemoryExporter, collectSpans } from './memory-exporter.js';
import { tasks } from './fixtures/trace-pool-tasks.js';

describe('trace context across the work-stealing pool', () => {
  it('spans in worker tasks join the caller trace, with the right parents, across exec and nested join', async () => {
    const rt = Runtime.builder().workers(2).build();
    const exporter = new MemoryExporter();
    installTracing(rt, { exporter, flushIntervalMs: 0 });
    try {
      const results = await rt.run(() =>
        span('request', async () => Promise.all([rt.exec(tasks.leaf, 1), rt.exec(tasks.pair, 2), span('other', () => rt.exec(tasks.leaf, 3))])),
      );
      expect(results).toEqual([1, 21 + 22, 3]);
      // 'request', 'other', 'leaf 1', 'pair 2', 'leaf 21', 'leaf 22', 'leaf 3'
      await collectSpans(rt, exporter, 7);

      const request = exporter.byName('request');
      for (const s of exporter.spans) expect(s.traceId).toBe(request.traceId);
      expect(exporter.byName('leaf 1').parentSpanId).toBe(request.spanId);
      expect(exporter.byName('pair 2').parentSpanId).toBe(request.spanId);
      expect(exporter.byName('leaf 3').parentSpanId).toBe(exporter.byName('other').spanId);
      // Both halves of the join are children of the span around it, whether the worker ran
      // the second half itself or another worker stole it.
      const pair = exporter.byName('pair 2');
      expect(exporter.byName('leaf 21').parentSpanId).toBe(pair.spanId);
      expect(exporter.byName('leaf 22').parentSpanId).toBe(pair.spanId);

      const workerSpans = exporter.spans.filter((s) => s.threadId !== 0);
      expect(workerSpans.map((s) => s.name).sort()).toEqual(['leaf 1', 'leaf 21', 'leaf 22', 'leaf 3', 'pair 2']);
      for (const s of workerSpans) expect(s.threadName).toMatch(/^pool worker \d+$/);
      expect(exporter.byName('leaf 1').attributes).toEqual({ leaf: 1 });
      // One Perfetto lane per thread that ran spans.
      const lanes = toChromeEvents(exporter.spans).filter((e) => e.name === 'thread_name').map((e) => e.tid);
      expect(new Set(lanes).size).toBe(lanes.length);
      expect(lanes).toContain(0);
      expect(rt.metrics().tracing).toMatchObject({ fromWorkers: 5 });
    } finally {
      await rt.shutdown();
    }
  });

  it('keeps parents right across joins nested two deep, with stealing', async () => {
    const rt = Runtime.builder().workers(2).build();
    const exporter = new MemoryExporter();
    installTracing(rt, { exporter, flushIntervalMs: 0 });
    try {
      // Several roots so that both workers get busy and steal halves from each other.
      const roots = [1, 2, 3, 4];
      const sums = await rt.run(() => Promise.all(roots.map((id) => span(`root ${id}`, () => rt.exec(tasks.quad, id)))));
      expect(sums).toEqual(roots.map((id) => [1, 2].reduce((acc, p) => acc + 2 * (id * 100 + p * 10) + 3, 0)));
      const expected = roots.length * (1 + 1 + 2 + 4); // root, quad, 2 pairs, 4 leaves
      await collectSpans(rt, exporter, expected);
      expect(exporter.spans).toHaveLength(expected);
      for (const id of roots) {
        const root = exporter.byName(`root ${id}`);
        const quad = exporter.byName(`quad ${id}`);
        expect(quad.parentSpanId).toBe(root.spanId);
        for (const p of [1, 2]) {
          const pair = exporter.byName(`pair ${id * 10 + p}`);
          expect(pair.parentSpanId).toBe(quad.spanId);
          expect(pair.traceId).toBe(root.traceId);
          for (const l of [1, 2]) {
            const leaf = exporter.byName(`leaf ${(id * 10 + p) * 10 + l}`);
            expect(leaf.parentSpanId).toBe(pair.spanId);
            expect(leaf.traceId).toBe(root.traceId);
          }
        }
      }
      const pool = rt.metrics().pool as { workers: { stolenSides: number }[] };
      console.log(`nested-join trace test: ${pool.workers.reduce((n, w) => n + w.stolenSides, 0)} join halves were stolen`);
    } finally {
      await rt.shutdown();
    }
  });

  it('a record a worker runs while helping inside a join keeps its own parent, not the span around the join', async () => {
    const rt = Runtime.builder().workers(2).build();
    const exporter = new MemoryExporter();
    installTracing(rt, { exporter, flushIntervalMs: 0 });
    const helped = (): number => ((rt.metrics().pool as { workers: { helpIterations: number }[] } | undefined)?.workers ?? []).reduce((n, w) => n + w.helpIterations, 0);
    try {
      // Scheduling decides whether the helping happens; try until it did (it almost
      // always does on the first attempt), so that the parents below were put to the test.
      let attempt = 0;
      for (; attempt < 10 && helped() === 0; attempt++) {
        exporter.spans.length = 0;
        expect(await rt.run(() => span('root', () => rt.exec(tasks.skewedQuad, 1)))).toBe(111 + 112 + 121 + 122);
        await collectSpans(rt, exporter, 8);
      }
      expect(helped()).toBeGreaterThan(0);
      const parentOf = (name: string): string => {
        const child = exporter.byName(name);
        return exporter.spans.find((s) => s.spanId === child.parentSpanId)?.name ?? `unknown parent ${child.parentSpanId}`;
      };
      expect(Object.fromEntries(['quad 1', 'pair 11', 'pair 12', 'leaf 111', 'leaf 112', 'leaf 121', 'leaf 122'].map((n) => [n, parentOf(n)]))).toEqual({
        'quad 1': 'root',
        'pair 11': 'quad 1',
        'pair 12': 'quad 1',
        'leaf 111': 'pair 11',
        'leaf 112': 'pair 11',
        'leaf 121': 'pair 12',
        'leaf 122': 'pair 12',
      });
    } finally {
      await rt.shutdown();
    }
  });

  it('a task submitted outside any span records nothing and sees tracing as off', async () => {
    const rt = Runtime.builder().workers(1).build();
    const exporter = new MemoryExporter();
    installTracing(rt, { exporter, flushIntervalMs: 0 });
    try {
      expect(await rt.run(() => rt.exec(tasks.untraced, 5))).toBe(5);
      await tracerOf(rt)!.flush();
      expect(exporter.spans).toEqual([]);
    } finally {
      await rt.shutdown();
    }
  });
});
