/**
 * `request()`: one HTTP request through the runtime's connection pools, with a deadline,
 * retries and a client span.
 *
 * Implementation note. Each attempt is one undici `dispatcher.request` on the agent of
 * the request's TLS options (`pool.ts`), and one {@link Attempt} object that the caller's
 * `signal`, the current task's signal and the deadline abort (it is also the abort signal
 * undici is given, the deadline's timer target and the response's hooks: no closure and
 * no `AbortController` per request). The deadline is a timer on
 * the runtime's wheel (a `VirtualClock` moves it in tests): it covers the wait for the
 * response head and then each wait of the reader for a body chunk (not the time the
 * reader spends on a chunk), so a server that stops sending mid-body fails as surely as one that never
 * answers. An abort destroys undici's request: its socket is closed, and the pool opens a
 * new one for the next request.
 *
 * Retries (only for idempotent methods and a body that can be sent again): after a
 * refused or reset connection, a deadline, or a status in `retry.statuses`. The delay is
 * `Retry-After` when the server sent one, else exponential backoff with jitter,
 * `min(maxDelayMs, minDelayMs * 2^attempt)` scaled by a random factor in [0.5, 1], and it
 * runs on the runtime's timers too.
 */
import type { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { TimeoutError } from '../../../errors.js';
import { currentRuntimeObject } from '../../../runtime/current.js';
import { taskWait } from '../../../scheduler/task.js';
import { abortReason, checkDelay, sleep, timerDriverOf, type TimerDriver } from '../../../scheduler/time.js';
import { currentSpan, span, tracingActive, type Span } from '../../../trace/span.js';
import { injectTraceparent } from '../../../trace/traceparent.js';
import { asTlsError, HttpClientError } from './errors.js';
import { httpClientOf, scopeSignal, type ClientTlsOptions, type HttpClientPart } from './pool.js';
import { loadedUndici, loadUndici } from './undici.js';
import { ClientResponse, type ResponseHooks } from './response.js';

/** How a failed request is tried again. */
export interface RetryOptions {
  /** Attempts after the first. @default 0 */
  readonly retries?: number;
  /** First backoff delay, in ms (doubled per attempt, with jitter). @default 100 */
  readonly minDelayMs?: number;
  /** Largest backoff delay, in ms; also caps `Retry-After`. @default 10000 */
  readonly maxDelayMs?: number;
  /** Statuses that are retried. @default [408, 429, 502, 503, 504] */
  readonly statuses?: readonly number[];
}

/** A request body: text, bytes, or a stream of chunks (a stream is never retried). */
export type RequestBody = string | Uint8Array | AsyncIterable<Uint8Array | string> | Readable | null;

/** Options of {@link request}. */
export interface RequestOptions {
  /** @default 'GET' (`'POST'` when `json` or `body` is set) */
  readonly method?: string;
  /** Request headers. */
  readonly headers?: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The body. */
  readonly body?: RequestBody;
  /** A value sent as JSON (sets `content-type: application/json`). */
  readonly json?: unknown;
  /** Aborts the request (and the reading of its body). */
  readonly signal?: AbortSignal;
  /**
   * Deadline for the response head, then for each wait for a body chunk (for `bytes()`,
   * `text()` and `json()` of a body whose length is known: for the whole read), in ms, on
   * the runtime's clock; 0 disables it. A miss is `TimeoutError`.
   * @default 30000
   */
  readonly timeoutMs?: number;
  /** Retries: a count, or options. @default 0 */
  readonly retry?: number | RetryOptions;
  /** TLS options for `https:` URLs (node:tls's `ca`, `cert`, `key`, `servername`, `rejectUnauthorized`). */
  readonly tls?: ClientTlsOptions;
  /**
   * Largest response body read, in bytes; more fails the read with `HttpClientError`
   * (`too_large`).
   * @default Infinity
   */
  readonly maxBodyBytes?: number;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
const RETRY_STATUSES: readonly number[] = [408, 429, 502, 503, 504];
const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * Sends one HTTP request through the current runtime's connection pool for its origin.
 *
 * Use it for calls to other services: it shares pooled keep-alive connections, gives each
 * call a deadline on the runtime's clock, retries what is safe to retry, and joins the
 * current trace (a `client` span; `traceparent` sent). Read the body once, as chunks
 * (`for await`), or whole (`json()`, `text()`, `bytes()`); a body you do not want should be
 * `cancel()`led or disposed, which frees the connection.
 *
 * @example
 * ```ts
 * import { request } from 'zokio/http';
 * const res = await request('http://127.0.0.1:8080/v1/items', { json: { name: 'a' }, timeoutMs: 2000 });
 * if (res.status !== 201) throw new Error(`upstream said ${res.status}`);
 * const created = await res.json();
 * ```
 *
 * *Cancellation*: `options.signal` and the signal of the enclosing scope (`rt.scope`,
 * aborted when the scope fails or is aborted) abort the request at any point (connecting, waiting for the head, reading the body, waiting to
 * retry): the promise or the body read rejects with the signal's reason and the socket is
 * closed. The deadline rejects with `TimeoutError` the same way. Runtime shutdown destroys
 * the pools: requests in flight fail. A task started with `rt.spawn` passes `cx.signal`.
 *
 * @throws HttpClientError (`refused`, `reset`, `too_large`), TlsError for an untrusted
 * certificate, TimeoutError, or the abort reason. A non-2xx status is not an error.
 */
export function request(url: string | URL, options: RequestOptions = {}): Promise<ClientResponse> {
  const method = (options.method ?? (options.body != null || options.json !== undefined ? 'POST' : 'GET')).toUpperCase();
  const target = typeof url === 'string' ? parseUrl(url) : url;
  if (!tracingActive()) return taskWait(send(undefined, target, method, options)); // no span to make: no closure or attributes either
  return taskWait(
    span(`HTTP ${method}`, (s) => send(s, target, method, options), {
      kind: 'client',
      attributes: { 'http.request.method': method, 'url.full': target.href },
    }),
  );
}

/** Parsed URLs by their text: a client calls the same few URLs again and again. */
const parsedUrls = new Map<string, URL>();

/** `new URL(text)`, cached (the cache is dropped whole when it reaches 1024 entries). */
function parseUrl(text: string): URL {
  let url = parsedUrls.get(text);
  if (url === undefined) {
    url = new URL(text);
    if (parsedUrls.size >= 1024) parsedUrls.clear();
    parsedUrls.set(text, url);
  }
  return url;
}

async function send(s: Span | undefined, url: URL, method: string, options: RequestOptions): Promise<ClientResponse> {
  const runtime = currentRuntimeObject();
  const client = httpClientOf(runtime);
  const timers = timerDriverOf(runtime);
  const dispatcher = client.agent(loadedUndici() ?? (await loadUndici()), options.tls);
  const timeoutMs = options.timeoutMs === undefined ? 30_000 : checkDelay(options.timeoutMs, 'timeoutMs');
  const retry = typeof options.retry === 'number' ? { retries: options.retry } : (options.retry ?? {});
  const retries = retry.retries ?? 0;
  // A copy only when something is added: the JSON content type or a traceparent.
  const traced = currentSpan() !== undefined;
  let headers = options.headers as Record<string, string | readonly string[] | undefined> | undefined;
  if (options.json !== undefined) headers = { ...JSON_HEADERS, ...headers };
  else if (traced) headers = { ...headers };
  if (traced) injectTraceparent(headers!);
  const body = options.json === undefined ? (options.body ?? null) : JSON.stringify(options.json);
  const replayable = body === null || typeof body === 'string' || body instanceof Uint8Array;
  const canRetry = retries > 0 && replayable && IDEMPOTENT.has(method);
  const taskSignal = scopeSignal(runtime);
  const maxBytes = options.maxBodyBytes ?? Infinity;
  for (let attempt = 0; ; attempt++) {
    client.requests++;
    let outcome: ClientResponse | undefined;
    let failure: unknown;
    try {
      outcome = await attemptOnce(client, timers, dispatcher, url, method, headers, body, timeoutMs, maxBytes, options.signal, taskSignal);
    } catch (err) {
      failure = err;
    }
    const retryable = canRetry && attempt < retries && (outcome === undefined ? isTransient(failure, options.signal, taskSignal) : (retry.statuses ?? RETRY_STATUSES).includes(outcome.status));
    if (!retryable) {
      if (outcome === undefined) throw failure;
      s?.setAttribute('http.response.status_code', outcome.status);
      if (outcome.status >= 500) s?.setStatus('error', `HTTP ${outcome.status}`);
      if (attempt > 0) s?.setAttribute('http.request.resend_count', attempt);
      return outcome;
    }
    const delay = retryDelay(attempt, retry, outcome?.headers['retry-after'], Math.random());
    if (outcome !== undefined) await outcome.cancel();
    s?.addEvent('retry', { attempt: attempt + 1, delayMs: delay, reason: outcome !== undefined ? `HTTP ${outcome.status}` : String((failure as Error)?.message ?? failure) });
    client.retries++;
    await sleep(delay, { signal: combinedSignal(options.signal, taskSignal) });
  }
}

/** The signal a retry's wait listens to: the caller's, the task's, both, or none. */
function combinedSignal(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return AbortSignal.any([a, b]);
}

/** True for failures worth another attempt: refused or reset connections and deadlines, never an abort. */
function isTransient(err: unknown, signal: AbortSignal | undefined, taskSignal: AbortSignal | undefined): boolean {
  if (signal?.aborted || taskSignal?.aborted) return false;
  if (err instanceof TimeoutError) return true;
  return err instanceof HttpClientError && (err.kind === 'refused' || err.kind === 'reset');
}

/**
 * @internal The delay before retry number `attempt + 1`, in ms: `Retry-After` (capped at
 * `maxDelayMs`) when present, else `min(maxDelayMs, minDelayMs * 2^attempt)` scaled into
 * [0.5, 1] by `random` (a number in [0, 1)).
 */
export function retryDelay(attempt: number, retry: RetryOptions, retryAfter: string | string[] | undefined, random: number): number {
  const max = retry.maxDelayMs ?? 10_000;
  const after = typeof retryAfter === 'string' ? parseRetryAfter(retryAfter) : undefined;
  if (after !== undefined) return Math.min(after, max);
  const base = Math.min(max, (retry.minDelayMs ?? 100) * 2 ** attempt);
  return base / 2 + random * (base / 2);
}

/** `Retry-After` as ms: delta-seconds, or an HTTP date (counted from the wall clock). */
export function parseRetryAfter(value: string): number | undefined {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * One attempt: the dispatch, its deadline and its abort wiring. One object is the abort
 * listener of both signals (`handleEvent`), the timer's callback (`fire`), the hooks of
 * the response it makes, and the abort signal undici is given, instead of a closure or an
 * object for each: they were a measurable share of a small request's cost.
 *
 * undici's `signal` option takes an EventEmitter as well as an `AbortSignal` (its
 * documented contract: `on`/`once` and `removeListener` of `'abort'`, and `reason`). The
 * attempt is that emitter, which saves an `AbortController` and Node's abort-listener
 * bookkeeping per request (about 1 µs on Node 24). It has no `aborted` property on purpose:
 * undici treats an object with one as an `AbortSignal`.
 */
class Attempt implements ResponseHooks {
  #timer = -1;
  #isAborted = false;
  #reason: unknown = undefined;
  /** undici's abort listener (it adds one), and any others. */
  #listener: (() => void) | undefined = undefined;
  #more: Array<() => void> | undefined = undefined;
  #cleaned = false;

  constructor(
    private readonly client: HttpClientPart,
    private readonly timers: TimerDriver,
    private readonly url: URL,
    private readonly method: string,
    private readonly timeoutMs: number,
    private readonly signal: AbortSignal | undefined,
    private readonly taskSignal: AbortSignal | undefined,
  ) {
    client.inFlight++;
    signal?.addEventListener('abort', this);
    taskSignal?.addEventListener('abort', this);
    this.arm();
  }

  /** The caller's or the task's signal aborted: abort the request with its reason. */
  handleEvent(event: Event): void {
    this.abort(abortReason(event.target as AbortSignal));
  }

  /** Aborts the attempt with `reason` (once): undici destroys the request and its socket. */
  abort(reason: unknown): void {
    if (this.#isAborted) return;
    this.#isAborted = true;
    this.#reason = reason;
    const listener = this.#listener;
    const more = this.#more;
    this.#listener = this.#more = undefined;
    if (listener !== undefined) listener();
    if (more !== undefined) for (const fn of more) fn();
  }

  /** Whether the attempt was aborted (a deadline or a signal). */
  get isAborted(): boolean {
    return this.#isAborted;
  }

  /** The abort reason, read by undici's listener. */
  get reason(): unknown {
    return this.#reason;
  }

  /** EventEmitter's `on('abort', fn)`, for undici. */
  on(event: string, fn: () => void): this {
    if (event !== 'abort') return this;
    if (this.#listener === undefined) this.#listener = fn;
    else (this.#more ??= []).push(fn);
    return this;
  }

  /** EventEmitter's `once('abort', fn)`, for undici (an abort happens once anyway). */
  once(event: string, fn: () => void): this {
    return this.on(event, fn);
  }

  /** EventEmitter's `removeListener('abort', fn)`, for undici. */
  removeListener(event: string, fn: () => void): this {
    if (event !== 'abort') return this;
    if (this.#listener === fn) this.#listener = undefined;
    else if (this.#more !== undefined) {
      const i = this.#more.indexOf(fn);
      if (i >= 0) this.#more.splice(i, 1);
    }
    return this;
  }

  /** EventEmitter's `off`. */
  off(event: string, fn: () => void): this {
    return this.removeListener(event, fn);
  }

  /** The deadline passed; at the driver's shutdown (`closed`) nothing: the pools are destroyed and fail the request. */
  fire(closed?: Promise<never>): void {
    this.#timer = -1;
    if (closed !== undefined) return;
    this.abort(new TimeoutError(`${this.method} ${this.url.href}: no response within ${this.timeoutMs} ms`));
  }

  arm(): void {
    if (this.timeoutMs === 0) return;
    const timers = this.timers;
    if (this.#timer !== -1) timers.cancel(this.#timer);
    this.#timer = timers.add(timers.clock.now() + this.timeoutMs, this, false);
  }

  disarm(): void {
    if (this.#timer !== -1) this.timers.cancel(this.#timer);
    this.#timer = -1;
  }

  done(): void {
    if (this.#cleaned) return;
    this.#cleaned = true;
    this.client.inFlight--;
    this.disarm();
    this.signal?.removeEventListener('abort', this);
    this.taskSignal?.removeEventListener('abort', this);
  }

  failure(): unknown {
    return this.#isAborted ? this.#reason : undefined;
  }

  /** undici answered with a head. */
  respond(res: Dispatcher.ResponseData, maxBytes: number): ClientResponse {
    if (this.#isAborted) {
      res.body.destroy();
      this.done();
      throw this.#reason;
    }
    this.disarm();
    return new ClientResponse(this.url.href, res.statusCode, res.headers, res.body, maxBytes, this);
  }

  /** undici failed before a head. */
  fail(err: unknown): never {
    this.done();
    throw translate(err, this, this.url);
  }
}

/** One attempt: starts an {@link Attempt} and dispatches it. */
async function attemptOnce(
  client: HttpClientPart,
  timers: TimerDriver,
  dispatcher: Dispatcher,
  url: URL,
  method: string,
  headers: Record<string, string | readonly string[] | undefined> | undefined,
  body: RequestBody,
  timeoutMs: number,
  maxBytes: number,
  signal: AbortSignal | undefined,
  taskSignal: AbortSignal | undefined,
): Promise<ClientResponse> {
  if (signal?.aborted) throw abortReason(signal);
  if (taskSignal?.aborted) throw abortReason(taskSignal);
  const attempt = new Attempt(client, timers, url, method, timeoutMs, signal, taskSignal);
  let res: Dispatcher.ResponseData;
  try {
    res = await dispatcher.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method: method as Dispatcher.HttpMethod,
      headers: headers as Record<string, string | string[]> | undefined,
      body: body as Dispatcher.DispatchOptions['body'],
      signal: attempt as unknown as EventEmitter,
    });
  } catch (err) {
    return attempt.fail(err);
  }
  return attempt.respond(res, maxBytes);
}

/** undici's errors as Zokio's: the abort reason, TlsError, or HttpClientError by kind. */
function translate(err: unknown, attempt: Attempt, url: URL): unknown {
  if (attempt.isAborted) return attempt.reason;
  const tls = asTlsError(err);
  if (tls !== undefined) return tls;
  const code = (err as { code?: string } | null)?.code;
  const message = `${url.origin}: ${(err as Error)?.message ?? String(err)}`;
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new HttpClientError('refused', `connection refused: ${message}`, { cause: err });
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return new HttpClientError('reset', `connection closed before the response: ${message}`, { cause: err });
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new TimeoutError(`connect timed out: ${message}`);
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_STATUS':
    case 'HPE_INVALID_HEADER_TOKEN':
    case 'UND_ERR_INFO':
      return new HttpClientError('protocol', `invalid HTTP response: ${message}`, { cause: err });
    default:
      if (typeof code === 'string' && code.startsWith('HPE_')) return new HttpClientError('protocol', `invalid HTTP response: ${message}`, { cause: err });
      return err;
  }
}
