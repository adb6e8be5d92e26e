/**
 * `fetch()`: the WHATWG `fetch` of undici, on the runtime's connection pools, with a
 * client span and a deadline on the runtime's timers.
 */
import { TimeoutError } from '../../../errors.js';
import { currentRuntimeObject } from '../../../runtime/current.js';
import { taskWait } from '../../../scheduler/task.js';
import { checkDelay, timerDriverOf } from '../../../scheduler/time.js';
import { span } from '../../../trace/span.js';
import { injectTraceparent } from '../../../trace/traceparent.js';
import { asTlsError } from './errors.js';
import { httpClientOf, scopeSignal, type ClientTlsOptions } from './pool.js';
import { loadUndici } from './undici.js';

/** `fetch` options: the standard `RequestInit`, plus a deadline and TLS options. */
export interface FetchInit extends RequestInit {
  /**
   * Deadline for the response head, in ms, on the runtime's clock; 0 disables it. A miss
   * rejects with `TimeoutError` (the body is not covered: pass a `signal` for that).
   * @default 30000
   */
  readonly timeoutMs?: number;
  /** TLS options for `https:` URLs (node:tls's `ca`, `cert`, `key`, `servername`, `rejectUnauthorized`). */
  readonly tls?: ClientTlsOptions;
}

/**
 * A `fetch`-compatible function on the current runtime's connection pools (undici's
 * `fetch`): same arguments, a standard `Response`.
 *
 * Use it where code expects `fetch`; prefer {@link request} on hot paths (it skips the
 * WHATWG stream and `Headers` layers).
 *
 * @example
 * ```ts
 * import { fetch } from 'zokio/http';
 * const res = await fetch('http://127.0.0.1:8080/health', { timeoutMs: 1000 });
 * console.log(res.status, await res.text());
 * ```
 *
 * *Cancellation*: `init.signal` and the signal of the enclosing scope abort the fetch (the
 * promise, or a body read, rejects with the reason); the deadline rejects with
 * `TimeoutError` before the head arrives.
 *
 * @throws TlsError for an untrusted certificate; TypeError (`fetch failed`) for other
 * network errors, with the cause, as the standard says.
 */
export function fetch(input: string | URL | Request, init: FetchInit = {}): Promise<Response> {
  const method = (init.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
  const url = input instanceof Request ? input.url : String(input);
  return taskWait(span(`HTTP ${method}`, async (s) => {
    const runtime = currentRuntimeObject();
    const timers = timerDriverOf(runtime);
    const timeoutMs = init.timeoutMs === undefined ? 30_000 : checkDelay(init.timeoutMs, 'timeoutMs');
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
    injectTraceparent(headers);
    const controller = new AbortController();
    const signals = [init.signal ?? undefined, scopeSignal(runtime)].filter((x): x is AbortSignal => x != null);
    const onAbort = function (this: AbortSignal): void {
      controller.abort(this.reason);
    };
    for (const sig of signals) {
      if (sig.aborted) controller.abort(sig.reason);
      else sig.addEventListener('abort', onAbort, { once: true });
    }
    const timer = timeoutMs === 0 ? -1 : timers.add(timers.clock.now() + timeoutMs, () => controller.abort(new TimeoutError(`${method} ${url}: no response within ${timeoutMs} ms`)), false);
    try {
      const { timeoutMs: _t, tls, ...rest } = init;
      const u = await loadUndici();
      const undiciFetch = u.fetch;
      const dispatcher = httpClientOf(runtime).agent(u, tls);
      const res = await undiciFetch(input as Parameters<typeof undiciFetch>[0], { ...(rest as object), headers, signal: controller.signal, dispatcher } as Parameters<typeof undiciFetch>[1]);
      s.setAttribute('http.response.status_code', res.status);
      return res as unknown as Response;
    } catch (err) {
      if (controller.signal.aborted) throw controller.signal.reason;
      throw asTlsError((err as { cause?: unknown }).cause) ?? err;
    } finally {
      if (timer !== -1) timers.cancel(timer);
      for (const sig of signals) sig.removeEventListener('abort', onAbort);
    }
  }, { kind: 'client', attributes: { 'http.request.method': method, 'url.full': url } }));
}
