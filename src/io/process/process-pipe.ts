/**
 * A child process's pipes: `ProcessOutput` (stdout, stderr) and `ProcessInput` (stdin).
 *
 * Implementation note. Both wrap the byte-stream engine of `zokio/net` (`SocketStream`)
 * over the pipe's `Duplex`: a pipe nobody reads fills its queue to the high-water mark and
 * is paused, libuv stops reading, the kernel pipe fills and the child blocks in `write(2)`:
 * a slow consumer pauses the child, and memory stays bounded. The engine's `'data'`
 * listener also keeps Node's child_process from discarding an unread pipe when the child
 * exits (it resumes the pipe into our queue instead; what is left then is bounded by the
 * kernel pipe).
 */
import { Buffer } from 'node:buffer';
import { PassThrough, type Duplex } from 'node:stream';
import { asBuffer, type ReadLineOptions } from '../net/byte-stream.js';
import { SocketStream } from '../net/socket-stream.js';
import { readyFor, taskWait } from '../../scheduler/task.js';
import type { IoOptions } from '../net/byte-stream.js';

function endedStream(): Duplex {
  const stream = new PassThrough();
  stream.end();
  stream.destroy();
  return stream;
}

/**
 * A child's stdout or stderr: an async iterable of chunks with backpressure (a consumer
 * that stops reading pauses the child), plus `read`, `readExact`, `readLine`, `text()`.
 * A stream not in `'pipe'` mode is empty.
 *
 * @example
 * ```ts
 * import { spawnProcess } from 'zokio/process';
 * await using child = await spawnProcess('ls', ['-l']);
 * for await (const chunk of child.stdout) process.stdout.write(chunk);
 * ```
 */
export class ProcessOutput implements AsyncIterable<Uint8Array> {
  readonly #pipe: Duplex;
  readonly #inner: SocketStream;

  /** @internal */
  constructor(pipe: Duplex | null) {
    this.#pipe = pipe ?? endedStream();
    this.#inner = new SocketStream(this.#pipe, 'child process output');
  }

  /**
   * Bytes received from the child and not read yet: at most two high-water marks plus two
   * chunks (the engine's queue and the pipe's buffer each stop at a mark, plus one chunk).
   */
  get bufferedBytes(): number {
    return this.#inner.readableBytes;
  }

  /** The pipe's read high-water mark. */
  get highWaterMark(): number {
    return this.#inner.readableHighWaterMark;
  }

  /**
   * The next chunk; `null` once the child closed the stream.
   *
   * *Cancellation*: aborting `signal` rejects with its reason; nothing is lost.
   */
  read(options?: IoOptions): Promise<Uint8Array | null> {
    return this.#inner.read(options);
  }

  /** Puts `bytes` back: the next read returns them first. */
  unread(bytes: Uint8Array): void {
    this.#inner.unread(bytes);
  }

  /**
   * Exactly `n` bytes. *Cancellation*: aborting puts back what was read.
   * @throws UnexpectedEofError when the stream ends first.
   */
  readExact(n: number, options?: IoOptions): Promise<Uint8Array> {
    return this.#inner.readExact(n, options);
  }

  /**
   * One line (without `\n` / `\r\n`); `null` at the end.
   * *Cancellation*: aborting puts back the unfinished line.
   * @throws FrameTooLargeError for a line over `maxBytes` (the pipe is closed).
   */
  readLine(options?: ReadLineOptions): Promise<string | null> {
    return this.#inner.readLine(options);
  }

  /**
   * Reads to the end and returns everything as bytes.
   *
   * *Cancellation*: aborting `signal` rejects; the bytes read so far are put back.
   */
  async bytes(options?: IoOptions): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      for (;;) {
        const chunk = await this.#inner.read(options);
        if (chunk === null) break;
        chunks.push(chunk);
        total += chunk.byteLength;
      }
    } catch (err) {
      if (total > 0) this.#inner.unread(Buffer.concat(chunks, total));
      throw err;
    }
    return Buffer.concat(chunks, total);
  }

  /** Reads to the end and decodes UTF-8. *Cancellation*: as {@link ProcessOutput.bytes}. */
  async text(options?: IoOptions): Promise<string> {
    return asBuffer(await this.bytes(options)).toString('utf8');
  }

  /** Stops reading and releases the pipe (the child gets `EPIPE`/`SIGPIPE` on its next write). */
  close(): Promise<void> {
    const pipe = this.#pipe;
    if (pipe.destroyed) return readyFor(undefined);
    return taskWait(
      new Promise<void>((resolve) => {
        pipe.once('close', () => resolve());
        pipe.destroy();
      }),
    );
  }

  /**
   * Iterates the chunks until the child closes the stream.
   *
   * *Cancellation*: breaking out of the loop leaves the pipe open (and the child paused
   * once it fills).
   */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.#inner[Symbol.asyncIterator]();
  }
}

/**
 * A child's stdin: `write` waits for `drain` (a child that does not read pauses the
 * writer), `end` closes it so the child reads end of file.
 */
export class ProcessInput {
  readonly #inner: SocketStream;
  readonly #pipe: Duplex;

  /** @internal */
  constructor(pipe: Duplex | null) {
    this.#pipe = pipe ?? endedStream();
    // Write side only (a scripted process reads the other end); the engine's 'error'
    // listener keeps an EPIPE after the child exits from crashing the process.
    this.#inner = new SocketStream(this.#pipe, 'child process stdin', false);
  }

  /** Bytes written and not yet taken by the pipe. */
  get bufferedBytes(): number {
    return this.#pipe.writableLength;
  }

  /**
   * Writes `data`; resolves once it is buffered under the high-water mark, waiting for
   * `drain` while the child does not read.
   *
   * *Cancellation*: aborting `signal` stops the wait; the bytes stay queued.
   * @throws ClosedError after `end()`, or the pipe's error (`EPIPE` once the child is gone).
   */
  write(data: Uint8Array | string, options?: IoOptions): Promise<void> {
    return this.#inner.write(data, options);
  }

  /**
   * Closes stdin after the buffered bytes: the child reads end of file.
   *
   * *Cancellation*: aborting `signal`, or the running task, stops the wait for the flush;
   * the end stays queued (the child reads end of file once it has read the rest).
   */
  end(options?: IoOptions): Promise<void> {
    return this.#inner.end(options);
  }

  /** @internal Releases the pipe. */
  destroy(): void {
    this.#pipe.destroy();
  }
}
