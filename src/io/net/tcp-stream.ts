/**
 * `TcpStream`: a connected byte stream with pull-based reads and writes that wait for
 * `drain`.
 *
 * Implementation note. The underlying `Duplex` (a libuv socket or an in-memory pair) is
 * kept paused; `read()` pulls one chunk with `stream.read()` and waits for `readable` when
 * the buffer is empty, so an unread stream stops the kernel (or the in-memory peer) from
 * sending more. `write()` resolves at once while the writable buffer is under its
 * high-water mark and otherwise waits for `drain`: a writer that awaits every write never
 * has more than one high-water mark plus one chunk buffered.
 */
import type { Duplex } from 'node:stream';
import { ClosedError } from '../../errors.js';
import { abortedBeforeWait, settleWait, taskAwareSignal, WaitAbort } from '../../scheduler/wait-abort.js';
import { ioDriver } from '../driver.js';
import type { SocketAddress } from './backend.js';
import { tlsConnect, type TlsConnectOptions } from './tls.js';
import { DrainWait, endWritable, joinBytes, readExact, readLine, succeeded, type ByteStream, type IoOptions, type ReadLineOptions } from './byte-stream.js';
import { readyFor, readyVoid, failedFor, taskWait, taskIterator, rejectIfAborted } from '../../scheduler/task.js';
import { RESOLVED } from '../../sync/internal/check.js';

/** Options of {@link TcpStream.connect}. */
export interface ConnectOptions {
  /** Host to connect to. @default '127.0.0.1' */
  readonly host?: string;
  /** Port to connect to. */
  readonly port: number;
  /** Disable Nagle's algorithm (send small writes at once). @default false */
  readonly noDelay?: boolean;
  /** Enable TCP keep-alive probes (`true`, or the initial delay in ms). @default false */
  readonly keepAlive?: boolean | number;
  /** Aborts the connection attempt. */
  readonly signal?: AbortSignal;
  /**
   * Connect with TLS and these node:tls options (`ca`, `servername`, `rejectUnauthorized`,
   * ...); resolves after the handshake. On `memory` too (node:tls over the in-memory loopback).
   */
  readonly tls?: TlsConnectOptions;
}


interface SocketLike extends Duplex {
  setNoDelay?(noDelay?: boolean): unknown;
  setKeepAlive?(enable?: boolean, initialDelay?: number): unknown;
  remoteAddress?: string;
  remotePort?: number;
  localAddress?: string;
  localPort?: number;
}

/**
 * A TCP connection (or an in-memory one on the `memory` backend) with `read`/`write` that
 * honour backpressure.
 *
 * Use it for protocols you implement yourself; for HTTP use `serve` from `zokio/http`.
 *
 * @example
 * ```ts
 * import { TcpStream } from 'zokio/net';
 * await using conn = await TcpStream.connect({ host: '127.0.0.1', port: 7000, noDelay: true });
 * await conn.write('PING\r\n');
 * const reply = await conn.read(); // Uint8Array, or null at end of stream
 * ```
 */
export class TcpStream implements ByteStream {
  readonly #socket: SocketLike;
  /** Bytes put back by `unread`, returned by the next `read`. */
  #unread: Uint8Array | undefined;
  #error: Error | undefined;
  #ended = false;
  #closed = false;
  /** The wait for `drain` that blocked writes share (made at the first one). */
  #drain: DrainWait | undefined;

  /** @internal Wraps a connected socket; use {@link TcpStream.connect} or `listener.accept()`. */
  constructor(socket: Duplex) {
    this.#socket = socket as SocketLike;
    socket.pause();
    socket.on('error', (err: Error) => (this.#error ??= err));
    socket.on('end', () => (this.#ended = true));
    socket.on('close', () => (this.#closed = true));
  }

  /**
   * Connects to `host:port` on the current runtime's backend.
   *
   * *Cancellation*: aborting `signal`, or the task the call is made in, destroys the
   * half-open socket and rejects with the reason.
   * @throws the backend's error, e.g. `ECONNREFUSED` with Node's `code`; TlsError
   * (`ZOKIO_ERR_TLS`) when the server's certificate is not trusted.
   */
  static connect(options: ConnectOptions): Promise<TcpStream> {
    return taskWait(TcpStream.#connect(options));
  }

  static async #connect(options: ConnectOptions): Promise<TcpStream> {
    const driver = ioDriver();
    const host = options.host ?? '127.0.0.1';
    const { signal, done } = taskAwareSignal(options.signal);
    let socket: Duplex;
    try {
      socket = options.tls === undefined ? await driver.net.connect(host, options.port, signal) : await tlsConnect(driver, host, options.port, signal, options.tls);
    } finally {
      done();
    }
    const stream = new TcpStream(socket);
    driver.trackStream(stream, socket);
    if (options.noDelay !== undefined) stream.setNoDelay(options.noDelay);
    if (options.keepAlive !== undefined && options.keepAlive !== false) stream.setKeepAlive(true, options.keepAlive === true ? 0 : options.keepAlive);
    return stream;
  }

  /** The peer's address. */
  get remoteAddress(): SocketAddress {
    return { host: this.#socket.remoteAddress ?? '', port: this.#socket.remotePort ?? 0 };
  }

  /** This side's address. */
  get localAddress(): SocketAddress {
    return { host: this.#socket.localAddress ?? '', port: this.#socket.localPort ?? 0 };
  }

  /** Bytes accepted by `write` and not yet handed to the OS (or the in-memory peer). */
  get bufferedBytes(): number {
    return this.#socket.writableLength;
  }

  /** The write buffer's high-water mark: `write` waits for `drain` above it. */
  get highWaterMark(): number {
    return this.#socket.writableHighWaterMark;
  }

  /** True once the stream is closed. */
  get closed(): boolean {
    return this.#closed || this.#socket.destroyed;
  }

  /** Disables (true) or enables Nagle's algorithm. A no-op in memory. */
  setNoDelay(noDelay = true): this {
    this.#socket.setNoDelay?.(noDelay);
    return this;
  }

  /** Enables TCP keep-alive probes after `initialDelayMs` of idleness. A no-op in memory. */
  setKeepAlive(enable = true, initialDelayMs = 0): this {
    this.#socket.setKeepAlive?.(enable, initialDelayMs);
    return this;
  }

  /**
   * Reads the next chunk of bytes; `null` at end of stream (the peer ended its side).
   * A chunk is no message boundary, and its size depends on the Node version: on Node 22
   * and 24 a read returns everything buffered, on Node 26 the oldest chunk received (its
   * `Readable.read()` no longer joins them). For whole messages use `readExact`,
   * `readLine` or `framed`.
   *
   * *Cancellation*: aborting `signal` (or the task the call is made in) rejects with its
   * reason; no data is lost, the next read returns it.
   * @throws the socket's error (e.g. `ECONNRESET`), or `ClosedError` after `close()`.
   */
  read(options?: IoOptions): Promise<Uint8Array | null> {
    const abortedTask = rejectIfAborted();
    if (abortedTask !== undefined) return abortedTask;
    const head = this.#unread;
    if (head !== undefined) {
      this.#unread = undefined;
      return readyFor(head);
    }
    const socket = this.#socket;
    const chunk = socket.read() as Buffer | null;
    if (chunk !== null) return readyFor(chunk);
    if (this.#error !== undefined) return failedFor(this.#error);
    if (this.#ended || socket.readableEnded) return readyFor(null);
    if (this.#closed || socket.destroyed) return Promise.reject(new ClosedError('TcpStream is closed'));
    const signal = options?.signal;
    const aborted = abortedBeforeWait(signal);
    if (aborted !== undefined) return failedFor(aborted.reason);
    return new Promise<Uint8Array | null>((resolve, reject) => {
      const cleanup = (): void => {
        socket.off('readable', onReadable);
        socket.off('end', onEnd);
        socket.off('error', onError);
        socket.off('close', onClose);
      };
      const finish = <T>(settle: (value: T) => void, value: T): void => {
        cleanup();
        settleWait(abort, settle, value);
      };
      const onReadable = (): void => {
        const next = socket.read() as Buffer | null;
        if (next !== null) finish(resolve, next);
      };
      const onEnd = (): void => finish(resolve, null);
      const onError = (err: Error): void => finish(reject, err);
      const onClose = (): void => {
        if (this.#error !== undefined) finish(reject, this.#error);
        else if (this.#ended) finish(resolve, null);
        else finish(reject, new ClosedError('TcpStream is closed'));
      };
      socket.on('readable', onReadable);
      socket.on('end', onEnd);
      socket.on('error', onError);
      socket.on('close', onClose);
      const abort = WaitAbort.start(signal, (reason) => {
        cleanup();
        reject(reason);
      });
    });
  }

  /**
   * Puts `bytes` back at the head of the stream: the next `read` returns them first (before
   * anything put back earlier is returned, they are joined after it).
   */
  unread(bytes: Uint8Array): void {
    if (bytes.byteLength > 0) this.#unread = joinBytes(this.#unread, bytes);
  }

  /**
   * Reads exactly `n` bytes (tokio's `read_exact`).
   *
   * *Cancellation*: aborting `signal` (or the task the call is made in) rejects with its
   * reason and puts back the bytes read so far: the stream is where it was before the call.
   * @throws UnexpectedEofError when the stream ends first (the bytes that came are put back).
   */
  readExact(n: number, options?: IoOptions): Promise<Uint8Array> {
    return taskWait(readExact(this, n, options));
  }

  /**
   * Reads one line, without its `\n` or `\r\n`, decoded as UTF-8; `null` at end of stream.
   * A last line without a line ending is returned as it is.
   *
   * *Cancellation*: aborting `signal` (or the task the call is made in) rejects with its
   * reason and puts back the bytes of the unfinished line: the stream is where it was before
   * the call.
   * @throws FrameTooLargeError for a line over `maxBytes` (default 64 KiB); the stream is closed.
   */
  readLine(options?: ReadLineOptions): Promise<string | null> {
    return taskWait(readLine(this, options));
  }

  /**
   * Writes `data`; resolves once it is buffered under the high-water mark, waiting for
   * `drain` when the peer reads slowly (backpressure).
   *
   * *Cancellation*: aborting `signal` (or the task the call is made in) stops the wait for
   * `drain`; the bytes stay queued and will still be sent.
   * @throws the socket's error, or `ClosedError` after `close()`.
   */
  write(data: Uint8Array | string, options?: IoOptions): Promise<void> {
    const abortedTask = rejectIfAborted();
    if (abortedTask !== undefined) return abortedTask;
    const socket = this.#socket;
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (socket.destroyed || socket.writableEnded) return Promise.reject(new ClosedError('TcpStream is closed for writing'));
    if (socket.write(data)) return readyVoid(RESOLVED);
    const signal = options?.signal;
    const aborted = abortedBeforeWait(signal);
    if (aborted !== undefined) return failedFor(aborted.reason);
    this.#drain ??= new DrainWait(socket, {
      drain: succeeded,
      error: (err) => err as Error,
      close: () => this.#error ?? new ClosedError('TcpStream closed while writing'),
    });
    return this.#drain.wait(signal);
  }

  /**
   * Ends this side of the connection after the buffered bytes are sent (TCP half-close);
   * the peer's `read()` returns `null`. Reading stays possible.
   *
   * *Cancellation*: aborting `signal`, or the running task, stops the wait for the flush
   * (the end stays queued: its bytes and the FIN leave once the peer reads); an abort
   * before the call ends nothing.
   */
  end(options?: IoOptions): Promise<void> {
    return endWritable(this.#socket, options);
  }

  /**
   * Closes the connection: flushes what was written, then releases the socket. Pending
   * reads reject with `ClosedError`. Calling it again does nothing.
   *
   * *Cancellation*: not cancellable; resolves once the socket is closed.
   */
  close(): Promise<void> {
    const socket = this.#socket;
    if (socket.destroyed) return readyFor(undefined);
    return taskWait(
      new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        if (socket.writableEnded) socket.destroy();
        else socket.end(() => socket.destroy());
        // A peer that never reads would keep the flush pending forever.
        if (socket.writableLength > 0) socket.destroy();
      }),
    );
  }

  /** `await using conn = ...` closes the connection at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Iterates the chunks until end of stream.
   *
   * *Cancellation*: breaking out of the loop does not close the stream.
   */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return taskIterator(this.#iterate());
  }

  async *#iterate(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const chunk = await this.read();
      if (chunk === null) return;
      yield chunk;
    }
  }
}
