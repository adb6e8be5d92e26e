/**
 * {@link TlsError}, the coded error of a failed TLS handshake, and the client side of a
 * handshake (internal).
 *
 * Implementation note. Apart from `tls.ts` so that the HTTP client's connection pools (a
 * runtime part) can run a handshake over an in-memory connection without importing the
 * I/O driver, and through it the runtime.
 */
import { isIP } from 'node:net';
import { connect as tlsConnectSocket, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { ZokioError } from '../../errors.js';
import { abortReason } from '../../scheduler/abort-reason.js';

/**
 * The TLS handshake failed: the peer's certificate is not trusted (unknown CA, self-signed,
 * expired, wrong host name) or the handshake broke. `cause` is node:tls's error; its
 * `code` (e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`) is copied to `reason`.
 *
 * @example
 * ```ts
 * import { TlsError } from 'zokio/net';
 * const err = new TlsError('SELF_SIGNED_CERT_IN_CHAIN', 'certificate not trusted');
 * console.log(err.code, err.reason); // ZOKIO_ERR_TLS SELF_SIGNED_CERT_IN_CHAIN
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
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** @internal A TLS handshake error as {@link TlsError}; undefined for any other error. */
export function asTlsError(err: unknown): TlsError | undefined {
  if (err instanceof TlsError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (!TLS_CODES.has(code) && !code.startsWith('ERR_SSL_')) return undefined;
  return new TlsError(code, `TLS handshake failed: ${(err as Error).message} (${code})`, { cause: err });
}

/**
 * @internal The client side of a TLS handshake: over `options.socket` when given (an
 * in-memory connection), else over a new TCP connection to `options.host`/`port`;
 * resolves at `secureConnect`. Without a `servername`, a host name (not an IP address) is
 * sent as SNI.
 * @throws TlsError for an untrusted certificate; the socket's error otherwise.
 */
export function handshake(options: ConnectionOptions, signal: AbortSignal | undefined): Promise<TLSSocket> {
  return new Promise<TLSSocket>((resolve, reject) => {
    if (signal?.aborted) {
      options.socket?.destroy();
      return reject(abortReason(signal));
    }
    const host = options.host;
    const socket = tlsConnectSocket(options.servername === undefined && host !== undefined && isIP(host) === 0 ? { ...options, servername: host } : options);
    const onAbort = (): void => {
      socket.destroy();
      reject(abortReason(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('secureConnect', () => {
      signal?.removeEventListener('abort', onAbort);
      socket.removeListener('error', onError);
      resolve(socket);
    });
    const onError = (err: Error): void => {
      signal?.removeEventListener('abort', onAbort);
      reject(asTlsError(err) ?? err);
    };
    socket.once('error', onError);
  });
}
