/**
 * The recent spans a console keeps: the flame on the page and `/api/v1/trace.json`.
 *
 * Implementation note. While a console runs it subscribes to `zokio:span:end` (published
 * only when tracing records spans, so with tracing off this costs nothing) and keeps the
 * last `limit` spans in a window (an array trimmed in halves, so each push is O(1)
 * amortised). Rows carry no attributes or events: those may hold user data, which the
 * console never shows.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { CHANNELS } from '../trace/channels.js';
import { toChromeEvents, type ChromeTraceEvent } from '../trace/exporters/chrome.js';
import type { SpanData } from '../trace/span.js';
import type { SpanRow } from './model.js';

/** @internal */
export class SpanWindow {
  readonly limit: number;
  #rows: SpanRow[] = [];
  #data: SpanData[] = [];
  #listening = false;
  readonly #onSpan = (message: unknown): void => this.push(message as SpanData);

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Starts collecting ended spans. */
  listen(): void {
    if (this.#listening || this.limit === 0) return;
    this.#listening = true;
    diagnosticsChannel.subscribe(CHANNELS.spanEnd, this.#onSpan);
  }

  /** Stops collecting. */
  stop(): void {
    if (!this.#listening) return;
    this.#listening = false;
    diagnosticsChannel.unsubscribe(CHANNELS.spanEnd, this.#onSpan);
  }

  /** Adds one ended span. */
  push(span: SpanData): void {
    if (this.limit === 0) return;
    this.#data.push(span);
    this.#rows.push({ name: span.name, tid: span.threadId, thread: span.threadName, start: span.startTime, dur: span.endTime - span.startTime });
    if (this.#rows.length >= 2 * this.limit) {
      this.#rows = this.#rows.slice(this.#rows.length - this.limit);
      this.#data = this.#data.slice(this.#data.length - this.limit);
    }
  }

  /** The last `limit` spans, oldest first (the same row objects from tick to tick). */
  rows(): SpanRow[] {
    const rows = this.#rows;
    return rows.length > this.limit ? rows.slice(rows.length - this.limit) : rows.slice();
  }

  /** The kept spans as Chrome trace events, without attributes and events. */
  chromeTrace(): ChromeTraceEvent[] {
    const data = this.#data.length > this.limit ? this.#data.slice(this.#data.length - this.limit) : this.#data;
    return toChromeEvents(data.map((s) => ({ ...s, attributes: {}, events: [] })), { processName: 'zokio console' });
  }
}
