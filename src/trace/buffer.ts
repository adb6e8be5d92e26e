/**
 * The bounded span buffer between the code that ends spans and the exporter.
 *
 * Implementation note. Ending a span pushes it into `pending` (a plain array). When
 * `pending` holds `batchSize` spans, one `setImmediate` is scheduled to hand them to the
 * exporter; a flush timer does the same for a trickle of spans. Only one `export` call is
 * in flight at a time: while it runs, new spans wait in `pending`, and once `pending`
 * holds `capacity` spans every further span is dropped and counted, so a slow or dead
 * collector costs a bounded amount of memory and never slows the code being traced.
 *
 * ```
 *  span.end() ──► pending [s s s s ... ]  (≤ capacity, else dropped++)
 *                     │ batchSize reached / timer / flush()
 *                     ▼
 *               exporter.export(batch) ── one in flight ──► exported += n | exportErrors++
 * ```
 */
import type { SpanData } from './span.js';
import type { SpanExporter } from './exporters/exporter.js';

/** Options of the span buffer. */
export interface SpanBufferOptions {
  /**
   * Spans held while waiting for the exporter; more are dropped and counted.
   * @default 2048
   */
  readonly capacity?: number;
  /**
   * Spans per `export` call, and the count that triggers one.
   * @default 512
   */
  readonly batchSize?: number;
  /**
   * Exports whatever is pending at this interval, in ms; 0 turns the timer off.
   * The timer is unref'd: it never keeps the process alive.
   * @default 1000
   */
  readonly flushIntervalMs?: number;
}

/** Counters of the span buffer. */
export interface SpanBufferMetrics {
  /** Spans accepted into the buffer. */
  readonly accepted: number;
  /** Spans dropped because the buffer was full. */
  readonly dropped: number;
  /** Spans handed to the exporter and accepted by it. */
  readonly exported: number;
  /** Failed `export` calls. */
  readonly exportErrors: number;
  /** Spans waiting now. */
  readonly pending: number;
}

/** @internal */
export class SpanBuffer {
  readonly capacity: number;
  readonly batchSize: number;
  readonly #exporter: SpanExporter;
  #pending: SpanData[] = [];
  #inFlight: Promise<void> | undefined = undefined;
  #scheduled = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  accepted = 0;
  dropped = 0;
  exported = 0;
  exportErrors = 0;
  /** The last export error, for diagnostics. */
  lastError: unknown = undefined;

  constructor(exporter: SpanExporter, options: SpanBufferOptions = {}) {
    this.#exporter = exporter;
    this.capacity = options.capacity ?? 2048;
    this.batchSize = Math.min(options.batchSize ?? 512, this.capacity);
    if (!(Number.isInteger(this.capacity) && this.capacity >= 1)) throw new RangeError('capacity must be an integer >= 1');
    if (!(Number.isInteger(this.batchSize) && this.batchSize >= 1)) throw new RangeError('batchSize must be an integer >= 1');
    const interval = options.flushIntervalMs ?? 1000;
    if (interval > 0) {
      this.#timer = setInterval(() => void this.flush(), interval);
      this.#timer.unref();
    }
  }

  /** Adds a finished span, or drops and counts it when the buffer is full. */
  push(span: SpanData): void {
    const pending = this.#pending;
    if (pending.length >= this.capacity || this.#closed) {
      this.dropped++;
      return;
    }
    pending.push(span);
    this.accepted++;
    if (pending.length >= this.batchSize && !this.#scheduled && this.#inFlight === undefined) {
      this.#scheduled = true;
      setImmediate(this.#onImmediate).unref();
    }
  }

  #onImmediate = (): void => {
    this.#scheduled = false;
    void this.flush();
  };

  /** Hands every pending span to the exporter, batch by batch; resolves when all are out. */
  async flush(): Promise<void> {
    while (this.#inFlight !== undefined) await this.#inFlight;
    while (this.#pending.length > 0) {
      const pending = this.#pending;
      const batch = pending.length <= this.batchSize ? pending : pending.splice(0, this.batchSize);
      if (batch === pending) this.#pending = [];
      this.#inFlight = this.#send(batch);
      await this.#inFlight;
      this.#inFlight = undefined;
    }
  }

  /**
   * Exports pending spans synchronously when the exporter is synchronous and nothing is in
   * flight (worker threads flush this way before they go back to the pool).
   */
  flushSync(): void {
    if (this.#inFlight !== undefined || this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    const result = this.#exportBatch(batch);
    if (result !== undefined) {
      this.#inFlight = result.finally(() => (this.#inFlight = undefined));
    }
  }

  async #send(batch: SpanData[]): Promise<void> {
    await this.#exportBatch(batch);
  }

  #exportBatch(batch: SpanData[]): Promise<void> | undefined {
    let result: void | Promise<void>;
    try {
      result = this.#exporter.export(batch);
    } catch (err) {
      this.#failed(err);
      return undefined;
    }
    if (result instanceof Promise) {
      return result.then(
        () => void (this.exported += batch.length),
        (err: unknown) => this.#failed(err),
      );
    }
    this.exported += batch.length;
    return undefined;
  }

  #failed(err: unknown): void {
    this.exportErrors++;
    this.lastError = err;
  }

  /** Flushes, stops the timer and shuts the exporter down; later spans are dropped. */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
    this.#closed = true;
    try {
      await this.#exporter.shutdown?.();
    } catch (err) {
      this.#failed(err);
    }
  }

  metrics(): SpanBufferMetrics {
    return { accepted: this.accepted, dropped: this.dropped, exported: this.exported, exportErrors: this.exportErrors, pending: this.#pending.length };
  }
}
