/**
 * `TcpListener`: accepts connections as `TcpStream`s, by `accept()` or async iteration.
 *
 * Implementation note. Incoming sockets wait in an {@link AcceptQueue} bounded by
 * `backlog` (the one `UnixListener` uses); an `accept()` takes the oldest or waits.
 * Connections beyond the backlog are refused (destroyed), as a full kernel backlog would,
 * so a listener nobody accepts from cannot grow without bound.
 */
import type { Duplex } from 'node:stream';
import { ClosedError } from '../../errors.js';
import { ioDriver, type IoDriver } from '../driver.js';
import { AcceptQueue } from './accept-queue.js';
import type { BackendListener, SocketAddress } from './backend.js';
import { TcpStream } from './tcp-stream.js';
import { tlsListen, type TlsServerOptions } from './tls.js';
import { taskWait, taskIterator } from '../../scheduler/task.js';

/** Options of {@link TcpListener.bind}. */
export interface BindOptions {
  /** Address to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /** Port; 0 picks a free one (read it from `listener.address`). @default 0 */
  readonly port?: number;
  /** Connections accepted by the OS but not yet by `accept()`; more are refused. @default 511 */
  readonly backlog?: number;
  /** Disable Nagle's algorithm on accepted streams. */
  readonly noDelay?: boolean;
  /** Enable keep-alive on accepted streams (`true` or the initial delay in ms). */
  readonly keepAlive?: boolean | number;
  /** Accept TLS connections with these node:tls options (`key`, `cert`, ...); on `memory` too (node:tls over the in-memory loopback). */
  readonly tls?: TlsServerOptions;
}

/**
 * A listening TCP socket (in memory on the `memory` backend).
 *
 * @example
 * ```ts
 * import { TcpListener } from 'zokio/net';
 * import { spawn } from 'zokio';
 * await using listener = await TcpListener.bind({ host: '127.0.0.1', port: 0 });
 * console.log('listening on', listener.address.port);
 * for await (const conn of listener) {
 *   spawn(async () => {
 *     for await (const chunk of conn) await conn.write(chunk); // echo
 *     await conn.close();
 *   });
 * }
 * ```
 */
export class TcpListener implements AsyncIterable<TcpStream> {
  readonly #driver: IoDriver;
  readonly #options: BindOptions;
  #backend: BackendListener | undefined;
  readonly #queue: AcceptQueue<TcpStream>;

  private constructor(driver: IoDriver, options: BindOptions, backlog: number) {
    this.#driver = driver;
    this.#options = options;
    this.#queue = new AcceptQueue(backlog, 'TcpListener', (socket) => this.#wrap(socket));
  }

  /**
   * Binds and listens on `host:port` with the current runtime's backend.
   *
   * *Cancellation*: not cancellable; resolves once listening.
   * @throws the backend's error, e.g. `EADDRINUSE`.
   */
  static bind(options: BindOptions = {}): Promise<TcpListener> {
    return taskWait(TcpListener.#bind(options));
  }

  static async #bind(options: BindOptions): Promise<TcpListener> {
    const driver = ioDriver();
    const backlog = options.backlog ?? 511;
    const listener = new TcpListener(driver, options, backlog);
    const host = options.host ?? '127.0.0.1';
    const onSocket = listener.#queue.push;
    listener.#backend = options.tls === undefined
      ? await driver.net.listen(host, options.port ?? 0, backlog, onSocket)
      : await tlsListen(driver, host, options.port ?? 0, backlog, onSocket, options.tls);
    driver.closeables.add(listener);
    return listener;
  }

  /** The bound address (with the chosen port when bound to port 0). */
  get address(): SocketAddress {
    return this.#backend!.address;
  }

  /** Connections refused because the backlog was full. */
  get refused(): number {
    return this.#queue.refused;
  }

  #wrap(socket: Duplex): TcpStream {
    const stream = new TcpStream(socket);
    this.#driver.trackStream(stream, socket);
    if (this.#options.noDelay !== undefined) stream.setNoDelay(this.#options.noDelay);
    const keepAlive = this.#options.keepAlive;
    if (keepAlive !== undefined && keepAlive !== false) stream.setKeepAlive(true, keepAlive === true ? 0 : keepAlive);
    return stream;
  }

  /**
   * Waits for the next connection.
   *
   * *Cancellation*: aborting `signal`, or the running task, rejects with its reason; a
   * connection that arrives later stays queued for the next `accept()`.
   * @throws ClosedError once the listener is closed.
   */
  accept(options?: { readonly signal?: AbortSignal }): Promise<TcpStream> {
    return this.#queue.take(options?.signal);
  }

  /**
   * Stops listening. Pending `accept()` calls reject with `ClosedError`; connections
   * queued and not accepted are closed; accepted streams stay open (until closed, or the
   * runtime shuts down), and the promise does not wait for them: the port is free when it
   * resolves.
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
    await this.#backend?.close();
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
  [Symbol.asyncIterator](): AsyncIterator<TcpStream> {
    return taskIterator(this.#iterate());
  }

  async *#iterate(): AsyncGenerator<TcpStream> {
    for (;;) {
      let stream: TcpStream;
      try {
        stream = await this.accept();
      } catch (err) {
        if (err instanceof ClosedError) return;
        throw err;
      }
      yield stream;
    }
  }
}
