/**
 * Moving the trace context across boundaries the AsyncLocalStorage does not cross: worker
 * threads (inside task records) and processes (the W3C `traceparent` header).
 *
 * Implementation note. A {@link TraceContext} is plain data: the `traceparent` of the
 * current span plus the name of the channel finished spans go back on. The pool captures
 * one when it submits a task and the worker runs the task inside it, so spans the task
 * starts are children of the span that called `exec`, in the same trace, and come back to
 * the caller's tracer. Nested `join` works the same way: the worker captures the context
 * of the span running `join` into the record of the forked half.
 */
import { contextStorage } from '../runtime/context.js';
import { parseTraceparent, formatTraceparent, extractTraceparent, type HeaderSource } from './traceparent.js';
import { currentSpan, currentSpanBase, NonRecordingSpan, runtimeTracer, runWithSpan, span, tracingActive, type Span, type SpanBase, type SpanContext, type SpanFactory, type SpanOptions } from './span.js';
import { routedTracer, SinkTracer, sinkTracer, Tracer } from './tracer.js';

/**
 * The trace context of a span as it travels to another thread: structured-clone safe.
 *
 * @example
 * ```ts
 * import { captureTraceContext, runWithTraceContext, span } from 'zokio/trace';
 * const ctx = captureTraceContext(); // undefined outside a span or with tracing off
 * runWithTraceContext(ctx, () => span('child', () => 1));
 * ```
 */
export interface TraceContext {
  /** The W3C `traceparent` of the span that was current. */
  readonly traceparent: string;
  /** Channel that spans recorded under this context are posted on (the caller's tracer). */
  readonly sink?: string;
}

/**
 * The context of the current span, to carry into a worker task or a message; undefined
 * when there is no current span (or tracing is off).
 *
 * Use it when you hand work to a thread or queue Zokio does not know about; the pool and
 * `serve()` call it (or its counterpart) for you.
 *
 * @example
 * ```ts
 * import { captureTraceContext, span } from 'zokio/trace';
 * span('submit', () => {
 *   const ctx = captureTraceContext();
 *   // worker.postMessage({ job: 1, trace: ctx });
 *   return ctx;
 * });
 * ```
 */
export function captureTraceContext(): TraceContext | undefined {
  if ((globalThis as { __ZOKIO_TRACE__?: boolean }).__ZOKIO_TRACE__ === false || currentSpan() === undefined) return undefined;
  const s = currentSpanBase()!;
  const tracer = s.tracer;
  const sink = !s.sampled ? undefined : tracer instanceof Tracer ? tracer.route(s.traceId) : tracer instanceof SinkTracer ? tracer.name : undefined;
  const traceparent = formatTraceparent(s);
  return sink === undefined ? { traceparent } : { traceparent, sink };
}

const parsed = new WeakMap<object, SpanBase | null>();

/** @internal The remote parent span a context stands for (cached per context object), or undefined. */
export function remoteParentOf(context: TraceContext | SpanContext | undefined): SpanBase | undefined {
  if (context === undefined || context === null || typeof context !== 'object') return undefined;
  const cached = parsed.get(context);
  if (cached !== undefined) return cached ?? undefined;
  let sc: SpanContext | undefined;
  let tracer: SpanFactory | undefined;
  if ('traceparent' in context) {
    sc = parseTraceparent(context.traceparent);
    // Back on a thread whose tracer handed the context out: record there, no channel.
    if (sc !== undefined) tracer = routedTracer(sc.traceId);
    if (tracer === undefined && context.sink !== undefined) tracer = sinkTracer(context.sink);
  } else {
    sc = context;
  }
  if (tracer === undefined) {
    const store = contextStorage.getStore();
    tracer = store !== undefined ? runtimeTracer(store.runtime) : undefined;
  }
  const parent = sc === undefined ? undefined : new NonRecordingSpan(tracer, sc.traceId, sc.spanId, undefined, 'remote parent', 'internal', sc.sampled, true);
  // Contexts without a sink depend on the runtime in scope: cache only the ones with one.
  if ('sink' in context && context.sink !== undefined) parsed.set(context, parent ?? null);
  return parent;
}

/**
 * Runs `fn` with a context from another thread or process as the current parent: spans
 * `fn` starts join that trace. `context` is a {@link TraceContext} (from
 * {@link captureTraceContext}) or a span context (from `extractTraceparent`); undefined
 * or invalid runs `fn` as is.
 *
 * @example
 * ```ts
 * import { extractTraceparent, runWithTraceContext, span } from 'zokio/trace';
 * const parent = extractTraceparent({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' });
 * runWithTraceContext(parent, () => span('handle message', () => 'ok'));
 * ```
 */
export function runWithTraceContext<T>(context: TraceContext | SpanContext | undefined, fn: () => T): T {
  if ((globalThis as { __ZOKIO_TRACE__?: boolean }).__ZOKIO_TRACE__ === false || context === undefined) return fn();
  // Without a sink the context can only feed a tracer that already runs here.
  if (!tracingActive() && (context as TraceContext).sink === undefined) return fn();
  const parent = remoteParentOf(context);
  if (parent === undefined) return fn();
  return runWithSpan(parent, fn);
}

/**
 * Runs `fn` in a `server` span named `name` that continues the trace of an incoming
 * request's `traceparent` (or starts a new trace when it is absent or invalid).
 *
 * Use it in request handlers that `serve()` does not wrap for you (raw `node:http`).
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { serverSpan } from 'zokio/trace';
 * createServer((req, res) =>
 *   serverSpan(`${req.method} ${req.url}`, req.headers, (s) => {
 *     s.setAttribute('http.request.method', req.method ?? 'GET');
 *     res.end('ok');
 *   }),
 * );
 * ```
 *
 * *Cancellation*: as {@link span}.
 */
export function serverSpan<T>(name: string, headers: HeaderSource, fn: (span: Span) => T, options?: SpanOptions): T {
  const spanOptions: SpanOptions = { ...options, kind: 'server' };
  if ((globalThis as { __ZOKIO_TRACE__?: boolean }).__ZOKIO_TRACE__ === false || !tracingActive()) return span(name, fn, spanOptions);
  const remote = extractTraceparent(headers);
  if (remote === undefined) return span(name, fn, spanOptions);
  return runWithTraceContext(remote, () => span(name, fn, spanOptions));
}
