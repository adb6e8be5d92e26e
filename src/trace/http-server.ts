/**
 * Server spans for `serve()`: {@link installServerTracing} (called by the runtime's tracing
 * part when it starts) registers the request tracer `src/io/http/request-tracer.ts` asks for, so every request handled by `zokio/http` runs in a `server` span that
 * continues the caller's trace (W3C `traceparent`).
 *
 * Implementation note. `serve()` calls the tracer in the runtime's context (the handler
 * runs there; a response still in flight is then finished by a runtime task), so the
 * runtime's store (and its tracer) is current. With no live tracer in this thread the
 * tracer calls `next()` directly. The span is named `METHOD /path` (query removed) and
 * carries the OpenTelemetry HTTP attributes `http.request.method`, `url.path` and
 * `http.response.status_code`; a 5xx answer or a thrown error marks it `error`.
 */
import { setRequestTracer, type TracedRequest } from '../io/http/request-tracer.js';
import { serverSpan } from './propagation.js';
import { tracingActive } from './span.js';

function statusOf(result: unknown): number | undefined {
  if (result === null || typeof result !== 'object') return undefined;
  const status = (result as { status?: unknown }).status;
  return typeof status === 'number' ? status : 200;
}

/** @internal The request tracer `serve()` wraps every handler call with. */
export function traceRequest(request: TracedRequest, next: () => Promise<unknown>): Promise<unknown> {
  if (!tracingActive()) return next();
  const query = request.url.indexOf('?');
  const path = query < 0 ? request.url : request.url.slice(0, query);
  return serverSpan(`${request.method} ${path}`, request.headers, async (s) => {
    s.setAttributes({ 'http.request.method': request.method, 'url.path': path });
    let result: unknown;
    try {
      result = await next();
    } catch (error) {
      const status = (error as { status?: unknown } | null)?.status;
      s.setAttribute('http.response.status_code', typeof status === 'number' ? status : 500);
      throw error;
    }
    const status = statusOf(result);
    if (status !== undefined) {
      s.setAttribute('http.response.status_code', status);
      if (status >= 500) s.setStatus('error', `HTTP ${status}`);
    }
    return result;
  });
}

/** @internal Makes `serve()` wrap each request in a server span (the tracing part calls it at start). */
export function installServerTracing(): void {
  setRequestTracer(traceRequest);
}
