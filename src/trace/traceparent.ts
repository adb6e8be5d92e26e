/**
 * W3C Trace Context `traceparent` header: `version-traceid-parentid-flags`, e.g.
 * `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`.
 *
 * Implementation note. Parsing is strict, as the spec asks: exactly two lowercase hex
 * digits of version, 32 of trace id, 16 of parent id, 2 of flags; version `ff` is invalid;
 * version `00` must be exactly 55 characters; a later version may append `-...` after the
 * flags. All-zero trace or parent ids are invalid. A header sent twice (an array, or
 * Node's comma-joined value) is invalid. Invalid input yields undefined: the receiver
 * starts a new trace.
 */
import { isValidSpanId, isValidTraceId } from './ids.js';
import { currentSpan, type SpanContext } from './span.js';

const HEADER = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * Formats a span context as a `traceparent` value (version 00).
 *
 * @example
 * ```ts
 * import { formatTraceparent } from 'zokio/trace';
 * formatTraceparent({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', sampled: true });
 * // '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
 * ```
 */
export function formatTraceparent(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${context.sampled ? '01' : '00'}`;
}

/**
 * Parses a `traceparent` value strictly; undefined when it is invalid.
 *
 * @example
 * ```ts
 * import { parseTraceparent } from 'zokio/trace';
 * parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')?.sampled; // true
 * parseTraceparent('00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01'); // undefined
 * ```
 */
export function parseTraceparent(value: string): SpanContext | undefined {
  if (typeof value !== 'string') return undefined;
  const m = HEADER.exec(value);
  if (m === null) return undefined;
  const version = m[1]!;
  if (version === 'ff') return undefined;
  if (version === '00' && m[5] !== undefined) return undefined;
  const traceId = m[2]!;
  const spanId = m[3]!;
  if (!isValidTraceId(traceId) || !isValidSpanId(spanId)) return undefined;
  return { traceId, spanId, sampled: (parseInt(m[4]!, 16) & 1) === 1, remote: true };
}

/** Headers to read from: a plain object (Node's `req.headers`) or a `Headers`-like `get`. */
export type HeaderSource = Readonly<Record<string, string | readonly string[] | number | undefined>> | {
  /** Returns the value of header `name` (case-insensitive), or null/undefined when absent. */
  get(name: string): string | null | undefined;
};

/** Headers to write to: a plain object, a `Headers`-like `set`, or a Node message's `setHeader`. */
export type HeaderTarget = Record<string, unknown> | {
  /** Sets header `name` to `value` (the `Headers` API). */
  set(name: string, value: string): unknown;
} | {
  /** Sets header `name` to `value` (Node's `OutgoingMessage.setHeader`). */
  setHeader(name: string, value: string): unknown;
};

/**
 * Writes the `traceparent` of `context` (default: the current span) into `headers` and
 * returns them. Writes nothing when there is no current span (tracing off).
 *
 * Use it on outgoing requests so the callee continues the trace.
 *
 * @example
 * ```ts
 * import { injectTraceparent, span } from 'zokio/trace';
 * await span('call billing', async () => {
 *   const headers = injectTraceparent({ 'content-type': 'application/json' });
 *   // await fetch('http://billing/charge', { method: 'POST', headers });
 *   return headers;
 * });
 * ```
 */
export function injectTraceparent<H extends HeaderTarget>(headers: H, context: SpanContext | undefined = currentSpan()): H {
  if (context === undefined) return headers;
  const value = formatTraceparent(context);
  if (typeof (headers as { set?: unknown }).set === 'function') (headers as { set(n: string, v: string): unknown }).set('traceparent', value);
  else if (typeof (headers as { setHeader?: unknown }).setHeader === 'function') (headers as { setHeader(n: string, v: string): unknown }).setHeader('traceparent', value);
  else (headers as Record<string, unknown>).traceparent = value;
  return headers;
}

/**
 * Reads and validates the `traceparent` of incoming `headers`; undefined when absent or
 * invalid (see {@link parseTraceparent}). The result is a remote span context that
 * `runWithTraceContext` or an HTTP server span continues.
 *
 * @example
 * ```ts
 * import { extractTraceparent } from 'zokio/trace';
 * const parent = extractTraceparent({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' });
 * console.log(parent?.traceId); // '4bf92f3577b34da6a3ce929d0e0e4736'
 * ```
 */
export function extractTraceparent(headers: HeaderSource): SpanContext | undefined {
  let value: unknown;
  if (typeof (headers as { get?: unknown }).get === 'function') value = (headers as { get(n: string): unknown }).get('traceparent');
  else {
    const record = headers as Readonly<Record<string, unknown>>;
    value = record.traceparent;
    if (value === undefined) {
      for (const key of Object.keys(record)) if (key.toLowerCase() === 'traceparent') value = record[key];
    }
  }
  if (Array.isArray(value)) value = value.length === 1 ? value[0] : undefined;
  return typeof value === 'string' ? parseTraceparent(value) : undefined;
}
