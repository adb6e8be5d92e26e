/**
 * The HTTP client: `request`, `fetch` and `events` on undici's per-origin pools.
 */
export { request, parseRetryAfter, type RequestOptions, type RequestBody, type RetryOptions } from './request.js';
export { fetch, type FetchInit } from './fetch.js';
export { events, type ClientSseEvent, type EventsOptions, type ReconnectOptions } from './events.js';
export { ClientResponse } from './response.js';
export { HttpClientError, TlsError, type HttpClientErrorKind } from './errors.js';
export { type ClientTlsOptions, type HttpClientMetrics } from './pool.js';
