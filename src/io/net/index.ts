/**
 * `zokio/net`: TCP listeners and streams on the current runtime's I/O backend (libuv
 * sockets, or an in-memory loopback on the `memory` backend), with reads and writes that
 * honour backpressure.
 *
 * @module zokio/net
 */
export { TcpListener, type BindOptions } from './tcp-listener.js';
export { TcpStream, type ConnectOptions, type IoOptions } from './tcp-stream.js';
export { type SocketAddress } from './backend.js';
export { TlsError, type TlsServerOptions, type TlsConnectOptions } from './tls.js';
