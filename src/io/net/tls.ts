/**
 * TLS over node:tls for `TcpListener.bind({ tls })`, `TcpStream.connect({ tls })` and
 * `serve(handler, { tls })`; and `TlsError`, the coded error of a failed handshake.
 *
 * Implementation note. On the `node` backend a listener is node:tls's server over libuv
 * sockets; on `memory` each in-memory connection is wrapped in a `TLSSocket` (node:tls
 * runs the same OpenSSL handshake and records over any `Duplex`), so TLS code is tested
 * without a real socket and with the same errors. A listener hands on sockets once their
 * handshake is done (`secureConnection`, or `secure` of a wrapped connection), so a client
 * that fails the handshake never reaches `accept()` or a handler. A connect resolves at
 * `secureConnect`; a certificate the client does not trust rejects with {@link TlsError},
 * whose `reason` is node:tls's code. TLS connections are not half-open: a peer's FIN
 * closes them (HTTP clients send `close_notify` and close).
 */
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnectSocket, createSecureContext, createServer as createTlsServer, TLSSocket, type ConnectionOptions, type TlsOptions } from 'node:tls';
import { ZokioError } from '../../errors.js';
import { abortReason } from '../../scheduler/time.js';
import type { IoDriver } from '../driver.js';
import type { BackendListener, SocketAddress } from './backend.js';

/** TLS options of a listener or server: node:tls's (`key`, `cert`, `ca`, `requestCert`, ...). */
export type TlsServerOptions = TlsOptions;
/** TLS options of a client connection: node:tls's (`ca`, `servername`, `rejectUnauthorized`, `cert`, `key`, ...). */
export type TlsConnectOptions = Omit<ConnectionOptions, 'host' | 'port' | 'socket' | 'path'>;

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

/** @internal Listens with TLS; `onConnection` gets sockets whose handshake is done. */
export function tlsListen(driver: IoDriver, host: string, port: number, backlog: number, onConnection: (socket: Duplex) => void, tls: TlsServerOptions): Promise<BackendListener> {
  if (driver.backend !== 'node') {
    // One context for every connection, as node:tls's server makes (and the same errors
    // for bad key or certificate options, at bind time).
    const secureContext = createSecureContext(tls);
    const serverOptions = { isServer: true, secureContext, requestCert: tls.requestCert, rejectUnauthorized: tls.rejectUnauthorized, ALPNProtocols: tls.ALPNProtocols, SNICallback: tls.SNICallback };
    return driver.net.listen(host, port, backlog, (raw) => {
      const socket = new TLSSocket(raw, serverOptions);
      socket.once('secure', () => {
        socket.off('error', dropHandshake);
        onConnection(socket);
      });
      // A client that fails the handshake is dropped, as node:tls's server does.
      socket.on('error', dropHandshake);
    });
  }
  return new Promise<BackendListener>((resolve, reject) => {
    // Not half-open: a client that drops the handshake (an untrusted certificate) sends a
    // FIN that must close the raw socket, or the listener could never close.
    const server = createTlsServer({ ...tls, allowHalfOpen: false }, (socket) => onConnection(socket));
    // A client that fails the handshake is dropped by node:tls; nothing to report here.
    server.on('tlsClientError', () => undefined);
    server.once('error', reject);
    server.listen({ host, port, backlog }, () => {
      server.off('error', reject);
      const info = server.address();
      const address: SocketAddress = typeof info === 'object' && info !== null ? { host: info.address, port: info.port } : { host, port };
      resolve({ address, close: () => new Promise<void>((done) => server.close(() => done())) });
    });
  });
}

/**
 * @internal Connects with TLS and resolves after the handshake.
 * @throws TlsError for an untrusted certificate; the socket's error otherwise.
 */
export async function tlsConnect(driver: IoDriver, host: string, port: number, signal: AbortSignal | undefined, tls: TlsConnectOptions): Promise<Duplex> {
  if (signal?.aborted) throw abortReason(signal);
  // On `memory`, the handshake runs over an in-memory connection (`host` is still the name
  // the certificate is checked against).
  const raw = driver.backend === 'node' ? undefined : await driver.net.connect(host, port, signal);
  return await handshake({ servername: isIP(host) === 0 ? host : undefined, ...tls, host, port, socket: raw }, signal);
}

/**
 * @internal The client side of a TLS handshake: over `options.socket` when given (an
 * in-memory connection), else over a new TCP connection to `options.host`/`port`;
 * resolves at `secureConnect`.
 * @throws TlsError for an untrusted certificate; the socket's error otherwise.
 */
export function handshake(options: ConnectionOptions, signal: AbortSignal | undefined): Promise<TLSSocket> {
  return new Promise<TLSSocket>((resolve, reject) => {
    if (signal?.aborted) {
      options.socket?.destroy();
      return reject(abortReason(signal));
    }
    const socket = tlsConnectSocket(options);
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

/** Ends a connection whose server-side handshake failed (node:tls's server does the same). */
function dropHandshake(this: TLSSocket): void {
  this.destroy();
}
