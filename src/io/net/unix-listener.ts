/**
 * `UnixListener`: accepts connections on a Unix domain socket as `UnixStream`s.
 *
 * Implementation note. The path is checked before any syscall; the backend listens (on
 * `node` it replaces a stale socket file only after a probe connect is refused) and hands
 * each connection to an {@link AcceptQueue}. Closing the listener removes the socket file.
 */
import { ioDriver, type IoDriver } from '../driver.js';
import { AcceptQueue } from './accept-queue.js';
import type { BackendListener } from './backend.js';
import { UnixStream } from './unix-stream.js';
import { checkSocketPath } from './unix-socket-path.js';
import { taskWait, taskIterator } from '../../scheduler/task.js';

/** Options of {@link UnixListener.bind}. */
export interface UnixBindOptions {
  /** The socket file: at most 107 bytes on Linux, 103 on macOS. */
  readonly path: string;
  /**
   * File mode of the socket file, e.g. `0o600` (owner only). Set right after `listen`;
   * put the socket in a directory only its users can enter to close that window.
   * @default the process umask's
   */
  readonly mode?: number;
  /** Connections accepted by the OS but not yet by `accept()`; more are refused. @default 511 */
  readonly backlog?: number;
}

/**
 * A listening Unix domain socket (in memory on the `memory` backend).
 *
 * A socket file left by a process that died is replaced; one that a live process listens
 * on is not (`EADDRINUSE`), nor is a path that is not a socket.
 *
 * @example
 * ```ts
 * import { UnixListener } from 'zokio/net';
 * import { spawn } from 'zokio';
 * await using listener = await UnixListener.bind({ path: '/tmp/app.sock', mode: 0o600 });
 * for await (const conn of listener) {
 *   spawn(async () => {
 *     for await (const chunk of conn) await conn.write(chunk); // echo
 *     await conn.close();
 *   });
 * }
 * ```
 */
export class UnixListener implements AsyncIterable<UnixStream> {
  readonly #driver: IoDriver;
  readonly #queue: AcceptQueue<UnixStream>;
  readonly #backend: BackendListener;
  /** The socket path. */
  readonly path: string;

  private constructor(driver: IoDriver, queue: AcceptQueue<UnixStream>, backend: BackendListener, path: string) {
    this.#driver = driver;
    this.#queue = queue;
    this.#backend = backend;
    this.path = path;
  }

  /**
   * Listens on the Unix socket `path` with the current runtime's backend.
   *
   * *Cancellation*: not cancellable; resolves once listening.
   * @throws SocketPathTooLongError (before any syscall) for a path the OS cannot take;
   *   an `EADDRINUSE` error when a live listener holds the path or the path is not a socket.
   */
  static bind(options: UnixBindOptions): Promise<UnixListener> {
    return taskWait(UnixListener.#bind(options));
  }

  static async #bind(options: UnixBindOptions): Promise<UnixListener> {
    const path = checkSocketPath(options.path);
    const driver = ioDriver();
    const queue = new AcceptQueue(options.backlog ?? 511, 'UnixListener', (socket) => {
      const stream = new UnixStream(socket, path);
      driver.trackStream(stream, socket);
      return stream;
    });
    const backend = await driver.net.listenPath(path, options.backlog ?? 511, queue.push, options.mode === undefined ? undefined : { mode: options.mode });
    const listener = new UnixListener(driver, queue, backend, path);
    driver.closeables.add(listener);
    return listener;
  }

  /** Connections refused because the backlog was full. */
  get refused(): number {
    return this.#queue.refused;
  }

  /**
   * Waits for the next connection.
   *
   * *Cancellation*: aborting `signal`, or the running task, rejects with its reason; a
   * connection that arrives later stays queued for the next `accept()`.
   * @throws ClosedError once the listener is closed.
   */
  accept(options?: { readonly signal?: AbortSignal }): Promise<UnixStream> {
    return this.#queue.take(options?.signal);
  }

  /**
   * Stops listening and removes the socket file. Pending `accept()` calls reject with
   * `ClosedError`; connections not yet accepted are closed; accepted ones stay open (until
   * closed, or the runtime shuts down), and the promise does not wait for them.
   *
   * *Cancellation*: not cancellable.
   */
  close(): Promise<void> {
    return taskWait(this.#close());
  }

  async #close(): Promise<void> {
    if (this.#queue.closed) return;
    this.#queue.close();
    this.#driver.closeables.delete(this);
    await this.#backend.close();
  }

  /** `await using listener = ...` closes it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Yields each accepted connection until the listener is closed.
   *
   * *Cancellation*: the loop ends when `close()` is called.
   */
  [Symbol.asyncIterator](): AsyncIterator<UnixStream> {
    return taskIterator(this.#iterate());
  }

  async *#iterate(): AsyncGenerator<UnixStream> {
    for (;;) {
      let stream: UnixStream;
      try {
        stream = await this.accept();
      } catch (err) {
        if ((err as { code?: string }).code === 'ZOKIO_ERR_CLOSED') return;
        throw err;
      }
      yield stream;
    }
  }
}
