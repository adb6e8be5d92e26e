// The tracing part at rt.shutdown(): the tracer is flushed and closed, within the
// shutdown's budget (and at least the part's floor), whatever the exporter does.
import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/index.js';
import { installTracing, span, type SpanData, type SpanExporter } from '../../src/trace/index.js';

/** `promise`'s outcome, or 'still pending' after 20 s: a hang guard, not a timing check. */
function settled(promise: Promise<unknown>): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise((resolve) => (timer = setTimeout(() => resolve('still pending'), 20_000)));
  return Promise.race([promise.then(() => 'resolved', (err: unknown) => err), guard]).finally(() => clearTimeout(timer));
}

describe('tracing part shutdown', () => {
  it('an exporter whose export and shutdown never settle does not hold rt.shutdown()', async () => {
    const rt = Runtime.builder().build();
    const exported: SpanData[] = [];
    let shutdowns = 0;
    const stuck: SpanExporter = {
      export: (batch) => {
        exported.push(...batch);
        return new Promise<void>(() => {});
      },
      shutdown: () => {
        shutdowns++;
        return new Promise<void>(() => {});
      },
    };
    installTracing(rt, { exporter: stuck, flushIntervalMs: 0 });
    await rt.run(() => span('work', () => 1));
    expect(await settled(rt.shutdown({ timeoutMs: 10 }))).toBe('resolved');
    expect(exported.map((s) => s.name)).toEqual(['work']); // handed to the exporter before the budget ran out
    expect((rt.metrics().tracing as { exported: number }).exported).toBe(0); // its export never finished
    expect(shutdowns).toBe(0); // still waiting for the export when the runtime stopped waiting
  });

  it('timeoutMs: 0 still exports the spans of finished work through an asynchronous exporter', async () => {
    const rt = Runtime.builder().build();
    const names: string[] = [];
    let shutdowns = 0;
    // Each call settles after a short timer: later than a zero-budget shutdown would wait.
    const later: SpanExporter = {
      export: (batch) =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            names.push(...batch.map((s) => s.name));
            resolve();
          }, 20),
        ),
      shutdown: () => new Promise<void>((resolve) => setTimeout(() => resolve(void shutdowns++), 20)),
    };
    installTracing(rt, { exporter: later, flushIntervalMs: 0 });
    await rt.run(async () => {
      span('a', () => 1);
      await span('b', async () => 2);
    });
    expect(await settled(rt.shutdown({ timeoutMs: 0 }))).toBe('resolved');
    expect(names.sort()).toEqual(['a', 'b']);
    expect(shutdowns).toBe(1);
    expect((rt.metrics().tracing as { exported: number; pending: number })).toMatchObject({ exported: 2, pending: 0 });
  });
});
