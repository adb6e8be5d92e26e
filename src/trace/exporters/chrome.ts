/**
 * The `chrome` exporter: Trace Event Format JSON that `chrome://tracing`, Perfetto
 * (ui.perfetto.dev) and speedscope open.
 *
 * Implementation note. Each span becomes one complete event (`ph: 'X'`) with `ts` and
 * `dur` in microseconds, `pid` the process and `tid` the thread that ran it
 * (`worker_threads.threadId`, 0 for the main thread), so each pool worker is its own lane.
 * The first time a thread appears, a `thread_name` metadata event (`ph: 'M'`) names the
 * lane. The file uses the JSON Array Format, written batch by batch: `[` first, events
 * separated by commas, `]` at shutdown; the format allows the closing bracket to be
 * missing, so a file cut short by a crash still opens.
 */
import type { SpanData } from '../span.js';
import type { SpanExporter } from './exporter.js';
import { FileSink } from './file-sink.js';

/** One event of the Trace Event Format. */
export interface ChromeTraceEvent {
  /** The span's name, or `process_name` / `thread_name` for metadata events. */
  readonly name: string;
  /** `X`: complete event (ts + dur); `M`: metadata (process and thread names). */
  readonly ph: 'X' | 'M';
  /** Process lane: {@link ChromeTraceOptions.pid}. */
  readonly pid: number;
  /** Thread lane: the `worker_threads.threadId` that ran the span (0 on the main thread). */
  readonly tid: number;
  /** Start in microseconds (epoch based). Absent on metadata events. */
  readonly ts?: number;
  /** Duration in microseconds. */
  readonly dur?: number;
  /** Category: `zokio` on span events; absent on metadata events. */
  readonly cat?: string;
  /** Span events: trace id, span id, parent span id, status and attributes; metadata events: `{ name }`. */
  readonly args?: Record<string, unknown>;
}

/** Options of {@link toChromeEvents} and {@link ChromeExporter}. */
export interface ChromeTraceOptions {
  /**
   * The `pid` of every event.
   * @default process.pid
   */
  readonly pid?: number;
  /**
   * Name of the process lane.
   * @default 'zokio'
   */
  readonly processName?: string;
}

/**
 * The complete event of one span.
 *
 * @example
 * ```ts
 * import { spanToChromeEvent } from 'zokio/trace';
 * // { name, cat: 'zokio', ph: 'X', ts, dur, pid, tid, args: { traceId, spanId, ... } }
 * ```
 */
export function spanToChromeEvent(span: SpanData, pid: number): ChromeTraceEvent {
  const args: Record<string, unknown> = { traceId: span.traceId, spanId: span.spanId, ...span.attributes };
  if (span.parentSpanId !== undefined) args.parentSpanId = span.parentSpanId;
  if (span.status.code !== 'unset') args.status = span.status.message !== undefined ? `${span.status.code}: ${span.status.message}` : span.status.code;
  const ts = Math.round(span.startTime * 1000);
  return { name: span.name, cat: 'zokio', ph: 'X', ts, dur: Math.max(0, Math.round(span.endTime * 1000) - ts), pid, tid: span.threadId, args };
}

/** The `thread_name` metadata event that names lane `tid`. */
function threadNameEvent(pid: number, tid: number, name: string): ChromeTraceEvent {
  return { name: 'thread_name', ph: 'M', pid, tid, args: { name } };
}

/** The metadata event that names the process. */
function processNameEvent(pid: number, name: string): ChromeTraceEvent {
  return { name: 'process_name', ph: 'M', pid, tid: 0, args: { name } };
}

/**
 * Spans as Trace Event Format events: a `process_name` event, one `thread_name` event per
 * thread (lane), then one `X` event per span. `JSON.stringify(events)` is a trace file.
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * import { toChromeEvents, type SpanData } from 'zokio/trace';
 * const spans: SpanData[] = [];
 * writeFileSync('trace.json', JSON.stringify(toChromeEvents(spans)));
 * ```
 */
export function toChromeEvents(spans: readonly SpanData[], options: ChromeTraceOptions = {}): ChromeTraceEvent[] {
  const pid = options.pid ?? process.pid;
  const events: ChromeTraceEvent[] = [processNameEvent(pid, options.processName ?? 'zokio')];
  const threads = new Map<number, string>();
  for (const s of spans) if (!threads.has(s.threadId)) threads.set(s.threadId, s.threadName);
  for (const [tid, name] of threads) events.push(threadNameEvent(pid, tid, name));
  for (const s of spans) events.push(spanToChromeEvent(s, pid));
  return events;
}

/**
 * Writes spans to a Trace Event Format file with one lane per thread; what
 * `.tracing({ exporter: 'chrome', path })` installs. Open the file in ui.perfetto.dev.
 *
 * @example
 * ```ts
 * import { ChromeExporter } from 'zokio/trace';
 * const exporter = new ChromeExporter({ path: 'trace.json' });
 * ```
 */
export class ChromeExporter implements SpanExporter {
  readonly #file: FileSink;
  readonly #pid: number;
  readonly #processName: string;
  readonly #named = new Set<number>();

  constructor(options: ChromeTraceOptions & { readonly path?: string } = {}) {
    this.#file = new FileSink(options.path ?? 'trace.json');
    this.#pid = options.pid ?? process.pid;
    this.#processName = options.processName ?? 'zokio';
  }

  export(spans: readonly SpanData[]): void {
    const parts: string[] = [];
    if (!this.#file.opened) parts.push('[\n' + JSON.stringify(processNameEvent(this.#pid, this.#processName)));
    for (const s of spans) {
      if (!this.#named.has(s.threadId)) {
        this.#named.add(s.threadId);
        parts.push(JSON.stringify(threadNameEvent(this.#pid, s.threadId, s.threadName)));
      }
      parts.push(JSON.stringify(spanToChromeEvent(s, this.#pid)));
    }
    if (parts.length === 0) return;
    this.#file.write((this.#file.opened ? ',\n' : '') + parts.join(',\n'));
  }

  shutdown(): void {
    if (!this.#file.opened) this.export([]);
    this.#file.write('\n]\n');
    this.#file.close();
  }
}
