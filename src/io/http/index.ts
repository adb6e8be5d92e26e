/**
 * `zokio/http`: `serve()` runs each request in the runtime's context (a response still
 * in flight is a runtime task), with request limits (400/408/413/431), server-sent events with heartbeats and backpressure, and graceful
 * shutdown; and the client: `request`, `fetch` and `events` (server-sent events) on
 * undici's per-origin connection pools, with deadlines and retries on the runtime's timers.
 *
 * @module zokio/http
 */
export {
  serve,
  json,
  HttpServer,
  type Handler,
  type HandlerResult,
  type HttpResponseInit,
  type ResponseBody,
  type ServeOptions,
  type ServeLimits,
} from './serve.js';
export { type BodyOptions, type HttpRequest } from './request.js';
export { HttpError } from './http-error.js';
export { sse, SseBody, formatSseEvent, type SseEvent, type SseItem, type SseOptions, type SseSource, type SseStats } from './sse.js';
export {
  request,
  fetch,
  events,
  ClientResponse,
  HttpClientError,
  TlsError,
  type RequestOptions,
  type RequestBody as ClientRequestBody,
  type RetryOptions,
  type FetchInit,
  type ClientTlsOptions,
  type HttpClientErrorKind,
  type HttpClientMetrics,
  type ClientSseEvent,
  type EventsOptions,
  type ReconnectOptions,
} from './client/index.js';
