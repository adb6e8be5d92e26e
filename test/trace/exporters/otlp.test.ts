import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, Runtime } from '../../../src/index.js';
import { span, tracerOf, type OtlpTraceBody } from '../../../src/trace/index.js';
import { otlpAnyValue } from '../../../src/trace/exporters/otlp.js';

const dir = mkdtempSync(join(tmpdir(), 'zokio-otlp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bodies(path: string): OtlpTraceBody[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as OtlpTraceBody);
}

describe('otlp exporter: file path and service name', () => {
  it('writes one request body per line to a file path, with the configured service.name', async () => {
    const path = join(dir, 'spans.otlp.jsonl');
    const rt = Runtime.builder().tracing({ exporter: 'otlp', path, serviceName: 'checkout' }).build();
    await rt.run(() => span('order', () => span('pay', () => undefined)));
    await tracerOf(rt)!.flush();
    await rt.run(() => span('ship', () => undefined));
    await rt.shutdown();
    const written = bodies(path);
    expect(written.length).toBe(2);
    for (const body of written) expect(body.resourceSpans[0]!.resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'checkout' } });
    const names = written.flatMap((b) => b.resourceSpans[0]!.scopeSpans[0]!.spans.map((s) => s.name));
    expect(names).toEqual(['pay', 'order', 'ship']);
  });

  it('keeps zokio as the default service.name and rejects an empty one', async () => {
    const path = join(dir, 'default.jsonl');
    const rt = Runtime.builder().tracing({ exporter: 'otlp', path }).build();
    await rt.run(() => span('x', () => undefined));
    await rt.shutdown();
    expect(bodies(path)[0]!.resourceSpans[0]!.resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'zokio' } });
    expect(() => Runtime.builder().tracing({ exporter: 'otlp', serviceName: '' }).build()).toThrow(ConfigError);
  });
});

describe('otlp attribute values (OTLP/JSON mapping)', () => {
  it('encodes int64-range integers as intValue strings and other numbers as doubleValue', () => {
    expect(otlpAnyValue(3)).toEqual({ intValue: '3' });
    expect(otlpAnyValue(-0)).toEqual({ intValue: '0' });
    expect(otlpAnyValue(2 ** 60)).toEqual({ intValue: '1152921504606846976' });
    expect(otlpAnyValue(1e21)).toEqual({ doubleValue: 1e21 }); // beyond int64: never an out-of-range intValue
    expect(otlpAnyValue(-(2 ** 63))).toEqual({ intValue: '-9223372036854775808' });
    expect(otlpAnyValue(2 ** 63)).toEqual({ doubleValue: 2 ** 63 });
    expect(otlpAnyValue(1.5)).toEqual({ doubleValue: 1.5 });
    expect(otlpAnyValue(12n)).toEqual({ intValue: '12' });
    expect(otlpAnyValue(2n ** 70n)).toEqual({ stringValue: '1180591620717411303424' });
  });

  it('writes NaN and the infinities as the protobuf JSON strings, never null', () => {
    const encoded = JSON.stringify([otlpAnyValue(NaN), otlpAnyValue(Infinity), otlpAnyValue(-Infinity), otlpAnyValue([1, NaN])]);
    expect(encoded).not.toContain('null');
    expect(JSON.parse(encoded)).toEqual([{ doubleValue: 'NaN' }, { doubleValue: 'Infinity' }, { doubleValue: '-Infinity' }, { arrayValue: { values: [{ doubleValue: 1 }, { doubleValue: 'NaN' }] } }]);
  });

  it('keeps arrays homogeneous: numbers with a fraction all double, mixed types stringified, null elements empty', () => {
    expect(otlpAnyValue([1, 2])).toEqual({ arrayValue: { values: [{ intValue: '1' }, { intValue: '2' }] } });
    expect(otlpAnyValue([1, 2.5])).toEqual({ arrayValue: { values: [{ doubleValue: 1 }, { doubleValue: 2.5 }] } });
    expect(otlpAnyValue(['a', 1, true])).toEqual({ arrayValue: { values: [{ stringValue: 'a' }, { stringValue: '1' }, { stringValue: 'true' }] } });
    expect(otlpAnyValue(['a', null])).toEqual({ arrayValue: { values: [{ stringValue: 'a' }, {}] } });
    expect(otlpAnyValue(null)).toBeUndefined();
    expect(otlpAnyValue(undefined)).toBeUndefined();
  });

  it('leaves null attributes out of a span', async () => {
    const path = join(dir, 'attrs.jsonl');
    const rt = Runtime.builder().tracing({ exporter: 'otlp', path }).build();
    await rt.run(() => span('a', () => undefined, { attributes: { n: NaN, gone: null as never, big: 2 ** 64 } }));
    await rt.shutdown();
    const attrs = bodies(path)[0]!.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes;
    expect(attrs).toContainEqual({ key: 'n', value: { doubleValue: 'NaN' } });
    expect(attrs).toContainEqual({ key: 'big', value: { doubleValue: 2 ** 64 } });
    expect(attrs.find((a) => a.key === 'gone')).toBeUndefined();
  });
});
