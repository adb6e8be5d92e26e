/**
 * Giving a runtime a tracer: from its config (`.tracing({ exporter, path, sampleRatio })`)
 * through a runtime part, or by hand with {@link installTracing}.
 *
 * Implementation note. The `tracing` part is registered with the runtime at module load,
 * inside a `globalThis.__ZOKIO_TRACE__ !== false` guard so that a build with tracing
 * defined off drops the tracer and every exporter. The part maps the runtime to its tracer
 * (a WeakMap in span.ts, where `span()` looks it up), reports the tracer's counters in
 * `rt.metrics().tracing`, and flushes and closes it at shutdown, after the worker pool
 * stopped (so spans that workers posted are in).
 */
import { registerRuntimePart, type RuntimeBase, type ZokioRuntime } from '../runtime/runtime.js';
import type { ResolvedConfig } from '../runtime/config.js';
import { ChromeExporter } from './exporters/chrome.js';
import { ConsoleExporter } from './exporters/console.js';
import type { SpanExporter } from './exporters/exporter.js';
import { JsonlExporter } from './exporters/jsonl.js';
import { OtlpExporter } from './exporters/otlp.js';
import { alwaysSampler, parentBasedSampler, ratioSampler } from './sampler.js';
import { runtimeTracer, setRuntimeTracer } from './span.js';
import { Tracer, type TracerOptions } from './tracer.js';

/** The exporter a config names, or undefined for `none`. */
function exporterFromConfig(tracing: ResolvedConfig['tracing']): SpanExporter | undefined {
  switch (tracing.exporter) {
    case 'none':
      return undefined;
    case 'console':
      return new ConsoleExporter();
    case 'jsonl':
      return new JsonlExporter({ path: tracing.path ?? 'trace.jsonl' });
    case 'chrome':
      return new ChromeExporter({ path: tracing.path ?? 'trace.json' });
    case 'otlp':
      return new OtlpExporter({ ...otlpTarget(tracing.path), ...(tracing.serviceName !== undefined ? { serviceName: tracing.serviceName } : {}) });
  }
}

/** `tracing.path` for `otlp`: an `http:`/`https:` URL is the collector, anything else a file. */
function otlpTarget(path: string | undefined): { url?: string; path?: string } {
  if (path === undefined) return {};
  return /^https?:\/\//i.test(path) ? { url: path } : { path };
}

function attach(runtime: ZokioRuntime, tracer: Tracer): { name: string; metrics(): unknown; shutdown(): Promise<void> } {
  setRuntimeTracer(runtime, tracer);
  return {
    name: 'tracing',
    metrics: () => tracer.metrics(),
    shutdown: async () => {
      await tracer.shutdown();
      if (runtimeTracer(runtime) === tracer) setRuntimeTracer(runtime, undefined);
    },
  };
}

if ((globalThis as { __ZOKIO_TRACE__?: boolean }).__ZOKIO_TRACE__ !== false) {
  registerRuntimePart((runtime) => {
    const tracing = runtime.config.tracing;
    const exporter = exporterFromConfig(tracing);
    if (exporter === undefined) return undefined;
    const sampler = tracing.sampleRatio === 1 ? alwaysSampler : parentBasedSampler(ratioSampler(tracing.sampleRatio));
    return attach(runtime, new Tracer({ exporter, sampler }));
  });
}

/**
 * Gives `rt` a tracer with your exporters, sampler and buffer sizes (replacing the one its
 * config made, which is flushed and closed), and returns it.
 *
 * Use it for exporters the config cannot name (your own, several at once), custom
 * samplers, or tests that collect spans in memory.
 *
 * @example
 * ```ts
 * import { Runtime } from 'zokio';
 * import { installTracing, ConsoleExporter, parentBasedSampler, ratioSampler, span } from 'zokio/trace';
 * const rt = Runtime.builder().build();
 * installTracing(rt, { exporter: new ConsoleExporter(), sampler: parentBasedSampler(ratioSampler(0.5)), capacity: 4096 });
 * await rt.run(() => span('job', () => 'done'));
 * await rt.shutdown(); // prints the tree
 * ```
 */
export function installTracing<C extends object>(rt: RuntimeBase<C>, options: TracerOptions): Tracer {
  const runtime = rt as unknown as ZokioRuntime;
  const previous = runtime.part<{ name: string; shutdown(): Promise<void> }>('tracing');
  if (previous !== undefined) void previous.shutdown();
  const tracer = new Tracer(options);
  runtime.addPart(attach(runtime, tracer));
  return tracer;
}

/**
 * The tracer of `rt`, or undefined when tracing is off there.
 *
 * @example
 * ```ts
 * import { Runtime } from 'zokio';
 * import { tracerOf } from 'zokio/trace';
 * const rt = Runtime.builder().tracing({ exporter: 'console' }).build();
 * await tracerOf(rt)?.flush();
 * await rt.shutdown();
 * ```
 */
export function tracerOf<C extends object>(rt: RuntimeBase<C>): Tracer | undefined {
  const tracer = runtimeTracer(rt);
  return tracer instanceof Tracer ? tracer : undefined;
}
