/**
 * `lengthDelimited`: frames prefixed with their length, big-endian (tokio's
 * `LengthDelimitedCodec`, the format most length-prefixed protocols use).
 *
 * ```
 *   ┌──────────────┬─────────────────────────┐
 *   │ length (BE)  │ payload (length bytes)   │
 *   │ lengthBytes  │ ≤ maxFrameBytes          │
 *   └──────────────┴─────────────────────────┘
 * ```
 */
import { Buffer } from 'node:buffer';
import { FrameTooLargeError, ZokioError } from '../../errors.js';
import type { Codec, Decoded } from './codec.js';

/** Options of {@link lengthDelimited}. */
export interface LengthDelimitedOptions {
  /** Size of the big-endian length prefix: 1, 2, 3 or 4 bytes. @default 4 */
  readonly lengthBytes?: 1 | 2 | 3 | 4;
  /**
   * The largest payload accepted or sent, in bytes. A prefix announcing more is
   * `FrameTooLargeError`: the stream is closed and the payload never read.
   * @default 8388608 (8 MiB)
   */
  readonly maxFrameBytes?: number;
}

/** Default `maxFrameBytes` of {@link lengthDelimited}. */
export const DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024;

/**
 * The length-prefixed codec: each frame is a big-endian length of `lengthBytes` bytes
 * followed by that many payload bytes. Reading yields payloads (`Uint8Array`); `send`
 * takes a `Uint8Array` or a string (sent as UTF-8).
 *
 * @example
 * ```ts
 * import { UnixStream, framed, lengthDelimited } from 'zokio/net';
 * const conn = await UnixStream.connect({ path: '/tmp/app.sock' });
 * const frames = framed(conn, lengthDelimited({ lengthBytes: 4, maxFrameBytes: 1 << 20 }));
 * await frames.send('{"op":"list"}');
 * const reply = await frames.read();
 * ```
 * @throws ZokioError `ZOKIO_ERR_INVALID_ARGUMENT` for a bad `lengthBytes` or `maxFrameBytes`.
 */
export function lengthDelimited(options: LengthDelimitedOptions = {}): Codec<Uint8Array, Uint8Array | string> {
  const lengthBytes = options.lengthBytes ?? 4;
  if (lengthBytes !== 1 && lengthBytes !== 2 && lengthBytes !== 3 && lengthBytes !== 4) {
    throw new ZokioError('ZOKIO_ERR_INVALID_ARGUMENT', `lengthDelimited: lengthBytes must be 1, 2, 3 or 4 (received ${String(lengthBytes)})`);
  }
  const widest = 2 ** (8 * lengthBytes) - 1;
  const maxFrameBytes = options.maxFrameBytes ?? Math.min(DEFAULT_MAX_FRAME_BYTES, widest);
  if (!Number.isSafeInteger(maxFrameBytes) || maxFrameBytes < 0 || maxFrameBytes > widest) {
    throw new ZokioError('ZOKIO_ERR_INVALID_ARGUMENT', `lengthDelimited: maxFrameBytes must be an integer in 0..${widest} for ${lengthBytes}-byte lengths (received ${String(maxFrameBytes)})`);
  }
  return {
    name: 'lengthDelimited',
    decode(buffer: Buffer): Decoded<Uint8Array> | number {
      if (buffer.length < lengthBytes) return lengthBytes;
      const length = buffer.readUIntBE(0, lengthBytes);
      if (length > maxFrameBytes) throw new FrameTooLargeError(length, maxFrameBytes);
      const size = lengthBytes + length;
      if (buffer.length < size) return size;
      return { frame: buffer.subarray(lengthBytes, size), size };
    },
    encode(frame: Uint8Array | string): Uint8Array {
      const payloadBytes = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.byteLength;
      if (payloadBytes > maxFrameBytes) throw new FrameTooLargeError(payloadBytes, maxFrameBytes);
      const out = Buffer.allocUnsafe(lengthBytes + payloadBytes);
      out.writeUIntBE(payloadBytes, 0, lengthBytes);
      if (typeof frame === 'string') out.write(frame, lengthBytes, 'utf8');
      else out.set(frame, lengthBytes);
      return out;
    },
  };
}
