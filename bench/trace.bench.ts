/**
 * Tracing: what `span()` costs with tracing off (beside a direct call of the function and
 * beside `@opentelemetry/api`'s no-op tracer), what a recorded span costs end to end
 * (ids, AsyncLocalStorage, clock, buffer, a discarding exporter), and how many bytes an
 * esbuild bundle of a small app loses when `globalThis.__ZOKIO_TRACE__` is defined `false`.
 *
 * Times are nanoseconds per call from the median tinybench sample of a batch of calls.
 */
import { build } from 'esbuild';
import { trace } from '@opentelemetry/api';
import { fileURLToPath } from 'node:url';
import { Runtime } from '../src/index.js';
import { installTracing, span } from '../src/trace/index.js';
import { defineSuite, throughput, type MeasureOptions } from './harness.js';

const CALLS = 10_000;
const SPANS = 1_000;

let sink = 0;
/** The traced work: small enough that any overhead shows, opaque enough not to fold away. */
function work(): number {
  sink = (sink * 31 + 7) | 0;
  return sink;
}

async function nsPerCall(fn: () => unknown, calls: number, options: MeasureOptions): Promise<number> {
  return 1e9 / (await throughput(fn, calls, options));
}

function directCall(options: MeasureOptions): Promise<number> {
  return nsPerCall(() => {
    for (let i = 0; i < CALLS; i++) work();
  }, CALLS, options);
}

function spanOff(options: MeasureOptions): Promise<number> {
  return nsPerCall(() => {
    for (let i = 0; i < CALLS; i++) span('op', work);
  }, CALLS, options);
}

const otelTracer = trace.getTracer('x');
const otelWork = (s: { end(): void }): number => {
  const v = work();
  s.end();
  return v;
};

function otelNoop(options: MeasureOptions): Promise<number> {
  return nsPerCall(() => {
    for (let i = 0; i < CALLS; i++) otelTracer.startActiveSpan('op', otelWork);
  }, CALLS, options);
}

async function spanRecorded(options: MeasureOptions): Promise<number> {
  const rt = Runtime.builder().build();
  let exported = 0;
  const tracer = installTracing(rt, { exporter: { export: (spans) => void (exported += spans.length) }, capacity: SPANS * 2, batchSize: SPANS, flushIntervalMs: 0 });
  try {
    const ns = await rt.run(() =>
      nsPerCall(async () => {
        for (let i = 0; i < SPANS; i++) span('op', work);
        await tracer.flush();
      }, SPANS, options),
    );
    const m = tracer.metrics();
    if (m.dropped !== 0 || exported === 0) throw new Error(`recorded-span bench dropped ${m.dropped} spans, exported ${exported}`);
    return ns;
  } finally {
    await rt.shutdown();
  }
}

async function otelNoopInSpan(options: MeasureOptions): Promise<number> {
  return nsPerCall(async () => {
    for (let i = 0; i < SPANS; i++) otelTracer.startActiveSpan('op', otelWork);
  }, SPANS, options);
}

const APP = `
import { Runtime, span } from './src/index.ts';
const rt = Runtime.builder().tracing({ exporter: 'chrome' }).build();
await rt.run(() => span('main', () => 1));
await rt.shutdown();
`;

/** Minified ESM bytes of a small app that uses `span`, with tracing compiled in or defined off. */
async function bundleBytes(tracing: boolean): Promise<number> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const result = await build({
    stdin: { contents: APP, resolveDir: root, loader: 'ts', sourcefile: 'app.ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    write: false,
    logLevel: 'silent',
    define: tracing ? {} : { 'globalThis.__ZOKIO_TRACE__': 'false' },
  });
  return result.outputFiles![0]!.contents.byteLength;
}

export default defineSuite({
  name: 'trace',
  title: 'span() off and on, beside @opentelemetry/api no-op tracer; bundle bytes with and without tracing',
  cases: [
    { group: 'span() with tracing off', subject: 'zokio', unit: 'ns/call', better: 'lower', measure: spanOff },
    { group: 'span() with tracing off', subject: 'direct call of fn', unit: 'ns/call', better: 'lower', measure: directCall },
    { group: 'span() with tracing off', subject: '@opentelemetry/api (no-op)', unit: 'ns/call', better: 'lower', measure: otelNoop },
    { group: 'recorded span', subject: 'zokio', unit: 'ns/span', better: 'lower', measure: spanRecorded },
    { group: 'recorded span', subject: '@opentelemetry/api (no-op, records nothing)', unit: 'ns/span', better: 'lower', measure: otelNoopInSpan },
    { group: 'bundle bytes (app using span)', subject: 'zokio', unit: 'bytes', better: 'lower', measure: () => bundleBytes(false) },
    { group: 'bundle bytes (app using span)', subject: 'zokio with tracing compiled in', unit: 'bytes', better: 'lower', measure: () => bundleBytes(true) },
  ],
  targets: [
    {
      group: 'span() with tracing off',
      text: '<= 1.1× a direct call of fn',
      check: (zokio, peers) => zokio <= 1.1 * peers['direct call of fn']!,
    },
    { group: 'recorded span', text: '<= 1 µs per span', check: (zokio) => zokio <= 1000 },
    {
      group: 'bundle bytes (app using span)',
      text: 'zokio = the build with globalThis.__ZOKIO_TRACE__ defined false; it must be smaller',
      check: (zokio, peers) => zokio < peers['zokio with tracing compiled in']!,
    },
  ],
});
