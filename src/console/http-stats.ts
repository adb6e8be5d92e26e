/**
 * HTTP counters for the console, gathered through `serve()`'s request-tracer hook while a
 * console client is connected (and not at all otherwise).
 *
 * Implementation note. The console wraps whatever tracer is registered (tracing's, if any)
 * and calls it as `next`. A synchronous handler's result is a plain value: it is counted
 * at once, with no promise; a promise is counted when it settles. Latency is the handler's
 * time (until its result or its streaming body is returned), on `performance.now()`.
 * Buckets: upper bounds in ms, the last one unbounded.
 */
import { performance } from 'node:perf_hooks';
import { currentRequestTracer, setRequestTracer, type RequestTracer, type TracedRequest } from '../io/http/request-tracer.js';
import { isThenable } from '../scheduler/thenable.js';
import type { HttpSection } from './model.js';

/** Upper bounds of the latency buckets, in ms. */
export const LATENCY_BOUNDS_MS: readonly number[] = Object.freeze([1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500]);

/** @internal */
export class HttpStats {
  requests = 0;
  inFlight = 0;
  readonly status = { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, error: 0 };
  readonly latency = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  #installed: RequestTracer | undefined;
  #previous: RequestTracer | undefined;
  #lastRequests = 0;
  #lastTime = -1;

  /** Starts counting requests. */
  install(): void {
    if (this.#installed !== undefined) return;
    const previous = currentRequestTracer();
    this.#previous = previous;
    const tracer: RequestTracer = (request, next) => this.#around(request, previous === undefined ? next : () => previous(request, next));
    this.#installed = tracer;
    setRequestTracer(tracer);
  }

  /** Stops counting (restores the previous tracer unless another one replaced ours). */
  uninstall(): void {
    if (this.#installed === undefined) return;
    if (currentRequestTracer() === this.#installed) setRequestTracer(this.#previous);
    this.#installed = undefined;
    this.#previous = undefined;
  }

  #around(_request: TracedRequest, next: () => Promise<unknown>): Promise<unknown> {
    const start = performance.now();
    this.inFlight++;
    let result: unknown;
    try {
      result = next();
    } catch (err) {
      this.#count(undefined, start, true);
      throw err;
    }
    if (!isThenable(result)) {
      this.#count(result, start, false);
      return result as Promise<unknown>;
    }
    return (result as Promise<unknown>).then(
      (value) => {
        this.#count(value, start, false);
        return value;
      },
      (err: unknown) => {
        this.#count(undefined, start, true);
        throw err;
      },
    );
  }

  #count(result: unknown, start: number, failed: boolean): void {
    this.inFlight--;
    this.requests++;
    const ms = performance.now() - start;
    let bucket = 0;
    while (bucket < LATENCY_BOUNDS_MS.length && ms > LATENCY_BOUNDS_MS[bucket]!) bucket++;
    this.latency[bucket]!++;
    if (failed) {
      this.status.error++;
      return;
    }
    const raw = result !== null && typeof result === 'object' ? (result as { status?: unknown }).status : undefined;
    const status = typeof raw === 'number' ? raw : 200;
    const key = status < 200 ? '1xx' : status < 300 ? '2xx' : status < 400 ? '3xx' : status < 500 ? '4xx' : '5xx';
    this.status[key]++;
  }

  /** The section at console time `now`; the rate is over the time since the last call. */
  section(now: number): HttpSection {
    const elapsed = this.#lastTime < 0 ? 0 : now - this.#lastTime;
    const perSec = elapsed > 0 ? ((this.requests - this.#lastRequests) * 1000) / elapsed : 0;
    this.#lastTime = now;
    this.#lastRequests = this.requests;
    return {
      requests: this.requests,
      perSec: Math.round(perSec * 10) / 10,
      inFlight: this.inFlight,
      status: { ...this.status },
      latencyBoundsMs: LATENCY_BOUNDS_MS,
      latencyCounts: this.latency.slice(),
    };
  }
}
