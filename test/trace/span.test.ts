import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/index.js';
import {
  currentSpan,
  installTracing,
  neverSampler,
  span,
  tracerOf,
  type Span,
} from '../../src/trace/index.js';
import { MemoryExporter } from './memory-exporter.js';

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

function traced(): { rt: ReturnType<typeof build>; exporter: MemoryExporter } {
  const rt = build();
  const exporter = new MemoryExporter();
  installTracing(rt, { exporter, flushIntervalMs: 0 });
  return { rt, exporter };
}
function build() {
  return Runtime.builder().build();
}

describe('span', () => {
  it('records ids, parent, attributes, events and status', async () => {
    const { rt, exporter } = traced();
    const value = await rt.run(() =>
      span(
        'outer',
        async (outer) => {
          outer.setAttribute('k', 'v').addEvent('started', { n: 1 });
          const inner = span('inner', (s) => {
            expect(currentSpan()).toBe(s);
            s.setStatus('ok');
            return s.spanId;
          });
          expect(currentSpan()).toBe(outer);
          return inner;
        },
        { attributes: { 'user.id': 7 } },
      ),
    );
    await rt.shutdown();
    const outer = exporter.byName('outer');
    const inner = exporter.byName('inner');
    expect(inner.spanId).toBe(value);
    expect(outer.traceId).toMatch(HEX32);
    expect(outer.spanId).toMatch(HEX16);
    expect(outer.parentSpanId).toBeUndefined();
    expect(inner.traceId).toBe(outer.traceId);
    expect(inner.parentSpanId).toBe(outer.spanId);
    expect(outer.attributes).toEqual({ 'user.id': 7, k: 'v' });
    expect(outer.events.map((e) => [e.name, e.attributes])).toEqual([['started', { n: 1 }]]);
    expect(inner.status).toEqual({ code: 'ok' });
    expect(outer.status).toEqual({ code: 'unset' });
    expect(outer.endTime).toBeGreaterThanOrEqual(outer.startTime);
    expect(outer.threadId).toBe(0);
    expect(exporter.shutdowns).toBe(1);
  });

  it('marks a span that throws as error, records the exception and rethrows it (sync and async)', async () => {
    const { rt, exporter } = traced();
    const boom = new Error('boom');
    await rt.run(async () => {
      expect(() => span('sync', () => { throw boom; })).toThrow(boom);
      await expect(span('async', async () => { throw boom; })).rejects.toBe(boom);
    });
    await rt.shutdown();
    for (const name of ['sync', 'async']) {
      const s = exporter.byName(name);
      expect(s.status).toEqual({ code: 'error', message: 'boom' });
      expect(s.events[0]!.name).toBe('exception');
      expect(s.events[0]!.attributes).toMatchObject({ 'exception.type': 'Error', 'exception.message': 'boom' });
    }
  });

  it('gives tasks spawned inside a span that span as parent', async () => {
    const { rt, exporter } = traced();
    await rt.run(() =>
      span('parent', async () => {
        const a = rt.spawn(() => span('child a', () => 1));
        const b = rt.spawn(async () => {
          await new Promise((r) => setImmediate(r));
          return span('child b', async () => {
            await Promise.resolve();
            return span('grandchild', () => 2);
          });
        });
        await Promise.all([a, b]);
      }),
    );
    // A task spawned outside any span starts a new trace.
    await rt.run(() => rt.spawn(() => span('lonely', () => 0)));
    await rt.shutdown();
    const parent = exporter.byName('parent');
    expect(exporter.byName('child a').parentSpanId).toBe(parent.spanId);
    expect(exporter.byName('child b').parentSpanId).toBe(parent.spanId);
    expect(exporter.byName('grandchild').parentSpanId).toBe(exporter.byName('child b').spanId);
    expect(exporter.byName('grandchild').traceId).toBe(parent.traceId);
    expect(exporter.byName('lonely').parentSpanId).toBeUndefined();
    expect(exporter.byName('lonely').traceId).not.toBe(parent.traceId);
  });

  it('gives scope children, and scopes nested in them, the right parent', async () => {
    const { rt, exporter } = traced();
    await rt.run(() =>
      span('request', () =>
        rt.scope(async (s) => {
          s.spawn(() => span('fetch a', () => 'a'));
          s.spawn(() =>
            span('fetch b', () =>
              rt.scope(async (inner) => {
                inner.spawn(() => span('parse b', () => 'b'));
              }),
            ),
          );
        }),
      ),
    );
    await rt.shutdown();
    const request = exporter.byName('request');
    expect(exporter.byName('fetch a').parentSpanId).toBe(request.spanId);
    expect(exporter.byName('fetch b').parentSpanId).toBe(request.spanId);
    expect(exporter.byName('parse b').parentSpanId).toBe(exporter.byName('fetch b').spanId);
    expect(new Set(exporter.spans.map((s) => s.traceId)).size).toBe(1);
  });

  it('keeps concurrent sibling spans apart', async () => {
    const { rt, exporter } = traced();
    await rt.run(async () => {
      await Promise.all(
        [0, 1, 2, 3].map((i) =>
          span(`root ${i}`, async () => {
            await new Promise((r) => setImmediate(r));
            await span(`leaf ${i}`, async () => Promise.resolve());
          }),
        ),
      );
    });
    await rt.shutdown();
    for (const i of [0, 1, 2, 3]) {
      expect(exporter.byName(`leaf ${i}`).parentSpanId).toBe(exporter.byName(`root ${i}`).spanId);
    }
  });

  it('with tracing off calls fn directly with a non-recording span', async () => {
    const rt = Runtime.builder().build();
    let seen: Span | undefined;
    const out = await rt.run(() =>
      span('x', (s) => {
        seen = s;
        return currentSpan();
      }),
    );
    expect(out).toBeUndefined();
    expect(seen!.isRecording).toBe(false);
    expect(tracerOf(rt)).toBeUndefined();
    expect(span('outside', () => 5)).toBe(5);
    await rt.shutdown();
  });

  it('does not trace a runtime without a tracer while another runtime traces', async () => {
    const { rt, exporter } = traced();
    const plain = Runtime.builder().build();
    await plain.run(() => span('untraced', (s) => expect(s.isRecording).toBe(false)));
    await rt.run(() => span('traced', () => undefined));
    await Promise.all([rt.shutdown(), plain.shutdown()]);
    expect(exporter.spans.map((s) => s.name)).toEqual(['traced']);
  });

  it('propagates context but exports nothing when not sampled', async () => {
    const rt = Runtime.builder().build();
    const exporter = new MemoryExporter();
    installTracing(rt, { exporter, sampler: neverSampler, flushIntervalMs: 0 });
    await rt.run(() =>
      span('root', (root) => {
        expect(root.isRecording).toBe(false);
        span('child', (child) => {
          expect(child.traceId).toBe(root.traceId);
          expect(child.parentSpanId).toBe(root.spanId);
          expect(child.sampled).toBe(false);
        });
      }),
    );
    const metrics = rt.metrics().tracing as { started: number; notSampled: number };
    expect(metrics).toMatchObject({ started: 2, notSampled: 2 });
    await rt.shutdown();
    expect(exporter.spans).toEqual([]);
  });

  it('builds the tracer from the config and reports it in rt.metrics()', async () => {
    const rt = Runtime.builder().tracing({ exporter: 'console', sampleRatio: 0 }).build();
    const tracer = tracerOf(rt)!;
    expect(tracer.sampler.description).toBe('parent-based(ratio(0))');
    await rt.run(() => span('dropped by ratio 0', () => 1));
    expect(rt.metrics().tracing).toMatchObject({ started: 1, notSampled: 1, dropped: 0 });
    await rt.shutdown();
  });
});
