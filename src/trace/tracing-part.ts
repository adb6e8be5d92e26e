/**
 * The `tracing` part of a runtime: the tracer its config (`.tracing({ exporter, path,
 * sampleRatio })`) asks for, or one `installTracing` (install.ts) puts in.
 *
 * Implementation note. The composition function builds the {@link TracingPart} inside a
 * `globalThis.__ZOKIO_TRACE__ !== false` guard, so that a build with tracing defined off
 * drops the tracer and every exporter. The part maps the runtime to its tracer (a WeakMap
 * in span.ts, where `span()` looks it up), reports the tracer's counters in
 * `rt.metrics().tracing` (absent while it has no tracer), and flushes and closes it at
 * shutdown, after the worker pool stopped (so spans that workers posted are in). Its
 * `start()` hooks tracing into the pool (trace context in task records) and into
 * `serve()` (a server span per request): both check for a live tracer on every call.
 */
import type { ResolvedConfig } from '../runtime/config.js';
import { bounded } from '../runtime/bounded.js';
import type { PartHost, RuntimePart } from '../runtime/part.js';
import { ChromeExporter } from './exporters/chrome.js';
import { ConsoleExporter } from './exporters/console.js';
import type { SpanExporter } from './exporters/exporter.js';
import { JsonlExporter } from './exporters/jsonl.js';
import { OtlpExporter } from './exporters/otlp.js';
import { installServerTracing } from './http-server.js';
import { installPoolTracing } from './pool-bridge.js';
import { alwaysSampler, parentBasedSampler, ratioSampler } from './sampler.js';
import { runtimeTracer, setRuntimeTracer } from './span.js';
import { Tracer } from './tracer.js';

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

/** The least time the tracer gets at shutdown to export what it holds (see {@link TracingPart.shutdown}). */
const MIN_FLUSH_MS = 1000;

/**
 * @internal The `tracing` part of a runtime: its tracer (from the config, or one
 * {@link installTracing} put in), flushed and closed at shutdown.
 */
export class TracingPart implements RuntimePart {
  readonly name = 'tracing';
  readonly #host: PartHost;
  #tracer: Tracer | undefined;

  constructor(host: PartHost, tracing: ResolvedConfig['tracing']) {
    this.#host = host;
    const exporter = exporterFromConfig(tracing);
    if (exporter !== undefined) {
      const sampler = tracing.sampleRatio === 1 ? alwaysSampler : parentBasedSampler(ratioSampler(tracing.sampleRatio));
      this.use(new Tracer({ exporter, sampler }));
    }
  }

  start(): void {
    installPoolTracing();
    installServerTracing();
  }

  /** Makes `tracer` the runtime's tracer; the previous one is flushed and closed. */
  use(tracer: Tracer): void {
    const previous = this.#tracer;
    this.#tracer = tracer;
    setRuntimeTracer(this.#host, tracer);
    if (previous !== undefined) void previous.shutdown();
  }

  metrics(): unknown {
    return this.#tracer?.metrics();
  }

  /**
   * Flushes and closes the tracer, waiting for its exporter at most `timeoutMs` (the budget
   * of `rt.shutdown({ timeoutMs })`), and at least {@link MIN_FLUSH_MS}, so that
   * `timeoutMs: 0` (stop the running work at once) still exports the spans of the work
   * that finished. An exporter whose `export` or `shutdown` never settles does not hold the
   * shutdown; the spans it had not taken stay counted in `metrics().pending`.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    const tracer = this.#tracer;
    if (tracer === undefined) return;
    await bounded(tracer.shutdown(), Math.max(timeoutMs, MIN_FLUSH_MS));
    if (runtimeTracer(this.#host) === tracer) setRuntimeTracer(this.#host, undefined);
  }
}
