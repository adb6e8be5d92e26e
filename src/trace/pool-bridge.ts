/**
 * Trace context across the work-stealing pool, through the two hooks the pool leaves
 * (installed by {@link installPoolTracing} from the tracing part's start, and by
 * {@link installWorkerTracing} from the worker entries, never at import):
 * a provider on the submitting side (`setTaskContextProvider`: its result is copied into
 * every task record) and an accessor on the worker side (`currentWorkerTaskContext()`:
 * the context of the record running now).
 *
 * Implementation note. Submitting side: when a span is current, the provider returns its
 * trace id, span id and flags as bytes, and routes that trace to the current tracer (so
 * that spans the workers post on the process sink come back to it). Worker side: the
 * first `span()` of a task finds no current span, asks the accessor, and gets a remote
 * parent for the record's context; spans the task opens are recorded by the worker's sink
 * tracer and posted when the task's outermost span ends. Every worker thread counts one
 * tracer for this, so `span()` in a worker takes the traced path (a store lookup and an
 * accessor call, then `fn` directly when the task carries no context).
 *
 * Nested `join` and `exec` inside a worker: the pool asks `forkTraceContext()` when it
 * fills the forked record of a traced task, and gets the span open around the fork, so a
 * half another worker steals is a child of that span, as is a half run inline (which sees
 * it through AsyncLocalStorage anyway). The other way round, a record the worker runs while
 * it helps inside a join (or an `exec` pushed after a join's own side) runs outside the span
 * open around that join (`setTaskSpanIsolation`), so its parent is the one it carries.
 */
import { isMainThread, threadId } from 'node:worker_threads';
import { zokioThreadKind } from '../scheduler/blocking/nested.js';
import { setTaskContextProvider } from '../scheduler/pool/worker-pool.js';
import { currentWorkerTaskContext, setForkTraceContextProvider, setTaskSpanIsolation, workerContext, type TaskTraceContext } from '../scheduler/pool/worker-context.js';
import { countTracer, currentSpanBase, detachedSpanOpen, NonRecordingSpan, runOutsideDetachedSpans, setRemoteParentAccessor, setTraceThreadName, tracingActive, type SpanBase } from './span.js';
import { processSinkName, sinkTracer, Tracer } from './tracer.js';

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** @internal The trace context of the current span as the pool stores it in a task record. */
export function provideTaskContext(): TaskTraceContext | undefined {
  if (!tracingActive()) return undefined;
  const s = currentSpanBase();
  if (s === undefined) return undefined;
  if (s.sampled && s.tracer instanceof Tracer) s.tracer.route(s.traceId);
  return { traceId: Buffer.from(s.traceId, 'hex'), spanId: Buffer.from(s.spanId, 'hex'), flags: s.sampled ? 1 : 0 };
}

let named = false;

/** @internal The remote parent a worker task's record carries, or undefined. */
export function workerTaskParent(): SpanBase | undefined {
  const ctx = currentWorkerTaskContext();
  if (ctx === undefined) return undefined;
  if (!named) {
    const index = workerContext()?.index;
    if (index !== undefined) setTraceThreadName(`pool worker ${index}`);
    else if (zokioThreadKind() === 'blocking') setTraceThreadName(`blocking thread ${threadId}`);
    named = true;
  }
  const sampled = (ctx.flags & 1) === 1;
  return new NonRecordingSpan(sinkTracer(processSinkName()), toHex(ctx.traceId), toHex(ctx.spanId), undefined, 'exec caller', 'internal', sampled, true);
}

/**
 * @internal Main-thread side: every task submitted to the pool (or the blocking pool)
 * carries the trace context of the span that submitted it. The tracing part calls it at
 * start; calling it again changes nothing.
 */
export function installPoolTracing(): void {
  if (isMainThread) setTaskContextProvider(provideTaskContext);
}

let workerInstalled = false;

/**
 * @internal Worker side: spans a worker task opens join the trace its record carries.
 * Worker entries call it once, before their first task.
 */
export function installWorkerTracing(): void {
  if (isMainThread || workerInstalled) return;
  workerInstalled = true;
  setRemoteParentAccessor(workerTaskParent);
  setForkTraceContextProvider(provideTaskContext);
  setTaskSpanIsolation({ spanOpen: detachedSpanOpen, runOutside: runOutsideDetachedSpans });
  countTracer(1);
}
