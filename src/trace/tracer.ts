/**
 * The tracer of a runtime: starts spans (ids, sampling), collects finished ones into the
 * bounded buffer, receives spans that worker threads finished, and flushes at shutdown.
 *
 * Implementation note. Worker threads have no runtime; their spans come back over one
 * `BroadcastChannel` per process ({@link processSinkName}) whose name travels in the trace
 * context of each worker task (`TraceContext.sink`), and the main thread routes each span
 * by trace id to the tracer that handed the context out. The channel is opened on the
 * first context handed to another thread and unref'd, so a tracer that never crosses a
 * thread opens nothing. On the worker side a
 * {@link SinkTracer} per channel name records spans and posts them in one message when a
 * span whose parent is remote (the task's outermost span) ends, before the task returns.
 */
import { BroadcastChannel } from 'node:worker_threads';
import { abortableWait } from '../scheduler/wait-abort.js';
import { randomSpanId, randomTraceId } from './ids.js';
import { SpanBuffer, type SpanBufferMetrics, type SpanBufferOptions } from './buffer.js';
import type { SpanExporter } from './exporters/exporter.js';
import { alwaysSampler, type Sampler } from './sampler.js';
import { spanEndChannel } from './channels.js';
import { countTracer, NonRecordingSpan, RecordingSpan, type SpanBase, type SpanData, type SpanFactory, type SpanOptions } from './span.js';

/** Counters of a tracer, shown under `tracing` in `rt.metrics()`. */
export interface TracingMetrics extends SpanBufferMetrics {
  /** Spans started (sampled or not). */
  readonly started: number;
  /** Spans started but not sampled. */
  readonly notSampled: number;
  /** Spans received from worker threads. */
  readonly fromWorkers: number;
}

/** Options of a tracer. */
export interface TracerOptions extends SpanBufferOptions {
  /** Where finished spans go; several exporters each receive every batch. */
  readonly exporter: SpanExporter | readonly SpanExporter[];
  /**
   * Which new spans are recorded.
   * @default alwaysSampler
   */
  readonly sampler?: Sampler;
}

/**
 * The one channel of this process that worker threads post finished spans on (worker
 * threads share `process.pid`). The main thread routes each span to the tracer that
 * handed out its trace's context, or to the newest live tracer when the route was evicted.
 */
export function processSinkName(): string {
  return `zokio:trace:${process.pid}`;
}
const MAX_ROUTES = 8192;
/** Trace id → tracer of this thread that captured a context of that trace (bounded, oldest evicted). */
const routes = new Map<string, Tracer>();
const liveTracers = new Set<Tracer>();
let processSink: BroadcastChannel | undefined;

function deliver(spans: readonly SpanData[]): void {
  let fallback: Tracer | undefined;
  for (const t of liveTracers) fallback = t;
  for (const s of spans) (routes.get(s.traceId) ?? fallback)?.receive([s]);
}

/** @internal The tracer of this thread that handed out contexts of trace `traceId`, if any. */
export function routedTracer(traceId: string): Tracer | undefined {
  return routes.get(traceId);
}

/** Sends one batch to several exporters. */
function fanOut(exporters: readonly SpanExporter[]): SpanExporter {
  if (exporters.length === 1) return exporters[0]!;
  return {
    async export(spans) {
      await Promise.all(exporters.map((e) => e.export(spans)));
    },
    async shutdown() {
      await Promise.all(exporters.map((e) => e.shutdown?.()));
    },
  };
}

/**
 * Creates spans and hands finished ones to exporters through a bounded buffer.
 *
 * Use `installTracing(rt, options)` to give a runtime one with your exporters and sampler,
 * or `.tracing({ exporter })` in the builder; `tracerOf(rt)` returns it.
 *
 * @example
 * ```ts
 * import { Runtime } from 'zokio';
 * import { installTracing, span, type SpanData } from 'zokio/trace';
 * const rt = Runtime.builder().build();
 * const seen: SpanData[] = [];
 * const tracer = installTracing(rt, { exporter: { export: (b) => void seen.push(...b) } });
 * await rt.run(() => span('work', () => 1));
 * await tracer.flush();
 * console.log(seen.map((s) => s.name)); // ['work']
 * await rt.shutdown();
 * ```
 */
export class Tracer implements SpanFactory {
  /** Which new spans are recorded. */
  sampler: Sampler;
  readonly #buffer: SpanBuffer;
  #closed: Promise<void> | undefined = undefined;
  #started = 0;
  #notSampled = 0;
  #fromWorkers = 0;

  constructor(options: TracerOptions) {
    this.sampler = options.sampler ?? alwaysSampler;
    const exporters = Array.isArray(options.exporter) ? (options.exporter as readonly SpanExporter[]) : [options.exporter as SpanExporter];
    this.#buffer = new SpanBuffer(fanOut(exporters), options);
    countTracer(1);
    liveTracers.add(this);
  }

  /** @internal */
  start(name: string, parent: SpanBase | undefined, options: SpanOptions | undefined): SpanBase {
    this.#started++;
    const traceId = parent !== undefined ? parent.traceId : randomTraceId();
    const spanId = randomSpanId();
    if (this.sampler.shouldSample(traceId, parent, name)) return new RecordingSpan(this, traceId, spanId, parent, name, options);
    this.#notSampled++;
    return new NonRecordingSpan(this, traceId, spanId, parent?.spanId, name, options?.kind ?? 'internal', false, false);
  }

  /** @internal */
  onEnd(span: RecordingSpan): void {
    this.#buffer.push(span);
    if (spanEndChannel.hasSubscribers) spanEndChannel.publish(span);
  }

  /**
   * @internal Routes spans of trace `traceId` that other threads post back to this tracer,
   * opens the process sink on first use, and returns its name (undefined once shut down).
   */
  route(traceId: string): string | undefined {
    if (this.#closed !== undefined) return undefined;
    if (routes.get(traceId) !== this) {
      routes.delete(traceId);
      if (routes.size >= MAX_ROUTES) routes.delete(routes.keys().next().value!);
      routes.set(traceId, this);
    }
    if (processSink === undefined) {
      processSink = new BroadcastChannel(processSinkName());
      processSink.onmessage = (event) => deliver((event as { data: readonly SpanData[] }).data);
      processSink.unref();
    }
    return processSinkName();
  }

  /** @internal Takes finished spans from another thread. */
  receive(spans: readonly SpanData[]): void {
    this.#fromWorkers += spans.length;
    for (const s of spans) this.#buffer.push(s);
  }

  /**
   * Hands every buffered span to the exporters and resolves when they accepted them.
   * Spans that worker threads posted and this thread has not received yet are waited for
   * one event-loop turn.
   *
   * *Cancellation*: aborting `options.signal` (or the task the call is made in) rejects
   * with its reason; the flush goes on (an exporter's call cannot be taken back).
   */
  flush(options?: { readonly signal?: AbortSignal }): Promise<void> {
    return abortableWait(this.#flush(), options?.signal);
  }

  async #flush(): Promise<void> {
    if (processSink !== undefined) await new Promise((resolve) => setImmediate(resolve));
    await this.#buffer.flush();
  }

  /**
   * Flushes and shuts the exporters down; later spans of this tracer are dropped. The
   * runtime calls it at `rt.shutdown()`.
   */
  shutdown(): Promise<void> {
    this.#closed ??= this.#shutdown();
    return this.#closed;
  }

  async #shutdown(): Promise<void> {
    if (processSink !== undefined) await new Promise((resolve) => setImmediate(resolve));
    liveTracers.delete(this);
    for (const [traceId, tracer] of routes) if (tracer === this) routes.delete(traceId);
    if (liveTracers.size === 0 && processSink !== undefined) {
      processSink.close();
      processSink = undefined;
    }
    countTracer(-1);
    await this.#buffer.close();
  }

  /** Counters: started, not sampled, accepted, dropped, exported, export errors, pending, from workers. */
  metrics(): TracingMetrics {
    return { started: this.#started, notSampled: this.#notSampled, fromWorkers: this.#fromWorkers, ...this.#buffer.metrics() };
  }
}

/**
 * @internal The worker-side end of a sink: records spans of worker tasks that carry a
 * sampled trace context and posts them to the tracer on the main thread.
 */
export class SinkTracer implements SpanFactory {
  readonly name: string;
  readonly #channel: BroadcastChannel;
  #pending: SpanData[] = [];

  constructor(name: string) {
    this.name = name;
    this.#channel = new BroadcastChannel(name);
    this.#channel.unref();
    countTracer(1);
  }

  start(name: string, parent: SpanBase | undefined, options: SpanOptions | undefined): SpanBase {
    const traceId = parent !== undefined ? parent.traceId : randomTraceId();
    const spanId = randomSpanId();
    // A worker follows the decision made where the trace started.
    if (parent === undefined || parent.sampled) return new RecordingSpan(this, traceId, spanId, parent, name, options);
    return new NonRecordingSpan(this, traceId, spanId, parent.spanId, name, options?.kind ?? 'internal', false, false);
  }

  onEnd(span: RecordingSpan): void {
    this.#pending.push(span.toData());
    // The task's outermost span ended: post now, before the result goes back to the pool
    // (a worker that parks with Atomics.wait never runs a later callback).
    if (span.parentIsRemote || this.#pending.length >= 256) this.flush();
  }

  /** Posts pending spans to the main thread. */
  flush(): void {
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    this.#channel.postMessage(batch);
  }
}

const sinks = new Map<string, SinkTracer>();

/** @internal The tracer that records spans for sink `name` on this thread (a worker's end of the sink). */
export function sinkTracer(name: string): SpanFactory {
  let sink = sinks.get(name);
  if (sink === undefined) {
    sink = new SinkTracer(name);
    sinks.set(name, sink);
  }
  return sink;
}
