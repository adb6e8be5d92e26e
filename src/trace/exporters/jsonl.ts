/**
 * The `jsonl` exporter: one JSON object per finished span per line.
 */
import type { SpanData } from '../span.js';
import type { SpanExporter } from './exporter.js';
import { FileSink } from './file-sink.js';

/** Options of {@link JsonlExporter}. */
export interface JsonlExporterOptions {
  /**
   * File to write; truncated on the first batch.
   * @default 'trace.jsonl'
   */
  readonly path?: string;
}

/**
 * The line a span becomes: its {@link SpanData} fields plus `durationMs`.
 *
 * @example
 * ```ts
 * import { spanToJsonLine } from 'zokio/trace';
 * // each line: {"traceId":"…","spanId":"…","parentSpanId":"…","name":"…","durationMs":1.2,…}
 * ```
 */
export function spanToJsonLine(span: SpanData): string {
  return JSON.stringify({
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    name: span.name,
    kind: span.kind,
    startTime: span.startTime,
    endTime: span.endTime,
    durationMs: span.endTime - span.startTime,
    attributes: span.attributes,
    events: span.events,
    status: span.status,
    threadId: span.threadId,
    threadName: span.threadName,
  });
}

/**
 * Appends each finished span as one JSON line to a file; what
 * `.tracing({ exporter: 'jsonl', path })` installs. Easy to `grep`, `jq` or load into a
 * dataframe.
 *
 * @example
 * ```ts
 * import { JsonlExporter } from 'zokio/trace';
 * const exporter = new JsonlExporter({ path: 'spans.jsonl' });
 * ```
 */
export class JsonlExporter implements SpanExporter {
  readonly #file: FileSink;

  constructor(options: JsonlExporterOptions = {}) {
    this.#file = new FileSink(options.path ?? 'trace.jsonl');
  }

  export(spans: readonly SpanData[]): void {
    let text = '';
    for (const s of spans) text += spanToJsonLine(s) + '\n';
    this.#file.write(text);
  }

  shutdown(): void {
    this.#file.close();
  }
}
