import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/index.js';
import { SpanBuffer } from '../../src/trace/buffer.js';
import { installTracing, span, type SpanData, type SpanExporter } from '../../src/trace/index.js';
import { deferred } from '../helpers.js';

function fakeSpan(i: number): SpanData {
  return {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: (i + 1).toString(16).padStart(16, '0'),
    parentSpanId: undefined,
    name: `s${i}`,
    kind: 'internal',
    startTime: 0,
    endTime: 0,
    attributes: {},
    events: [],
    status: { code: 'unset' },
    threadId: 0,
    threadName: 'main',
  };
}

/** An exporter whose first export hangs until released. */
function stalledExporter() {
  const gate = deferred();
  const batches: number[] = [];
  const exporter: SpanExporter = {
    async export(spans) {
      batches.push(spans.length);
      await gate.promise;
    },
  };
  return { exporter, batches, release: () => gate.resolve() };
}

describe('span buffer', () => {
  it('drops and counts spans once full while the exporter is stalled, never holds more than its capacity', async () => {
    const { exporter, batches, release } = stalledExporter();
    const buffer = new SpanBuffer(exporter, { capacity: 16, batchSize: 8, flushIntervalMs: 0 });
    for (let i = 0; i < 8; i++) buffer.push(fakeSpan(i));
    const firstFlush = buffer.flush(); // one batch of 8 in flight, stalled
    expect(batches).toEqual([8]);
    for (let i = 8; i < 1008; i++) {
      buffer.push(fakeSpan(i));
      expect(buffer.metrics().pending).toBeLessThanOrEqual(16);
    }
    expect(buffer.metrics()).toMatchObject({ accepted: 24, dropped: 984, pending: 16, exported: 0 });
    release();
    await firstFlush;
    await buffer.flush();
    expect(batches).toEqual([8, 8, 8]);
    expect(buffer.metrics()).toMatchObject({ accepted: 24, dropped: 984, pending: 0, exported: 24, exportErrors: 0 });
    await buffer.close();
    buffer.push(fakeSpan(0));
    expect(buffer.metrics().dropped).toBe(985); // closed: dropped too
  });

  it('exports on its own once a batch is full', async () => {
    const seen: number[] = [];
    const buffer = new SpanBuffer({ export: (s) => void seen.push(s.length) }, { capacity: 64, batchSize: 4, flushIntervalMs: 0 });
    for (let i = 0; i < 4; i++) buffer.push(fakeSpan(i));
    expect(seen).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([4]);
    await buffer.close();
  });

  it('counts exporter failures without throwing into traced code', async () => {
    const buffer = new SpanBuffer({ export: () => { throw new Error('down'); } }, { capacity: 8, batchSize: 8, flushIntervalMs: 0 });
    buffer.push(fakeSpan(0));
    await buffer.flush();
    expect(buffer.metrics()).toMatchObject({ exportErrors: 1, exported: 0 });
    expect((buffer.lastError as Error).message).toBe('down');
    await buffer.close();
  });

  it('bounds a runtime tracer under overload and shows the drops in rt.metrics()', async () => {
    const { exporter, release } = stalledExporter();
    const rt = Runtime.builder().build();
    installTracing(rt, { exporter, capacity: 32, batchSize: 16, flushIntervalMs: 0 });
    await rt.run(async () => {
      for (let i = 0; i < 16; i++) span('first', () => undefined);
      await new Promise((r) => setImmediate(r)); // the first batch goes out and stalls
      for (let i = 0; i < 5000; i++) span('flood', () => undefined);
    });
    const m = rt.metrics().tracing as { accepted: number; dropped: number; pending: number; started: number };
    expect(m.started).toBe(5016);
    expect(m.pending).toBeLessThanOrEqual(32);
    expect(m.dropped).toBe(5016 - m.accepted);
    expect(m.dropped).toBeGreaterThan(4900);
    release();
    await rt.shutdown();
  });
});
