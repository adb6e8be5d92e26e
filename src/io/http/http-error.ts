/**
 * `HttpError`: an error that carries the HTTP status `serve()` answers with.
 */
import { STATUS_CODES } from 'node:http';
import { ZokioError } from '../../errors.js';

/**
 * An error with an HTTP status. Throw it from a handler to answer with that status; the
 * request's `bytes()`/`text()`/`json()` throw it with 413 when the body is over
 * `limits.bodyBytes` and `json()` with 400 when the body is not JSON.
 *
 * @example
 * ```ts
 * import { serve, HttpError } from 'zokio/http';
 * await serve((req) => {
 *   if (req.method !== 'GET') throw new HttpError(405, 'only GET');
 *   return { status: 200, body: 'ok' };
 * }, { port: 0 });
 * ```
 */
export class HttpError extends ZokioError {
  static override readonly code = 'ZOKIO_ERR_HTTP' as const;
  /** The status the server answers with. */
  readonly status: number;

  constructor(status: number, message?: string, options?: { cause?: unknown }) {
    super('ZOKIO_ERR_HTTP', message ?? STATUS_CODES[status] ?? `HTTP ${status}`, options);
    this.status = status;
  }
}
