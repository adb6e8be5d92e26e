import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/index.js';
import { extractTraceparent, formatTraceparent, injectTraceparent, installTracing, parseTraceparent, runWithTraceContext, span } from '../../src/trace/index.js';
import { MemoryExporter } from './memory-exporter.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const VALID = `00-${TRACE}-${SPAN}-01`;

describe('traceparent', () => {
  it('parses a valid header and formats it back', () => {
    const ctx = parseTraceparent(VALID)!;
    expect(ctx).toEqual({ traceId: TRACE, spanId: SPAN, sampled: true, remote: true });
    expect(formatTraceparent(ctx)).toBe(VALID);
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)!.sampled).toBe(false);
    // Other flag bits are ignored; only bit 0 is `sampled`.
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-03`)!.sampled).toBe(true);
  });

  it('accepts a future version with extra fields after the flags', () => {
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01-whatever`)?.traceId).toBe(TRACE);
    expect(parseTraceparent(`cc-${TRACE}-${SPAN}-01`)?.traceId).toBe(TRACE);
  });

  it.each([
    ['empty', ''],
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['uppercase trace id', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['uppercase span id', `00-${TRACE}-${SPAN.toUpperCase()}-01`],
    ['uppercase version', `0A-${TRACE}-${SPAN}-01`],
    ['uppercase flags', `00-${TRACE}-${SPAN}-0A`],
    ['short trace id', `00-${TRACE.slice(1)}-${SPAN}-01`],
    ['long trace id', `00-${TRACE}0-${SPAN}-01`],
    ['short span id', `00-${TRACE}-${SPAN.slice(1)}-01`],
    ['long span id', `00-${TRACE}-${SPAN}0-01`],
    ['short version', `0-${TRACE}-${SPAN}-01`],
    ['short flags', `00-${TRACE}-${SPAN}-1`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['all-zero span id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['version 00 with extra data', `${VALID}-extra`],
    ['non-hex character', `00-${TRACE.slice(0, 31)}g-${SPAN}-01`],
    ['wrong separator', `00_${TRACE}-${SPAN}-01`],
    ['leading space', ` ${VALID}`],
    ['trailing space', `${VALID} `],
    ['two headers joined', `${VALID}, ${VALID}`],
  ])('rejects %s', (_what, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
    expect(extractTraceparent({ traceparent: value })).toBeUndefined();
  });

  it('extracts from plain objects, Headers and arrays; rejects duplicates', () => {
    expect(extractTraceparent({ traceparent: VALID })?.spanId).toBe(SPAN);
    expect(extractTraceparent({ TraceParent: VALID })?.spanId).toBe(SPAN);
    expect(extractTraceparent(new Headers({ traceparent: VALID }))?.spanId).toBe(SPAN);
    expect(extractTraceparent({ traceparent: [VALID] })?.spanId).toBe(SPAN);
    expect(extractTraceparent({ traceparent: [VALID, VALID] })).toBeUndefined();
    expect(extractTraceparent({})).toBeUndefined();
  });

  it('round-trips: inject in one span, extract and continue in another runtime', async () => {
    const client = Runtime.builder().build();
    const server = Runtime.builder().build();
    const clientSpans = new MemoryExporter();
    const serverSpans = new MemoryExporter();
    installTracing(client, { exporter: clientSpans, flushIntervalMs: 0 });
    installTracing(server, { exporter: serverSpans, flushIntervalMs: 0 });

    const headers = await client.run(() =>
      span('call', () => {
        const plain = injectTraceparent({ accept: 'text/plain' } as Record<string, string>);
        const web = injectTraceparent(new Headers());
        expect(web.get('traceparent')).toBe(plain.traceparent);
        const node: Record<string, string> = {};
        injectTraceparent({ setHeader: (k: string, v: string) => (node[k] = v) });
        expect(node.traceparent).toBe(plain.traceparent);
        return plain;
      }),
    );
    expect(injectTraceparent({})).toEqual({}); // no current span: nothing written
    await server.run(() => runWithTraceContext(extractTraceparent(headers), () => span('handle', () => undefined, { kind: 'server' })));
    await Promise.all([client.shutdown(), server.shutdown()]);

    const call = clientSpans.byName('call');
    const handle = serverSpans.byName('handle');
    expect(headers.traceparent).toBe(`00-${call.traceId}-${call.spanId}-01`);
    expect(handle.traceId).toBe(call.traceId);
    expect(handle.parentSpanId).toBe(call.spanId);
    expect(handle.kind).toBe('server');
  });
});
