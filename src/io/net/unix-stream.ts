/**
 * `UnixStream`: a connected Unix domain socket with the same stream API as `TcpStream`.
 *
 * Implementation note. The byte-stream engine (pull reads from a paused `Duplex`, writes
 * that wait for `drain`, `unread`) is `TcpStream`'s, held privately; this class forwards to
 * it and adds what is Unix-specific (the socket path).
 */
import type { Duplex } from 'node:stream';
import { ioDriver } from '../driver.js';
import type { ByteStream, ReadLineOptions } from './byte-stream.js';
import { TcpStream, type IoOptions } from './tcp-stream.js';
import { checkSocketPath } from './unix-socket-path.js';

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
 * const reply = await messages.next(); // one whole frame
 * ```
 */
export class UnixStream implements ByteStream {
  readonly #inner: TcpStream;
  /** The socket path this stream is connected to (client) or accepted on (server). */
  readonly path: string;

  /** @internal Use {@link UnixStream.connect} or `UnixListener#accept`. */
  constructor(socket: Duplex, path: string) {
    this.#inner = new TcpStream(socket);
    this.path = path;
  }

  /**
   * Connects to the Unix socket at `path` on the current runtime's backend.
   *
   * *Cancellation*: aborting `signal` destroys the half-open socket and rejects with the
   * signal's reason.
   * @throws SocketPathTooLongError (before any syscall) for a path the OS cannot take;
   *   the backend's error otherwise (`ENOENT`: no such socket, `ECONNREFUSED`: nobody listens).
   */
  static async connect(options: UnixConnectOptions): Promise<UnixStream> {
    const path = checkSocketPath(options.path);
    const socket = await ioDriver().net.connectPath(path, options.signal);
    return new UnixStream(socket, path);
  }

  /** Bytes accepted by `write` and not yet handed to the OS (or the in-memory peer). */
  get bufferedBytes(): number {
    return this.#inner.bufferedBytes;
  }

  /** The write buffer's high-water mark: `write` waits for `drain` above it. */
  get highWaterMark(): number {
    return this.#inner.highWaterMark;
  }

  /** True once the stream is closed. */
  get closed(): boolean {
    return this.#inner.closed;
  }

  /**
   * Reads the next chunk; `null` at end of stream.
   *
   * *Cancellation*: aborting `signal` rejects with its reason; no data is lost.
   */
  read(options?: IoOptions): Promise<Uint8Array | null> {
    return this.#inner.read(options);
  }

  /** Puts `bytes` back at the head of the stream: the next `read` returns them first. */
  unread(bytes: Uint8Array): void {
    this.#inner.unread(bytes);
  }

  /**
   * Reads exactly `n` bytes.
   *
   * *Cancellation*: aborting `signal` puts back the bytes read so far; the stream is where
   * it was before the call.
   * @throws UnexpectedEofError when the stream ends first.
   */
  readExact(n: number, options?: IoOptions): Promise<Uint8Array> {
    return this.#inner.readExact(n, options);
  }

  /**
   * Reads one line (without `\n` or `\r\n`); `null` at end of stream.
   *
   * *Cancellation*: aborting `signal` puts back the bytes of the unfinished line.
   * @throws FrameTooLargeError for a line over `maxBytes`; the stream is closed.
   */
  readLine(options?: ReadLineOptions): Promise<string | null> {
    return this.#inner.readLine(options);
  }

  /**
   * Writes `data`, waiting for `drain` when the peer reads slowly.
   *
   * *Cancellation*: aborting `signal` stops the wait; the bytes stay queued.
   */
  write(data: Uint8Array | string, options?: IoOptions): Promise<void> {
    return this.#inner.write(data, options);
  }

  /** Ends this side after the buffered bytes are sent; reading stays possible. *Cancellation*: not cancellable. */
  end(): Promise<void> {
    return this.#inner.end();
  }

  /** Closes the connection; pending reads reject with `ClosedError`. *Cancellation*: not cancellable. */
  close(): Promise<void> {
    return this.#inner.close();
  }

  /** `await using conn = ...` closes the connection at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#inner.close();
  }

  /**
   * Iterates the chunks until end of stream.
   *
   * *Cancellation*: breaking out of the loop does not close the stream.
   */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.#inner[Symbol.asyncIterator]();
  }
}
