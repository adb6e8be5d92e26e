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

/**
 * The TLS handshake failed: the peer's certificate is not trusted (unknown CA, self-signed,
 * expired, wrong host name) or the handshake broke. `cause` is node:tls's error; its
 * `code` (e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`) is copied to `reason`.
 *
 * @example
 * ```ts
 * import { TlsError } from 'zokio/http';
 * const err = new TlsError('SELF_SIGNED_CERT_IN_CHAIN', 'certificate not trusted');
 * console.log(err.code, err.reason);
 * ```
 */
export class TlsError extends ZokioError {
  static override readonly code = 'ZOKIO_ERR_TLS' as const;
  /** node:tls's error code, e.g. `DEPTH_ZERO_SELF_SIGNED_CERT`. */
  readonly reason: string;

  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super('ZOKIO_ERR_TLS', message, options);
    this.reason = reason;
  }
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

/** @internal A TLS handshake error turned into {@link TlsError}, or undefined for any other error. */
export function asTlsError(err: unknown): TlsError | undefined {
  if (err instanceof TlsError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (!TLS_CODES.has(code) && !code.startsWith('ERR_SSL_')) return undefined;
  return new TlsError(code, `TLS handshake failed: ${(err as Error).message} (${code})`, { cause: err });
}
