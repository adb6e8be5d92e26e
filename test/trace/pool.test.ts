import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/index.js';
import { installTracing, span, toChromeEvents, tracerOf } from '../../src/trace/index.js';
import { MemoryExporter } from './memory-exporter.js';
import { tasks } from './fixtures/trace-pool-tasks.js';

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
}

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
      await until(() => exporter.spans.length + (rt.metrics().tracing as { pending: number }).pending >= 7);
      await tracerOf(rt)!.flush();

      const request = exporter.byName('request');
      for (const s of exporter.spans) expect(s.traceId).toBe(request.traceId);
      expect(exporter.byName('leaf 1').parentSpanId).toBe(request.spanId);
      expect(exporter.byName('pair 2').parentSpanId).toBe(request.spanId);
      expect(exporter.byName('leaf 3').parentSpanId).toBe(exporter.byName('other').spanId);
      // Halves of the join: the one run inline is a child of 'pair 2'; one a thief stole
      // carries the record's context (the exec caller, 'request').
      const pair = exporter.byName('pair 2');
      for (const name of ['leaf 21', 'leaf 22']) expect([pair.spanId, request.spanId]).toContain(exporter.byName(name).parentSpanId);
      expect(exporter.byName('leaf 21').parentSpanId).toBe(pair.spanId); // side a always runs inline

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
