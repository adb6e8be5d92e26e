// Tracer.flush with a signal: the wait ends, the export goes on.
import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/index.js';
import { installTracing, span, type SpanExporter } from '../../src/trace/index.js';

describe('Tracer.flush', () => {
  it('aborting the signal rejects the flush with its reason; the export it started still completes', async () => {
    const rt = Runtime.builder().build();
    let finish!: () => void;
    let exported = 0;
    const gated: SpanExporter = {
      export: (batch) =>
        new Promise<void>((resolve) => {
          finish = () => {
            exported += batch.length;
            resolve();
          };
        }),
    };
    const tracer = installTracing(rt, { exporter: gated, flushIntervalMs: 0 });
    await rt.run(() => span('work', () => 1));
    const controller = new AbortController();
    const reason = new Error('enough');
    const flushing = tracer.flush({ signal: controller.signal });
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort(reason);
    await expect(flushing).rejects.toBe(reason);
    await expect(tracer.flush({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(exported).toBe(0);
    const again = tracer.flush(); // waits for the export in flight
    finish();
    await again;
    expect(exported).toBe(1);
    await rt.shutdown();
  });
});
