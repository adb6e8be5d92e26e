/**
 * `UnixStream`: a connected Unix domain socket with the same stream API as `TcpStream`.
 *
 * Implementation note. The byte-stream engine is {@link SocketStream} (flowing reads into a
 * bounded queue, writes that wait for `drain`); this class adds the socket path and
 * `connect`.
 */
import type { Duplex } from 'node:stream';
import { ioDriver } from '../driver.js';
import { taskAwareSignal } from '../../scheduler/wait-abort.js';
import { SocketStream } from './socket-stream.js';
import { checkSocketPath } from './unix-socket-path.js';
import { taskWait } from '../../scheduler/task.js';

/** Options of {@link UnixStream.connect}. */
export interface UnixConnectOptions {
  /** The socket file, at most 107 bytes on Linux, 103 on macOS. */
  readonly path: string;
  /** Aborts the connection attempt. */
  readonly signal?: AbortSignal;
}

/**
 * A Unix domain socket connection (an in-memory one on the `memory` backend) with `read`,
 * `readExact`, `readLine`, `write`, `end`, `close` and async iteration, as `TcpStream`.
 *
 * Use it to talk to a local daemon; with `framed` for message protocols.
 *
 * @example
 * ```ts
 * import { UnixStream, framed, lengthDelimited } from 'zokio/net';
 * await using conn = await UnixStream.connect({ path: '/tmp/app.sock' });
 * const messages = framed(conn, lengthDelimited({ lengthBytes: 4, maxFrameBytes: 1 << 20 }));
 * await messages.send(new TextEncoder().encode('hello'));
 * const reply = await messages.read(); // one whole frame
 * ```
 */
export class UnixStream extends SocketStream {
  /** The socket path this stream is connected to (client) or accepted on (server). */
  readonly path: string;

  /** @internal Use {@link UnixStream.connect} or `UnixListener#accept`. */
  constructor(socket: Duplex, path: string) {
    super(socket, 'UnixStream');
    this.path = path;
  }

  /**
   * Connects to the Unix socket at `path` on the current runtime's backend.
   *
   * *Cancellation*: aborting `signal`, or the task the call is made in, destroys the
   * half-open socket and rejects with the reason.
   * @throws SocketPathTooLongError (before any syscall) for a path the OS cannot take;
   *   the backend's error otherwise (`ENOENT`: no such socket, `ECONNREFUSED`: nobody listens).
   */
  static connect(options: UnixConnectOptions): Promise<UnixStream> {
    return taskWait(UnixStream.#connect(options));
  }

  static async #connect(options: UnixConnectOptions): Promise<UnixStream> {
    const path = checkSocketPath(options.path);
    const { signal, done } = taskAwareSignal(options.signal);
    try {
      const driver = ioDriver();
      const socket = await driver.net.connectPath(path, signal);
      const stream = new UnixStream(socket, path);
      driver.trackStream(stream, socket);
      return stream;
    } finally {
      done();
    }
  }
}
