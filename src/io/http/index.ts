/**
 * `zokio/http`: `serve()` runs each request in the runtime's context (a response still
 * in flight is a runtime task), with request limits (400/408/413/431), server-sent events with heartbeats and backpressure, and graceful
 * shutdown.
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
export { type HttpRequest } from './request.js';
export { HttpError } from './http-error.js';
export { sse, SseBody, formatSseEvent, type SseEvent, type SseItem, type SseOptions, type SseSource, type SseStats } from './sse.js';
