/** A span exporter that keeps every batch in memory, for tests. */
import type { SpanData, SpanExporter } from '../../src/trace/index.js';

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
