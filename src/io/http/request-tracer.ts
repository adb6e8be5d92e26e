/**
 * TRACING HOOK (for `src/trace`): the one place `serve()` lets tracing wrap a request.
 *
 * Implementation note. `serve()` calls the registered tracer around every handler call,
 * inside the runtime's context (the store a task of the request would run in). The
 * tracing module registers a tracer that extracts the incoming W3C `traceparent` from
 * `request.headers`, opens a server span around `next()`, and records the status of the
 * result. With no tracer registered (the
 * default) `serve()` calls the handler directly, at no cost. This file imports nothing,
 * so the tracing module can depend on it without pulling in `node:http`.
 */

/** What a tracer sees of the request. */
export interface TracedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/**
 * Wraps one handler call: must call `next()` exactly once and return (or rethrow) its
 * outcome. `next()` gives what the handler returned (a response init, a `Response` or an
 * SSE body); read `status` from it when present. It is typed as a promise, but for a
 * synchronous handler it is the plain value (and a synchronous throw is thrown by
 * `next()` itself): `await` it, never call `.then` on it. A tracer that has nothing to
 * record should `return next()` unchanged, so that a synchronous handler costs no promise.
 */
export type RequestTracer = (request: TracedRequest, next: () => Promise<unknown>) => Promise<unknown>;

let tracer: RequestTracer | undefined;

/**
 * @internal Registers the tracer `serve()` wraps every handler call with (`undefined`
 * removes it). Returns the previous tracer. Called by the tracing module.
 */
export function setRequestTracer(next: RequestTracer | undefined): RequestTracer | undefined {
  const previous = tracer;
  tracer = next;
  return previous;
}

/** @internal The registered tracer, read by `serve()` per request. */
export function currentRequestTracer(): RequestTracer | undefined {
  return tracer;
}
