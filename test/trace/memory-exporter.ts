/** A span exporter that keeps every batch in memory, for tests. */
import { tracerOf, type SpanData, type SpanExporter } from '../../src/trace/index.js';
import { until } from '../helpers.js';

export class MemoryExporter implements SpanExporter {
  readonly spans: SpanData[] = [];
  batches = 0;
  shutdowns = 0;
  export(batch: readonly SpanData[]): void {
    this.batches++;
    this.spans.push(...batch);
  }
  shutdown(): void {
    this.shutdowns++;
  }
  byName(name: string): SpanData {
    const found = this.spans.filter((s) => s.name === name);
    if (found.length !== 1) throw new Error(`expected one span named ${name}, found ${found.length}: ${this.spans.map((s) => s.name).join(', ')}`);
    return found[0]!;
  }
}

/**
 * Waits until `count` spans have reached the runtime's tracer (in `exporter` already, or
 * still buffered: spans from other threads arrive asynchronously), then flushes them all
 * into `exporter`.
 */
export async function collectSpans(rt: Parameters<typeof tracerOf>[0], exporter: MemoryExporter, count: number): Promise<void> {
  const pending = (): number => (rt.metrics().tracing as { pending: number }).pending;
  await until(() => exporter.spans.length + pending() >= count, `${count} spans`);
  await tracerOf(rt)!.flush();
}
