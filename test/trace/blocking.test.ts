import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/index.js';
import { installTracing, span, toChromeEvents } from '../../src/trace/index.js';
import { MemoryExporter, collectSpans } from './memory-exporter.js';
import { tasks } from './fixtures/trace-pool-tasks.js';

describe('trace context across the blocking pool', () => {
  it('a span opened in a spawnBlocking task is a child of the caller span, on a blocking-thread lane', async () => {
    const rt = Runtime.builder().workers(1).blockingThreads(1).build();
    const exporter = new MemoryExporter();
    installTracing(rt, { exporter, flushIntervalMs: 0 });
    try {
      expect(await rt.run(() => span('caller', () => rt.spawnBlocking(tasks.leaf, 7)))).toBe(7);
      await collectSpans(rt, exporter, 2);
      const caller = exporter.byName('caller');
      const leaf = exporter.byName('leaf 7');
      expect(leaf.traceId).toBe(caller.traceId);
      expect(leaf.parentSpanId).toBe(caller.spanId);
      expect(leaf.attributes).toEqual({ leaf: 7 });
      expect(leaf.threadName).toMatch(/^blocking thread \d+$/);
      expect(leaf.threadId).not.toBe(0);
      const lanes = toChromeEvents(exporter.spans).filter((e) => e.name === 'thread_name').map((e) => e.tid);
      expect(new Set(lanes).size).toBe(2);

      // The same thread, next job without a span: the previous job's context is gone.
      expect(await rt.run(() => rt.spawnBlocking(tasks.untraced, 5))).toBe(5);
    } finally {
      await rt.shutdown();
    }
  });
});
