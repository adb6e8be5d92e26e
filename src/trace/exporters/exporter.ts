/**
 * The interface every span exporter implements.
 */
import type { SpanData } from '../span.js';

/**
 * Receives finished spans in batches from the tracer's bounded buffer.
 *
 * Use it to send spans somewhere Zokio does not know about; pass it to `installTracing`.
 *
 * @example
 * ```ts
 * import type { SpanExporter, SpanData } from 'zokio/trace';
 * class MemoryExporter implements SpanExporter {
 *   readonly spans: SpanData[] = [];
 *   export(batch: readonly SpanData[]): void {
 *     this.spans.push(...batch);
 *   }
 * }
 * ```
 *
 * *Cancellation*: none; a rejected `export` is counted in `exportErrors` and the batch is
 * lost. The tracer never calls `export` again before the previous call settled.
 */
export interface SpanExporter {
  /** Sends one batch. The tracer waits for the promise before it sends the next. */
  export(spans: readonly SpanData[]): void | Promise<void>;
  /** Writes whatever the exporter still holds; called once at tracer shutdown, after the last `export`. */
  shutdown?(): void | Promise<void>;
}
