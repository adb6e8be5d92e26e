import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/index.js';
import { alwaysSampler, installTracing, neverSampler, parentBasedSampler, ratioSampler, runWithTraceContext, span } from '../../src/trace/index.js';
import { randomTraceId } from '../../src/trace/ids.js';
import { MemoryExporter } from './memory-exporter.js';

describe('samplers', () => {
  it('always and never', () => {
    expect(alwaysSampler.shouldSample(randomTraceId(), undefined, 'x')).toBe(true);
    expect(neverSampler.shouldSample(randomTraceId(), undefined, 'x')).toBe(false);
  });

  it('ratio decides from the trace id, deterministically, near the ratio', () => {
    const sampler = ratioSampler(0.25);
    const ids = Array.from({ length: 4000 }, randomTraceId);
    const picked = ids.filter((id) => sampler.shouldSample(id, undefined, 'x'));
    for (const id of ids.slice(0, 50)) expect(sampler.shouldSample(id, undefined, 'y')).toBe(picked.includes(id));
    // 4000 draws at p = 0.25: mean 1000, sd ≈ 27; ± 200 is more than 7 sd.
    expect(picked.length).toBeGreaterThan(800);
    expect(picked.length).toBeLessThan(1200);
    expect(sampler.shouldSample('00000000000000000000000000000000'.slice(0, 24) + '00000001', undefined, 'x')).toBe(true);
    expect(sampler.shouldSample('0'.repeat(24) + 'ffffffff', undefined, 'x')).toBe(false);
    expect(ratioSampler(1).shouldSample(ids[0]!, undefined, 'x')).toBe(true);
    expect(ratioSampler(0).shouldSample(ids[0]!, undefined, 'x')).toBe(false);
    expect(() => ratioSampler(1.5)).toThrow(RangeError);
    expect(() => ratioSampler(Number.NaN)).toThrow(RangeError);
  });

  it('parent-based follows the parent and asks its root for new traces', () => {
    const sampler = parentBasedSampler(neverSampler);
    const traceId = randomTraceId();
    expect(sampler.shouldSample(traceId, undefined, 'x')).toBe(false);
    expect(sampler.shouldSample(traceId, { traceId, spanId: 'aaaaaaaaaaaaaaaa', sampled: true }, 'x')).toBe(true);
    expect(parentBasedSampler(alwaysSampler).shouldSample(traceId, { traceId, spanId: 'aaaaaaaaaaaaaaaa', sampled: false }, 'x')).toBe(false);
  });

  it('a remote sampled parent is recorded under a parent-based never root', async () => {
    const rt = Runtime.builder().build();
    const exporter = new MemoryExporter();
    installTracing(rt, { exporter, sampler: parentBasedSampler(neverSampler), flushIntervalMs: 0 });
    await rt.run(async () => {
      span('new trace', () => undefined);
      runWithTraceContext({ traceparent: `00-${randomTraceId()}-00f067aa0ba902b7-01` }, () => span('continued', () => undefined));
      runWithTraceContext({ traceparent: `00-${randomTraceId()}-00f067aa0ba902b7-00` }, () => span('not sampled upstream', () => undefined));
    });
    await rt.shutdown();
    expect(exporter.spans.map((s) => s.name)).toEqual(['continued']);
    expect(exporter.spans[0]!.parentSpanId).toBe('00f067aa0ba902b7');
  });

  it('.tracing({ sampleRatio }) records about that fraction of root traces, children follow', async () => {
    const rt = Runtime.builder().tracing({ exporter: 'console', sampleRatio: 0.5 }).build();
    const exporter = new MemoryExporter();
    // Keep the config's sampler, swap in a memory exporter.
    const sampler = (await import('../../src/trace/index.js')).tracerOf(rt)!.sampler;
    expect(sampler.description).toBe('parent-based(ratio(0.5))');
    installTracing(rt, { exporter, sampler, flushIntervalMs: 0, capacity: 10_000 });
    await rt.run(() => {
      for (let i = 0; i < 1000; i++) span('root', () => span('child', () => undefined));
    });
    await rt.shutdown();
    const roots = exporter.spans.filter((s) => s.name === 'root');
    const children = exporter.spans.filter((s) => s.name === 'child');
    expect(roots.length).toBeGreaterThan(350);
    expect(roots.length).toBeLessThan(650);
    expect(children.length).toBe(roots.length);
  });
});
