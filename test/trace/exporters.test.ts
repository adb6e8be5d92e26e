import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/index.js';
import {
  ChromeExporter,
  ConsoleExporter,
  JsonlExporter,
  OtlpExporter,
  formatSpanTree,
  installTracing,
  msToUnixNano,
  span,
  toChromeEvents,
  toOtlpBody,
  tracerOf,
  type ChromeTraceEvent,
  type OtlpTraceBody,
  type SpanData,
} from '../../src/trace/index.js';

const dir = mkdtempSync(join(tmpdir(), 'zokio-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Synthetic spans: a root on the main thread, children on workers 3 and 4 (the pool's lanes). */
function synthetic(): SpanData[] {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const base = 1_700_000_000_000;
  const make = (spanId: string, parentSpanId: string | undefined, name: string, threadId: number, start: number, end: number): SpanData => ({
    traceId,
    spanId,
    parentSpanId,
    name,
    kind: 'internal',
    startTime: base + start,
    endTime: base + end,
    attributes: { n: start },
    events: [],
    status: { code: 'unset' },
    threadId,
    threadName: threadId === 0 ? 'main' : `worker ${threadId}`,
  });
  return [
    make('a000000000000001', undefined, 'exec fib', 0, 0, 10.5),
    make('a000000000000002', 'a000000000000001', 'fib 30', 3, 1, 9),
    make('a000000000000003', 'a000000000000002', 'fib 29', 3, 1.25, 5),
    make('a000000000000004', 'a000000000000002', 'fib 28', 4, 1.5, 4.75),
  ];
}

describe('chrome exporter', () => {
  it('makes X events in µs with pid, one tid per thread and thread_name metadata', () => {
    const events = toChromeEvents(synthetic(), { pid: 42 });
    const meta = events.filter((e) => e.ph === 'M');
    const complete = events.filter((e) => e.ph === 'X');
    expect(meta.find((e) => e.name === 'process_name')?.args).toEqual({ name: 'zokio' });
    const names = meta.filter((e) => e.name === 'thread_name').map((e) => [e.tid, (e.args as { name: string }).name]);
    expect(names).toEqual([[0, 'main'], [3, 'worker 3'], [4, 'worker 4']]);
    expect(complete).toHaveLength(4);
    expect(new Set(complete.map((e) => e.tid))).toEqual(new Set([0, 3, 4]));
    const root = complete[0]!;
    expect(root).toMatchObject({ name: 'exec fib', ph: 'X', pid: 42, tid: 0, ts: 1_700_000_000_000_000, dur: 10_500 });
    expect(complete[3]).toMatchObject({ ts: 1_700_000_000_001_500, dur: 3250, tid: 4 });
    expect(complete[1]!.args).toMatchObject({ parentSpanId: 'a000000000000001', traceId: '4bf92f3577b34da6a3ce929d0e0e4736' });
    for (const e of events) expect(e.pid).toBe(42);
  });

  it('writes a file that parses as a Trace Event array, across batches', async () => {
    const path = join(dir, 'nested', 'trace.json');
    const exporter = new ChromeExporter({ path, pid: 7 });
    const spans = synthetic();
    exporter.export(spans.slice(0, 2));
    exporter.export([]);
    exporter.export(spans.slice(2));
    exporter.shutdown();
    const events = JSON.parse(readFileSync(path, 'utf8')) as ChromeTraceEvent[];
    expect(events.filter((e) => e.ph === 'X')).toHaveLength(4);
    const lanes = events.filter((e) => e.name === 'thread_name').map((e) => e.tid);
    expect(lanes).toEqual([0, 3, 4]); // each lane named once
  });

  it('is what .tracing({ exporter: "chrome", path }) writes at shutdown', async () => {
    const path = join(dir, 'rt-trace.json');
    const rt = Runtime.builder().tracing({ exporter: 'chrome', path }).build();
    await rt.run(() => span('a', () => span('b', () => 1)));
    await rt.shutdown();
    const events = JSON.parse(readFileSync(path, 'utf8')) as ChromeTraceEvent[];
    expect(events.filter((e) => e.ph === 'X').map((e) => e.name).sort()).toEqual(['a', 'b']);
  });

  it('writes a valid file even when no span was recorded', async () => {
    const path = join(dir, 'empty.json');
    const exporter = new ChromeExporter({ path });
    exporter.shutdown();
    expect(JSON.parse(readFileSync(path, 'utf8'))).toHaveLength(1); // process_name only
  });
});

describe('console exporter', () => {
  it('prints an indented tree per trace with durations', () => {
    const text = formatSpanTree(synthetic());
    expect(text.split('\n').slice(0, 5)).toEqual([
      'trace 4bf92f3577b34da6a3ce929d0e0e4736',
      '  exec fib 10.500 ms n=0',
      '    fib 30 8.000 ms (worker 3) n=1',
      '      fib 29 3.750 ms (worker 3) n=1.25',
      '      fib 28 3.250 ms (worker 4) n=1.5',
    ]);
    const out: string[] = [];
    new ConsoleExporter({ write: (t) => void out.push(t) }).export(synthetic());
    expect(out.join('')).toBe(text);
  });
});

describe('jsonl exporter', () => {
  it('writes one JSON object per span per line', async () => {
    const path = join(dir, 'spans.jsonl');
    const rt = Runtime.builder().tracing({ exporter: 'jsonl', path }).build();
    await rt.run(() => span('outer', () => span('inner', () => undefined, { attributes: { q: 'x' } })));
    await rt.shutdown();
    const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.name)).toEqual(['inner', 'outer']);
    expect(lines[0]).toMatchObject({ parentSpanId: lines[1]!.spanId, attributes: { q: 'x' }, status: { code: 'unset' }, threadName: 'main' });
    expect(typeof lines[0]!.durationMs).toBe('number');
    // A second exporter on the same path starts over.
    const again = new JsonlExporter({ path });
    again.export(synthetic().slice(0, 1));
    again.shutdown();
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(1);
  });
});

describe('otlp exporter', () => {
  it('builds resourceSpans → scopeSpans → spans with the required fields', () => {
    const spans = synthetic();
    const withError: SpanData = {
      ...spans[1]!,
      kind: 'server',
      status: { code: 'error', message: 'bad' },
      attributes: { s: 'x', i: 3, d: 1.5, b: true, arr: ['p', 'q'] },
      events: [{ name: 'exception', time: 1_700_000_000_002.25, attributes: { 'exception.message': 'bad' } }],
    };
    const body = toOtlpBody([spans[0]!, withError], { serviceName: 'checkout' });
    const rs = body.resourceSpans[0]!;
    expect(rs.resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'checkout' } });
    const [root, child] = rs.scopeSpans[0]!.spans;
    expect(rs.scopeSpans[0]!.scope.name).toBe('zokio');
    expect(root).toMatchObject({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: 'a000000000000001',
      parentSpanId: '',
      name: 'exec fib',
      kind: 1,
      startTimeUnixNano: '1700000000000000000',
      endTimeUnixNano: '1700000000010500000',
      status: { code: 0 },
    });
    expect(child).toMatchObject({ parentSpanId: 'a000000000000001', kind: 2, status: { code: 2, message: 'bad' } });
    expect(child!.attributes).toEqual(
      expect.arrayContaining([
        { key: 's', value: { stringValue: 'x' } },
        { key: 'i', value: { intValue: '3' } },
        { key: 'd', value: { doubleValue: 1.5 } },
        { key: 'b', value: { boolValue: true } },
        { key: 'arr', value: { arrayValue: { values: [{ stringValue: 'p' }, { stringValue: 'q' }] } } },
        { key: 'thread.id', value: { intValue: '3' } },
      ]),
    );
    expect(child!.events).toEqual([{ timeUnixNano: '1700000000002250000', name: 'exception', attributes: [{ key: 'exception.message', value: { stringValue: 'bad' } }] }]);
    for (const s of [root!, child!]) {
      expect(typeof s.startTimeUnixNano).toBe('string');
      expect(typeof s.endTimeUnixNano).toBe('string');
    }
    expect(msToUnixNano(1_700_000_000_000.5)).toBe('1700000000000500000');
  });

  it('POSTs the body to a collector on 127.0.0.1 and counts a failing collector', async () => {
    const received: { url: string | undefined; type: string | undefined; body: OtlpTraceBody }[] = [];
    let answer = 200;
    const server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ url: req.url, type: req.headers['content-type'], body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpTraceBody });
        res.statusCode = answer;
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const url = `http://127.0.0.1:${port}/v1/traces`;
      const rt = Runtime.builder().tracing({ exporter: 'otlp', path: url }).build();
      await rt.run(() => span('order', () => span('pay', () => undefined)));
      await tracerOf(rt)!.flush();
      expect(received).toHaveLength(1);
      expect(received[0]!.url).toBe('/v1/traces');
      expect(received[0]!.type).toBe('application/json');
      const spans = received[0]!.body.resourceSpans[0]!.scopeSpans[0]!.spans;
      expect(spans.map((s) => s.name)).toEqual(['pay', 'order']);
      expect(spans[0]!.parentSpanId).toBe(spans[1]!.spanId);

      answer = 503;
      await rt.run(() => span('lost', () => undefined));
      await rt.shutdown();
      expect(received).toHaveLength(2);
      expect(rt.metrics().tracing).toMatchObject({ exported: 2, exportErrors: 1 });

      // A collector that is not there: the error is counted, nothing throws.
      server.close();
      const exporter = new OtlpExporter({ url: `http://127.0.0.1:${port}/v1/traces`, timeoutMs: 2000 });
      const rt2 = Runtime.builder().build();
      installTracing(rt2, { exporter, flushIntervalMs: 0 });
      await rt2.run(() => span('nowhere', () => undefined));
      await rt2.shutdown();
      expect(rt2.metrics().tracing).toMatchObject({ exportErrors: 1, exported: 0 });
    } finally {
      server.close();
    }
  });
});
