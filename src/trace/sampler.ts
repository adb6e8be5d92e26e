/**
 * Samplers decide, when a span starts, whether it is recorded.
 *
 * Implementation note. A sampler sees the new span's trace id and its parent's context.
 * `ratioSampler` decides from the trace id alone, so every process that sees the same
 * trace makes the same choice; `parentBasedSampler` follows the parent's `sampled` flag
 * and asks its root sampler only for new traces. An unsampled span still has ids and is
 * still current (its children inherit the decision); it is never exported.
 */
import type { SpanContext } from './span.js';

/**
 * Decides whether a new span is recorded.
 *
 * @example
 * ```ts
 * import type { Sampler } from 'zokio/trace';
 * const onlyCheckout: Sampler = {
 *   description: 'only checkout',
 *   shouldSample: (_traceId, parent, name) => parent?.sampled ?? name === 'checkout',
 * };
 * ```
 */
export interface Sampler {
  /** Text for reports, e.g. `ratio(0.1)`. */
  readonly description: string;
  /** True to record the span named `name` in trace `traceId`, whose parent is `parent`. */
  shouldSample(traceId: string, parent: SpanContext | undefined, name: string): boolean;
}

/**
 * Records every span. The default when no sample ratio is configured.
 *
 * @example
 * ```ts
 * import { alwaysSampler } from 'zokio/trace';
 * console.log(alwaysSampler.shouldSample('4bf92f3577b34da6a3ce929d0e0e4736', undefined, 'x')); // true
 * ```
 */
export const alwaysSampler: Sampler = /* @__PURE__ */ Object.freeze({
  description: 'always',
  shouldSample: (): boolean => true,
});

/**
 * Records no span; context still propagates (ids are made, children inherit the decision).
 *
 * @example
 * ```ts
 * import { neverSampler } from 'zokio/trace';
 * console.log(neverSampler.shouldSample('4bf92f3577b34da6a3ce929d0e0e4736', undefined, 'x')); // false
 * ```
 */
export const neverSampler: Sampler = /* @__PURE__ */ Object.freeze({
  description: 'never',
  shouldSample: (): boolean => false,
});

/**
 * Records a fraction `ratio` (0..1) of traces, decided from the trace id: the last 8 hex
 * digits read as an unsigned 32-bit number, below `ratio * 2^32`. Deterministic per trace.
 *
 * Use it at the root of traces (wrap it in {@link parentBasedSampler} so that children follow
 * their parent).
 *
 * @example
 * ```ts
 * import { ratioSampler } from 'zokio/trace';
 * const tenth = ratioSampler(0.1);
 * console.log(tenth.description); // 'ratio(0.1)'
 * ```
 * @throws RangeError when `ratio` is not a number from 0 to 1.
 */
export function ratioSampler(ratio: number): Sampler {
  if (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1)) throw new RangeError('ratio must be a number from 0 to 1');
  if (ratio === 1) return { description: 'ratio(1)', shouldSample: () => true };
  if (ratio === 0) return { description: 'ratio(0)', shouldSample: () => false };
  const bound = Math.floor(ratio * 0x1_0000_0000);
  return {
    description: `ratio(${ratio})`,
    shouldSample: (traceId: string): boolean => parseInt(traceId.slice(24, 32), 16) < bound,
  };
}

/**
 * Follows the parent's decision when there is a parent (local or remote), and asks `root`
 * for new traces. This is what `.tracing({ sampleRatio })` installs:
 * `parentBasedSampler(ratioSampler(sampleRatio))`.
 *
 * @example
 * ```ts
 * import { parentBasedSampler, ratioSampler } from 'zokio/trace';
 * const sampler = parentBasedSampler(ratioSampler(0.25));
 * console.log(sampler.description); // 'parent-based(ratio(0.25))'
 * ```
 */
export function parentBasedSampler(root: Sampler): Sampler {
  return {
    description: `parent-based(${root.description})`,
    shouldSample: (traceId: string, parent: SpanContext | undefined, name: string): boolean =>
      parent !== undefined ? parent.sampled : root.shouldSample(traceId, undefined, name),
  };
}
