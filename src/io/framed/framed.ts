/**
 * `framed(stream, codec)`: a byte stream read and written as whole frames.
 *
 * Implementation note. A read first decodes from the bytes held since the last read (a
 * chunk often carries many frames: those cost no I/O and no async step); otherwise it
 * pulls chunks from the stream until the codec finds a whole frame at the front (asking
 * for at least as many bytes as the codec says it needs, so the chunks of a large frame
 * are joined once), returns it and holds the bytes after it. An aborted read gives all it
 * holds back to the stream with `unread`, so the stream is then at a frame boundary.
 */
import { Buffer } from 'node:buffer';
import { FrameTooLargeError, UnexpectedEofError, ZokioError } from '../../errors.js';
import { failedFor, readyFor, rejectIfAborted, taskWait } from '../../scheduler/task.js';
import { asBuffer, type ByteStream } from '../net/byte-stream.js';
import type { IoOptions } from '../net/byte-stream.js';
import type { Codec, Decoded } from './codec.js';

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

function toStep<In>(frame: In | null): IteratorResult<In> {
  return frame === null ? DONE : { done: false, value: frame };
}

/** The part of a stream that {@link framed} uses. */
export type FramedStream = Pick<ByteStream, 'read' | 'unread' | 'write' | 'close'>;

/**
 * A stream of frames: read them with `read()` or `for await`, write them with `send()`.
 * Made by {@link framed}.
 */
export class Framed<In, Out = In> implements AsyncIterable<In> {
  readonly #stream: FramedStream;
  readonly #codec: Codec<In, Out>;
  #reading = false;
  #finished = false;
  /** Bytes received past the last frame read. */
  #held: Buffer | undefined;

  /** @internal Use {@link framed}. */
  constructor(stream: FramedStream, codec: Codec<In, Out>) {
    this.#stream = stream;
    this.#codec = codec;
  }

  /**
   * The stream under the frames. Bytes received past the last frame read are held by the
   * framed stream (they go back to the stream after an aborted read).
   */
  get stream(): FramedStream {
    return this.#stream;
  }

  /**
   * Reads the next whole frame; `null` at end of stream (when it ends at a frame boundary).
   * One read at a time.
   *
   * *Cancellation*: aborting `signal` rejects with its reason and gives every byte the
   * framed stream holds (the unfinished frame and anything after it) back to the stream
   * with `unread`: the stream stays at the frame boundary where this read began, and the
   * next read starts that frame again. Nothing is lost.
   * @throws FrameTooLargeError for a frame over the codec's limit: the stream is closed,
   *   and for a length prefix nothing past the prefix is read.
   * @throws UnexpectedEofError when the stream ends inside a frame (later reads return `null`).
   * @throws FrameDecodeError for a whole frame that does not decode (it is consumed).
   * @throws the stream's error (e.g. `ECONNRESET`).
   */
  read(options?: IoOptions): Promise<In | null> {
    return this.#next(options, false);
  }

  /**
   * `read`, or the iterator's step (`step`: the frame as an iterator result). A whole frame
   * already held (frames that came in one chunk) is handed over at once, with no I/O and no
   * async function; otherwise the frame is read from the stream.
   */
  #next(options: IoOptions | undefined, step: false): Promise<In | null>;
  #next(options: IoOptions | undefined, step: true): Promise<IteratorResult<In>>;
  #next(options: IoOptions | undefined, step: boolean): Promise<In | null | IteratorResult<In>> {
    const aborted = rejectIfAborted();
    if (aborted !== undefined) return aborted;
    if (this.#reading) return failedFor(new ZokioError('ZOKIO_ERR_INVALID_ARGUMENT', 'framed: a read is already in progress (read one frame at a time)'));
    const held = this.#held;
    let need = 1;
    if (held !== undefined) {
      let decoded: Decoded<In> | number;
      try {
        decoded = this.#codec.decode(held);
      } catch (err) {
        return taskWait(this.#fail(err));
      }
      if (typeof decoded !== 'number') {
        this.#held = decoded.size < held.length ? held.subarray(decoded.size) : undefined;
        if (decoded.error !== undefined) return failedFor(decoded.error);
        return readyFor(step ? { done: false, value: decoded.frame } : decoded.frame);
      }
      need = decoded;
    }
    if (this.#finished) return readyFor(step ? DONE : null);
    this.#reading = true;
    const frame = this.#readFrame(options, need).finally(() => {
      this.#reading = false;
    });
    return taskWait(step ? frame.then(toStep) : frame);
  }

  async #fail(err: unknown): Promise<never> {
    if (err instanceof FrameTooLargeError) {
      this.#finished = true;
      this.#held = undefined;
      await this.#stream.close();
    }
    throw err;
  }

  async #readFrame(options: IoOptions | undefined, need: number): Promise<In | null> {
    const stream = this.#stream;
    const codec = this.#codec;
    const held = this.#held;
    this.#held = undefined;
    let chunks: Buffer[] = held === undefined ? [] : [held];
    let have = held === undefined ? 0 : held.length;
    for (;;) {
      let chunk: Uint8Array | null;
      try {
        chunk = await stream.read(options);
      } catch (err) {
        if (have > 0) stream.unread(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, have));
        throw err;
      }
      if (chunk === null) {
        this.#finished = true;
        if (have === 0) return null;
        throw new UnexpectedEofError(have, need > have ? need : undefined, `${codec.name} frame`);
      }
      chunks.push(asBuffer(chunk));
      have += chunk.byteLength;
      if (have < need) continue;
      const buffer = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, have);
      chunks = [buffer];
      let decoded: Decoded<In> | number;
      try {
        decoded = codec.decode(buffer);
      } catch (err) {
        return this.#fail(err);
      }
      if (typeof decoded === 'number') {
        need = decoded;
        continue;
      }
      if (decoded.size < have) this.#held = buffer.subarray(decoded.size);
      if (decoded.error !== undefined) throw decoded.error;
      return decoded.frame;
    }
  }

  /**
   * Encodes `frame` and writes it as one chunk, waiting for `drain` under backpressure.
   * Concurrent sends never interleave their bytes.
   *
   * *Cancellation*: aborting `signal` stops the wait for `drain`; the whole frame stays
   * queued and will be sent (never a partial frame).
   * @throws FrameTooLargeError for a frame over the codec's limit (nothing is written).
   */
  send(frame: Out, options?: IoOptions): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = this.#codec.encode(frame);
    } catch (err) {
      return failedFor(err);
    }
    return this.#stream.write(bytes, options);
  }

  /** Closes the stream. *Cancellation*: not cancellable. */
  close(): Promise<void> {
    this.#finished = true;
    this.#held = undefined;
    return this.#stream.close();
  }

  /** `await using frames = framed(...)` closes the stream at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Yields each frame until the stream ends.
   *
   * *Cancellation*: breaking out of the loop leaves the stream open, at a frame boundary.
   */
  [Symbol.asyncIterator](): AsyncIterator<In> {
    // A plain iterator over read(): one promise per frame, no generator frames.
    return {
      next: () => this.#next(undefined, true),
      return: () => readyFor(DONE),
    };
  }
}

/**
 * Reads and writes `stream` as frames of `codec`: `lengthDelimited`, `lines`,
 * `jsonLines`, or your own {@link Codec}.
 *
 * Use it for message protocols over `TcpStream`, `UnixStream` (or a child's pipes for
 * reading): each `read()` gives one whole frame, each `send()` writes one.
 *
 * @example
 * ```ts
 * import { UnixListener, framed, lengthDelimited } from 'zokio/net';
 * const listener = await UnixListener.bind({ path: '/tmp/echo.sock' });
 * const conn = await listener.accept();
 * const frames = framed(conn, lengthDelimited({ lengthBytes: 4, maxFrameBytes: 64 * 1024 }));
 * for await (const frame of frames) await frames.send(frame); // echo each message
 * ```
 *
 * *Cancellation*: see {@link Framed.read} (the stream stays at a frame boundary) and
 * {@link Framed.send} (a frame is queued whole or not at all).
 */
export function framed<In, Out = In>(stream: FramedStream, codec: Codec<In, Out>): Framed<In, Out> {
  return new Framed(stream, codec);
}
