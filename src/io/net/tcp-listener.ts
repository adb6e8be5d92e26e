/**
 * `TcpListener`: accepts connections as `TcpStream`s, by `accept()` or async iteration.
 *
 * Implementation note. Incoming sockets wait in a FIFO queue bounded by `backlog`; an
 * `accept()` takes the oldest or waits. Connections beyond the backlog are refused
 * (destroyed), as a full kernel backlog would, so a listener nobody accepts from cannot
 * grow without bound.
 */
import type { Duplex } from 'node:stream';
import { ClosedError } from '../../errors.js';
import { abortReason } from '../../scheduler/time.js';
import { ioDriver, type IoDriver } from '../driver.js';
import type { BackendListener, SocketAddress } from './backend.js';
import { TcpStream } from './tcp-stream.js';
import { tlsListen, type TlsServerOptions } from './tls.js';

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
  /** Accept TLS connections with these node:tls options (`key`, `cert`, ...); `node` backend only. */
  readonly tls?: TlsServerOptions;
}

interface AcceptWaiter {
  resolve(stream: TcpStream): void;
  reject(err: unknown): void;
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
  readonly #queue: Duplex[] = [];
  readonly #waiters: AcceptWaiter[] = [];
  #closed = false;
  #refused = 0;

  private constructor(driver: IoDriver, options: BindOptions) {
    this.#driver = driver;
    this.#options = options;
  }

  /**
   * Binds and listens on `host:port` with the current runtime's backend.
   *
   * *Cancellation*: not cancellable; resolves once listening.
   * @throws the backend's error, e.g. `EADDRINUSE`.
   */
  static async bind(options: BindOptions = {}): Promise<TcpListener> {
    const driver = ioDriver();
    const listener = new TcpListener(driver, options);
    const backlog = options.backlog ?? 511;
    const host = options.host ?? '127.0.0.1';
    const onSocket = (socket: Duplex): void => listener.#incoming(socket, backlog);
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
    return this.#refused;
  }

  #wrap(socket: Duplex): TcpStream {
    const stream = new TcpStream(socket);
    if (this.#options.noDelay !== undefined) stream.setNoDelay(this.#options.noDelay);
    const keepAlive = this.#options.keepAlive;
    if (keepAlive !== undefined && keepAlive !== false) stream.setKeepAlive(true, keepAlive === true ? 0 : keepAlive);
    return stream;
  }

  #incoming(socket: Duplex, backlog: number): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve(this.#wrap(socket));
      return;
    }
    if (this.#queue.length >= backlog) {
      this.#refused++;
      socket.destroy();
      return;
    }
    // Errors before accept() must not crash the process.
    socket.on('error', () => undefined);
    this.#queue.push(socket);
  }

  /**
   * Waits for the next connection.
   *
   * *Cancellation*: aborting `signal` rejects with its reason; a connection that arrives
   * later stays queued for the next `accept()`.
   * @throws ClosedError once the listener is closed.
   */
  accept(options?: { readonly signal?: AbortSignal }): Promise<TcpStream> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(this.#wrap(queued));
    if (this.#closed) return Promise.reject(new ClosedError('TcpListener is closed'));
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<TcpStream>((resolve, reject) => {
      const waiter: AcceptWaiter = { resolve, reject };
      if (signal !== undefined) {
        const onAbort = (): void => {
          const i = this.#waiters.indexOf(waiter);
          if (i >= 0) this.#waiters.splice(i, 1);
          reject(abortReason(signal));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiter.resolve = (s) => {
          signal.removeEventListener('abort', onAbort);
          resolve(s);
        };
      }
      this.#waiters.push(waiter);
    });
  }

  /**
   * Stops listening. Pending `accept()` calls reject with `ClosedError`; connections
   * queued and not accepted are closed; accepted streams stay open.
   *
   * *Cancellation*: not cancellable.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#driver.closeables.delete(this);
    for (const socket of this.#queue.splice(0)) socket.destroy();
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new ClosedError('TcpListener is closed'));
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
  async *[Symbol.asyncIterator](): AsyncIterator<TcpStream> {
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
