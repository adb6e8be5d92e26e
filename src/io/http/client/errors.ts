/**
 * Errors of the HTTP client: what failed, as a stable code and a `kind`.
 */
import { ZokioError } from '../../../errors.js';

/**
 * Why a request failed before a whole response was read:
 * - `refused`: nothing listens at the address (`ECONNREFUSED`), or the name does not resolve;
 * - `reset`: the connection closed or was reset before the response was complete;
 * - `too_large`: the response body is over `maxBodyBytes`;
 * - `protocol`: the server's answer is not valid HTTP/1.1.
 */
export type HttpClientErrorKind = 'refused' | 'reset' | 'too_large' | 'protocol';

/**
 * A request failed on the way: the connection was refused or reset, or the response was
 * over its size limit. A deadline is `TimeoutError`, an untrusted certificate `TlsError`,
 * an abort the signal's reason.
 *
 * @example
 * ```ts
 * import { request, HttpClientError } from 'zokio/http';
 * try {
 *   await request('http://127.0.0.1:9/');
 * } catch (err) {
 *   if (err instanceof HttpClientError && err.kind === 'refused') console.log('upstream down');
 * }
 * ```
 */
export class HttpClientError extends ZokioError {
  static override readonly code = 'ZOKIO_ERR_HTTP_CLIENT' as const;
  /** What went wrong. */
  readonly kind: HttpClientErrorKind;

  constructor(kind: HttpClientErrorKind, message: string, options?: { cause?: unknown }) {
    super('ZOKIO_ERR_HTTP_CLIENT', message, options);
    this.kind = kind;
  }
}

export { TlsError, asTlsError } from '../../net/tls-handshake.js';
