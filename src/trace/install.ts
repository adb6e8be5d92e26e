/**
 * Giving a runtime a tracer by hand ({@link installTracing}) and reading it back
 * ({@link tracerOf}). The tracer a config asks for is made by the runtime's `tracing`
 * part (`tracing-part.ts`), which `installTracing` replaces the tracer of.
 */
import { NotImplementedError } from '../errors.js';
import type { PartHost } from '../runtime/part.js';
import type { RuntimeBase } from '../runtime/runtime.js';
import { runtimeTracer } from './span.js';
import { Tracer, type TracerOptions } from './tracer.js';
import type { TracingPart } from './tracing-part.js';

/**
 * Gives `rt` a tracer with your exporters, sampler and buffer sizes (replacing the one its
 * config made, which is flushed and closed), and returns it.
 *
 * Use it for exporters the config cannot name (your own, several at once), custom
 * samplers, or tests that collect spans in memory.
 *
 * @example
 * ```ts
 * import { Runtime } from 'zokio';
 * import { installTracing, ConsoleExporter, parentBasedSampler, ratioSampler, span } from 'zokio/trace';
 * const rt = Runtime.builder().build();
 * installTracing(rt, { exporter: new ConsoleExporter(), sampler: parentBasedSampler(ratioSampler(0.5)), capacity: 4096 });
 * await rt.run(() => span('job', () => 'done'));
 * await rt.shutdown(); // prints the tree
 * ```
 */
export function installTracing<C extends object>(rt: RuntimeBase<C>, options: TracerOptions): Tracer {
  const part = (rt as unknown as PartHost).part<TracingPart>('tracing');
  if (part === undefined) throw new NotImplementedError('tracing (this build defines globalThis.__ZOKIO_TRACE__ = false)');
  const tracer = new Tracer(options);
  part.use(tracer);
  return tracer;
}

/**
 * The tracer of `rt`, or undefined when tracing is off there.
 *
 * @example
 * ```ts
 * import { Runtime } from 'zokio';
 * import { tracerOf } from 'zokio/trace';
 * const rt = Runtime.builder().tracing({ exporter: 'console' }).build();
 * await tracerOf(rt)?.flush();
 * await rt.shutdown();
 * ```
 */
export function tracerOf<C extends object>(rt: RuntimeBase<C>): Tracer | undefined {
  const tracer = runtimeTracer(rt);
  return tracer instanceof Tracer ? tracer : undefined;
}
