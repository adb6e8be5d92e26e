/**
 * Tracing for Zokio: spans, context propagation across tasks, worker threads and HTTP
 * (W3C `traceparent`), samplers, exporters (console, jsonl, chrome, otlp), and the
 * `node:diagnostics_channel` channels the runtime publishes on.
 *
 * @module zokio/trace
 */
export {
  span,
  currentSpan,
  type Span,
  type SpanOptions,
  type SpanKind,
  type SpanContext,
  type SpanData,
  type SpanEvent,
  type SpanStatus,
  type SpanStatusCode,
  type Attributes,
  type AttributeValue,
} from './span.js';
export { injectTraceparent, extractTraceparent, formatTraceparent, parseTraceparent, type HeaderSource, type HeaderTarget } from './traceparent.js';
export { captureTraceContext, runWithTraceContext, serverSpan, type TraceContext } from './propagation.js';
export { alwaysSampler, neverSampler, ratioSampler, parentBasedSampler, type Sampler } from './sampler.js';
export { Tracer, type TracerOptions, type TracingMetrics } from './tracer.js';
export { installTracing, tracerOf } from './install.js';
export { type SpanBufferOptions, type SpanBufferMetrics } from './buffer.js';
export { type SpanExporter } from './exporters/exporter.js';
export { ConsoleExporter, formatSpanTree, type ConsoleExporterOptions } from './exporters/console.js';
export { JsonlExporter, spanToJsonLine, type JsonlExporterOptions } from './exporters/jsonl.js';
export { ChromeExporter, toChromeEvents, spanToChromeEvent, type ChromeTraceEvent, type ChromeTraceOptions } from './exporters/chrome.js';
export {
  OtlpExporter,
  OtlpExportError,
  toOtlpBody,
  spanToOtlp,
  msToUnixNano,
  type OtlpExporterOptions,
  type OtlpOptions,
  type OtlpTraceBody,
  type OtlpSpan,
  type OtlpKeyValue,
  type OtlpAnyValue,
} from './exporters/otlp.js';
export {
  CHANNELS,
  type TaskSpawnMessage,
  type TaskEndMessage,
  type WorkerStealMessage,
  type WorkerParkMessage,
} from './channels.js';
