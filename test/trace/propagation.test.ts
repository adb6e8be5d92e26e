import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/index.js';
import { captureTraceContext, installTracing, runWithTraceContext, serverSpan, span, tracerOf, type TraceContext } from '../../src/trace/index.js';
import { MemoryExporter, collectSpans } from './memory-exporter.js';

const WORKER = new URL('./fixtures/trace-worker.mjs', import.meta.url);

describe('trace context propagation', () => {
  it('captures nothing outside a span or with tracing off', async () => {
    expect(captureTraceContext()).toBeUndefined();
    const rt = Runtime.builder().build();
    await rt.run(() => span('x', () => expect(captureTraceContext()).toBeUndefined()));
    expect(runWithTraceContext(undefined, () => 3)).toBe(3);
    expect(runWithTraceContext({ traceparent: 'garbage' }, () => 4)).toBe(4);
    await rt.shutdown();
  });

  it('continues the trace on the same thread from a captured context', async () => {
    const rt = Runtime.builder().build();
    const exporter = new MemoryExporter();
    installTracing(rt, { exporter, flushIntervalMs: 0 });
    const ctx = await rt.run(() => span('submit', () => captureTraceContext()!));
    expect(ctx.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    runWithTraceContext(ctx, () => span('later, outside the runtime', () => undefined));
    await rt.shutdown();
    expect(exporter.byName('later, outside the runtime').parentSpanId).toBe(exporter.byName('submit').spanId);
  });

  it('spans in another thread join the caller trace and come back to its tracer, nested too', async () => {
    const rt = Runtime.builder().build();
    const exporter = new MemoryExporter();
    installTracing(rt, { exporter, flushIntervalMs: 0 });
    const worker = new Worker(WORKER);
    try {
      const reply = new Promise<{ value: number; inner: TraceContext }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      await rt.run(() => span('exec', () => worker.postMessage({ id: 1, trace: captureTraceContext(), depth: 2 })));
      const { value, inner } = await reply;
      expect(value).toBe(3);
      await collectSpans(rt, exporter, 5);

      const exec = exporter.byName('exec');
      const job = exporter.byName('job');
      expect(job.traceId).toBe(exec.traceId);
      expect(job.parentSpanId).toBe(exec.spanId);
      expect(job.threadId).not.toBe(0);
      expect(job.threadName).toBe(`worker ${job.threadId}`);
      expect(exporter.byName('work 2').parentSpanId).toBe(job.spanId);
      expect(exporter.byName('work 1').parentSpanId).toBe(exporter.byName('work 2').spanId);
      expect(exporter.byName('work 0').parentSpanId).toBe(exporter.byName('work 1').spanId);
      // A context captured inside the worker (a nested fork) points at the worker span and
      // still sends spans to the caller's tracer.
      expect(inner.traceparent).toBe(`00-${job.traceId}-${job.spanId}-01`);
      expect(inner.sink).toBeDefined();
      expect(rt.metrics().tracing).toMatchObject({ fromWorkers: 4 });
    } finally {
      await worker.terminate();
      await rt.shutdown();
    }
  });

  it('a worker job without context records nothing', async () => {
    const rt = Runtime.builder().build();
    const exporter = new MemoryExporter();
    installTracing(rt, { exporter, flushIntervalMs: 0 });
    const worker = new Worker(WORKER);
    try {
      const reply = new Promise<{ value: number }>((resolve) => worker.once('message', resolve));
      worker.postMessage({ id: 1, trace: undefined, depth: 1 });
      expect((await reply).value).toBe(2);
      await tracerOf(rt)!.flush();
      expect(exporter.spans).toEqual([]);
    } finally {
      await worker.terminate();
      await rt.shutdown();
    }
  });

  it('serverSpan continues an incoming traceparent as a server span', async () => {
    const rt = Runtime.builder().build();
    const exporter = new MemoryExporter();
    installTracing(rt, { exporter, flushIntervalMs: 0 });
    await rt.run(async () => {
      await serverSpan('GET /a', { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }, async () => span('db', () => 1));
      await serverSpan('GET /b', { traceparent: 'bogus' }, () => undefined);
    });
    await rt.shutdown();
    const a = exporter.byName('GET /a');
    expect(a).toMatchObject({ kind: 'server', traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentSpanId: '00f067aa0ba902b7' });
    expect(exporter.byName('db').parentSpanId).toBe(a.spanId);
    expect(exporter.byName('GET /b').parentSpanId).toBeUndefined();
  });
});
