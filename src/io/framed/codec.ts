/**
 * The codec contract of `framed` (what a frame format implements).
 *
 * Implementation note. A decoder looks at the bytes received so far, contiguous, and
 * either finds a whole frame at their front (and says how many bytes it took) or says how
 * many bytes it needs at least; `framed` reads until it has that many before asking again,
 * so a large frame arriving in many chunks is joined once, not once per chunk. A frame over
 * the codec's limit is thrown as `FrameTooLargeError` as soon as it is known to be too
 * large (for a length prefix: from the prefix alone).
 */
import type { Buffer } from 'node:buffer';

/** A frame found at the front of the buffer (`size` bytes, its framing included), or a frame that was whole but did not decode. */
export type Decoded<T> =
  | {
      /** The decoded frame, which `read` returns. */
      readonly frame: T;
      /** Bytes the frame took at the front of the buffer, framing included; `framed` drops them. */
      readonly size: number;
      /** Absent: the frame decoded. */
      readonly error?: undefined;
    }
  | {
      /** Why the whole frame did not decode (e.g. a `FrameDecodeError`); `read` rejects with it. */
      readonly error: Error;
      /** Bytes the undecodable frame took, framing included; `framed` drops them, so the next read starts after it. */
      readonly size: number;
    };

/**
 * A frame format for {@link framed}: `lengthDelimited`, `lines`, `jsonLines`, or your own.
 *
 * `In` is what reading yields, `Out` what `send` takes.
 */
export interface Codec<In, Out = In> {
  /** Short name for messages, e.g. `lengthDelimited`. */
  readonly name: string;
  /**
   * Decodes the frame at the front of `buffer`: the frame and its size in bytes, or the
   * number of bytes needed before a frame can be decoded (more than `buffer.length`).
   * @throws FrameTooLargeError as soon as the frame is known to be over the limit.
   */
  decode(buffer: Buffer): Decoded<In> | number;
  /**
   * Encodes one frame, framing included, as one chunk (so that concurrent sends never
   * interleave).
   * @throws FrameTooLargeError for a frame over the limit (nothing is written).
   */
  encode(frame: Out): Uint8Array;
}
