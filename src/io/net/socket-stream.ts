/**
 * `SocketStream`: the byte-stream engine of `UnixStream` and of a child process's pipes.
 *
 * Implementation note. The `Duplex` runs in flowing mode: each `'data'` chunk goes straight
 * to the pending `read()` when there is one (no `'readable'` round trip, no listener added
 * or removed per read), else into a small queue. When the queue holds a high-water mark of
 * bytes the stream is paused, so libuv stops reading and the kernel's buffer (or the
 * in-memory peer, or the child process) stops the sender; a `read()` that takes the queue
 * under the mark resumes it. Bytes held: at most the queue (a high-water mark plus one
 * chunk) plus the stream's own buffer (another high-water mark).
 *
 * ```
 *   socket ──'data'──► pending read? ──yes──► resolve(chunk)
 *                           │ no
 *                           ▼
 *                      queue [c1 c2 …]  (≥ hwm: socket.pause())  ◄── unread(bytes) at the head
 *                           │
 *   read() ◄── shift ───────┘          (< hwm again: socket.resume())
 * ```
 *
 * Writes resolve at once under the write high-water mark and otherwise wait for `drain`.
 */
import type { Duplex } from 'node:stream';
import { ClosedError, UnexpectedEofError, ZokioError } from '../../errors.js';
import { abortReason } from '../../scheduler/abort-reason.js';
import { asBuffer, readExact, readLine, type ByteStream, type IoOptions, type ReadLineOptions } from './byte-stream.js';


interface PendingRead {
  resolve(chunk: Uint8Array | null): void;
  reject(err: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * A connected byte stream over a `Duplex`, with reads that honour backpressure, `readExact`,
 * `readLine`, `unread`, writes that wait for `drain`, `end` and `close`.
 *
 * Use the classes built on it: `UnixStream` (`zokio/net`), a child's pipes (`zokio/process`).
 */
export class SocketStream implements ByteStream {
  readonly #socket: Duplex;
  readonly #queue: Uint8Array[] = [];
  #queued = 0;
  readonly #hwm: number;
  #paused = false;
  #pending: PendingRead | undefined;
  #ended = false;
  #error: Error | undefined;
  #closed = false;
  readonly #what: string;

  /**
   * @internal Wraps a connected stream. `readable: false` leaves its read side alone (a
   * writer over a pipe that someone else reads, such as a scripted process's stdin).
   */
  constructor(socket: Duplex, what = 'stream', readable = true) {
    this.#socket = socket;
    this.#what = what;
    this.#hwm = Math.max(1, socket.readableHighWaterMark);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    if (readable) {
      socket.on('data', this.#onData);
      socket.on('end', this.#onEnd);
      socket.resume();
    } else {
      this.#ended = true;
    }
  }

  readonly #onData = (chunk: Uint8Array): void => {
    const pending = this.#pending;
    if (pending !== undefined) {
      this.#settle();
      pending.resolve(chunk);
      return;
    }
    this.#queue.push(chunk);
    this.#queued += chunk.byteLength;
    if (this.#queued >= this.#hwm && !this.#paused) {
      this.#paused = true;
      this.#socket.pause();
    }
  };

  readonly #onEnd = (): void => {
    this.#ended = true;
    const pending = this.#pending;
    if (pending === undefined) return;
    this.#settle();
    pending.resolve(null);
  };

  readonly #onError = (err: Error): void => {
    this.#error ??= err;
    const pending = this.#pending;
    if (pending === undefined) return;
    this.#settle();
    pending.reject(err);
  };

  readonly #onClose = (): void => {
    this.#closed = true;
    const pending = this.#pending;
    if (pending === undefined) return;
    this.#settle();
    if (this.#error !== undefined) pending.reject(this.#error);
    else if (this.#ended) pending.resolve(null);
    else pending.reject(new ClosedError(`${this.#what} is closed`));
  };

  #settle(): void {
    const pending = this.#pending!;
    this.#pending = undefined;
    if (pending.onAbort !== undefined) pending.signal!.removeEventListener('abort', pending.onAbort);
  }

  /** Bytes received and not read yet: the queue and the stream's own buffer. */
  get readableBytes(): number {
    return this.#queued + this.#socket.readableLength;
  }

  /** The read high-water mark: above it the stream stops reading from its source. */
  get readableHighWaterMark(): number {
    return this.#hwm;
  }

  /** Bytes accepted by `write` and not yet handed on. */
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

  /**
   * Reads the next chunk; `null` at end of stream. One read at a time.
   *
   * *Cancellation*: aborting `signal` rejects with its reason; no data is lost, the next
   * read returns it.
   * @throws the stream's error (e.g. `ECONNRESET`), or `ClosedError` after `close()`.
   */
  read(options?: IoOptions): Promise<Uint8Array | null> {
    const queue = this.#queue;
    if (queue.length > 0) {
      const chunk = queue.shift()!;
      this.#queued -= chunk.byteLength;
      if (this.#paused && this.#queued < this.#hwm) {
        this.#paused = false;
        this.#socket.resume();
      }
      return Promise.resolve(chunk);
    }
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve(null);
    if (this.closed) return Promise.reject(new ClosedError(`${this.#what} is closed`));
    if (this.#pending !== undefined) return Promise.reject(new ZokioError('ZOKIO_ERR_INVALID_ARGUMENT', `${this.#what}: a read is already in progress`));
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<Uint8Array | null>((resolve, reject) => {
      const pending: PendingRead = { resolve, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        pending.onAbort = () => {
          if (this.#pending !== pending) return;
          this.#pending = undefined;
          reject(abortReason(signal));
        };
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      this.#pending = pending;
    });
  }

  /** Puts `bytes` back at the head of the stream: the next `read` returns them first. */
  unread(bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    this.#queue.unshift(asBuffer(bytes));
    this.#queued += bytes.byteLength;
  }

  /**
   * Reads exactly `n` bytes.
   *
   * *Cancellation*: aborting `signal` puts back the bytes read so far: the stream is where
   * it was before the call.
   * @throws UnexpectedEofError when the stream ends first (the bytes that came are put back).
   */
  readExact(n: number, options?: IoOptions): Promise<Uint8Array> {
    if (!Number.isSafeInteger(n) || n <= 0) return readExact(this, n, options);
    // Fast path: the next chunk holds the n bytes (a request/response exchange).
    return this.read(options).then((chunk) => {
      if (chunk === null) throw new UnexpectedEofError(0, n);
      if (chunk.byteLength === n) return chunk;
      if (chunk.byteLength > n) {
        this.unread(chunk.subarray(n));
        return chunk.subarray(0, n);
      }
      this.unread(chunk);
      return readExact(this, n, options);
    });
  }

  /**
   * Reads one line (without `\n` or `\r\n`), UTF-8; `null` at end of stream. A last line
   * without a line ending is returned as it is.
   *
   * *Cancellation*: aborting `signal` puts back the bytes of the unfinished line.
   * @throws FrameTooLargeError for a line over `maxBytes` (default 64 KiB); the stream is closed.
   */
  readLine(options?: ReadLineOptions): Promise<string | null> {
    return readLine(this, options);
  }

  /**
   * Writes `data`; resolves once it is buffered under the high-water mark, waiting for
   * `drain` when the peer reads slowly.
   *
   * *Cancellation*: aborting `signal` stops the wait for `drain`; the bytes stay queued.
   * @throws the stream's error, or `ClosedError` after `close()` / `end()`.
   */
  write(data: Uint8Array | string, options?: IoOptions): Promise<void> {
    const socket = this.#socket;
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (socket.destroyed || socket.writableEnded) return Promise.reject(new ClosedError(`${this.#what} is closed for writing`));
    if (socket.write(data)) return Promise.resolve();
    const signal = options?.signal;
    return new Promise<void>((resolve, reject) => {
      const cleanup = (): void => {
        socket.off('drain', onDrain);
        socket.off('close', onClose);
        signal?.removeEventListener('abort', onAbort);
      };
      const onDrain = (): void => {
        cleanup();
        resolve();
      };
      const onClose = (): void => {
        cleanup();
        reject(this.#error ?? new ClosedError(`${this.#what} closed while writing`));
      };
      const onAbort = (): void => {
        cleanup();
        reject(abortReason(signal!));
      };
      socket.on('drain', onDrain);
      socket.on('close', onClose);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Ends this side after the buffered bytes are sent (half-close); reading stays possible.
   *
   * *Cancellation*: not cancellable; resolves once the end has been flushed.
   */
  end(): Promise<void> {
    const socket = this.#socket;
    if (socket.writableFinished || socket.destroyed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      socket.once('finish', resolve);
      socket.once('close', resolve);
      socket.end();
    });
  }

  /**
   * Closes the stream: flushes what was written (unless the peer is not reading), then
   * releases it. A pending read rejects with `ClosedError`. Calling it again does nothing.
   *
   * *Cancellation*: not cancellable; resolves once the stream is closed.
   */
  close(): Promise<void> {
    const socket = this.#socket;
    if (socket.destroyed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      if (socket.writableEnded || !socket.writable || socket.writableLength > 0) socket.destroy();
      else socket.end(() => socket.destroy());
    });
  }

  /** `await using stream = ...` closes it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Iterates the chunks until end of stream.
   *
   * *Cancellation*: breaking out of the loop does not close the stream.
   */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    // A plain iterator over read(): one promise per chunk, no generator frames.
    const done: IteratorReturnResult<undefined> = { done: true, value: undefined };
    return {
      next: () => this.read().then((chunk) => (chunk === null ? done : { done: false, value: chunk })),
      return: () => Promise.resolve(done),
    };
  }
}
