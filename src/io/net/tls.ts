/**
 * TLS over node:tls for `TcpListener.bind({ tls })`, `TcpStream.connect({ tls })` and
 * `serve(handler, { tls })` (`TlsError`, the coded error of a failed handshake, and the
 * client side of a handshake are in `tls-handshake.ts`).
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
import type { Duplex } from 'node:stream';
import { createSecureContext, createServer as createTlsServer, TLSSocket, type ConnectionOptions, type TlsOptions } from 'node:tls';
import type { IoDriver } from '../driver.js';
import { closeListening, type BackendListener, type SocketAddress } from './backend.js';
import { handshake } from './tls-handshake.js';

export { TlsError, asTlsError } from './tls-handshake.js';

/** TLS options of a listener or server: node:tls's (`key`, `cert`, `ca`, `requestCert`, ...). */
export type TlsServerOptions = TlsOptions;
/** TLS options of a client connection: node:tls's (`ca`, `servername`, `rejectUnauthorized`, `cert`, `key`, ...). */
export type TlsConnectOptions = Omit<ConnectionOptions, 'host' | 'port' | 'socket' | 'path'>;

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
      resolve({ address, close: () => closeListening(server) });
    });
  });
}

/**
 * @internal Connects with TLS and resolves after the handshake.
 * @throws TlsError for an untrusted certificate; the socket's error otherwise.
 */
export async function tlsConnect(driver: IoDriver, host: string, port: number, signal: AbortSignal | undefined, tls: TlsConnectOptions): Promise<Duplex> {
  // On `memory`, the handshake runs over an in-memory connection (`host` is still the name
  // the certificate is checked against); both paths check `signal` before they connect.
  const raw = driver.backend === 'node' ? undefined : await driver.net.connect(host, port, signal);
  return await handshake({ ...tls, host, port, socket: raw }, signal);
}

/** Ends a connection whose server-side handshake failed (node:tls's server does the same). */
function dropHandshake(this: TLSSocket): void {
  this.destroy();
}
