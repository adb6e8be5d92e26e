/**
 * The network backend interface (internal).
 *
 * Implementation note. A backend turns `listen`/`connect` into `Duplex` streams: libuv
 * sockets for `node`, linked in-memory stream pairs for `memory`. `TcpStream` and
 * `TcpListener` are written once over `Duplex`, so backpressure (`write` waits for
 * `drain`, reads pull from a paused stream) behaves the same on both.
 */
import type { Server } from 'node:net';
import type { Duplex } from 'node:stream';

/** An address a listener is bound to or a stream is connected to. */
export interface SocketAddress {
  /** IP address (or `memory` host name), e.g. `127.0.0.1`. */
  readonly host: string;
  /** Port number. */
  readonly port: number;
}

/** @internal A bound listener of a backend. */
export interface BackendListener {
  readonly address: SocketAddress;
  /** The socket path of a Unix listener. */
  readonly path?: string;
  /** Stops accepting; existing connections stay open, and the promise does not wait for them. */
  close(): Promise<void>;
}

/**
 * @internal Closes the listening socket of a `node:net` (or `node:tls`) server and resolves
 * without waiting for the connections it accepted. Node's own `server.close(callback)`
 * calls back only once every accepted connection has ended; those belong to their streams
 * here, so a peer that stays connected would hold the listener's `close()`, and with it
 * `rt.shutdown()`, for ever. `server.close()` closes the listening handle at once (libuv
 * closes its descriptor, and unlinks a Unix socket's file, inside the call), so the port
 * or path is free when this resolves.
 */
export function closeListening(server: Server): Promise<void> {
  server.close();
  return Promise.resolve();
}

/** @internal Options of {@link NetBackend.listen}. */
export interface BackendListenOptions {
  /**
   * Keep an accepted stream writable after its peer ended its side (an HTTP server
   * answers the requests that came before the client's FIN). In-memory streams always
   * allow it. @default false
   */
  readonly allowHalfOpen?: boolean;
  /** File mode of a Unix socket (`listenPath`), e.g. `0o600`; the umask's when omitted. */
  readonly mode?: number;
}

/** @internal The primitives a network backend provides. */
export interface NetBackend {
  readonly name: 'node' | 'memory';
  listen(host: string, port: number, backlog: number, onConnection: (socket: Duplex) => void, options?: BackendListenOptions): Promise<BackendListener>;
  connect(host: string, port: number, signal: AbortSignal | undefined): Promise<Duplex>;
  /** Listens on the Unix socket `path` (the caller checked its length); replaces a stale socket file. */
  listenPath(path: string, backlog: number, onConnection: (socket: Duplex) => void, options?: BackendListenOptions): Promise<BackendListener>;
  /** Connects to the Unix socket `path`. */
  connectPath(path: string, signal: AbortSignal | undefined): Promise<Duplex>;
}
