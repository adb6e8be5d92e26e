/**
 * `lines` and `jsonLines`: frames ended by `\n` (a `\r` before it is dropped), as UTF-8
 * text or as one JSON value per line (JSON Lines / NDJSON).
 */
import { Buffer } from 'node:buffer';
import { FrameDecodeError, FrameTooLargeError, ZokioError } from '../../errors.js';
import { DEFAULT_MAX_LINE_BYTES } from '../net/byte-stream.js';
import type { Codec, Decoded } from './codec.js';

/** Options of {@link lines} and {@link jsonLines}. */
export interface LinesOptions {
  /**
   * The longest line accepted or sent, in bytes, without its line ending. A longer one is
   * `FrameTooLargeError`: the stream is closed, at most one chunk past the limit read.
   * @default 65536
   */
  readonly maxBytes?: number;
}

function maxBytesOf(options: LinesOptions, name: string): number {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_LINE_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new ZokioError('ZOKIO_ERR_INVALID_ARGUMENT', `${name}: maxBytes must be an integer >= 0 (received ${String(maxBytes)})`);
  return maxBytes;
}

/** The line at the front of `buffer` as [end of its text, size with the ending], or the bytes needed. */
function findLine(buffer: Buffer, maxBytes: number): readonly [number, number] | number {
  const nl = buffer.indexOf(10);
  if (nl < 0) {
    // `maxBytes` of text plus a `\r` may still be followed by the `\n`.
    if (buffer.length > maxBytes + 1) throw new FrameTooLargeError(buffer.length, maxBytes, 'line');
    return buffer.length + 1;
  }
  const end = nl > 0 && buffer[nl - 1] === 13 ? nl - 1 : nl;
  if (end > maxBytes) throw new FrameTooLargeError(end, maxBytes, 'line');
  return [end, nl + 1];
}

function encodeLine(text: string, maxBytes: number, name: string): Uint8Array {
  if (text.includes('\n')) throw new ZokioError('ZOKIO_ERR_INVALID_ARGUMENT', `${name}: a frame to send must not contain a line feed`);
  const bytes = Buffer.byteLength(text);
  if (bytes > maxBytes) throw new FrameTooLargeError(bytes, maxBytes, 'line');
  const out = Buffer.allocUnsafe(bytes + 1);
  out.write(text, 0, 'utf8');
  out[bytes] = 10;
  return out;
}

/**
 * The line codec: each frame is one line of UTF-8 text, without its `\n` or `\r\n`.
 * A stream that ends after an unterminated line is `UnexpectedEofError` (a frame is whole
 * or it is an error).
 *
 * @example
 * ```ts
 * import { TcpStream, framed, lines } from 'zokio/net';
 * const conn = await TcpStream.connect({ port: 6379 });
 * const io = framed(conn, lines({ maxBytes: 4096 }));
 * await io.send('PING');
 * console.log(await io.read()); // '+PONG'
 * ```
 */
export function lines(options: LinesOptions = {}): Codec<string> {
  const maxBytes = maxBytesOf(options, 'lines');
  return {
    name: 'lines',
    decode(buffer: Buffer): Decoded<string> | number {
      const found = findLine(buffer, maxBytes);
      if (typeof found === 'number') return found;
      return { frame: buffer.toString('utf8', 0, found[0]), size: found[1] };
    },
    encode: (frame: string) => encodeLine(frame, maxBytes, 'lines'),
  };
}

/**
 * The JSON Lines codec: each frame is one JSON value on one line. A line that is not JSON
 * is `FrameDecodeError`; it is consumed and the next read goes on with the next line.
 *
 * @example
 * ```ts
 * import { UnixStream, framed, jsonLines } from 'zokio/net';
 * const conn = await UnixStream.connect({ path: '/tmp/app.sock' });
 * const io = framed(conn, jsonLines<{ op: string }>({ maxBytes: 1 << 20 }));
 * await io.send({ op: 'list' });
 * for await (const message of io) console.log(message.op);
 * ```
 */
export function jsonLines<T = unknown>(options: LinesOptions = {}): Codec<T> {
  const maxBytes = maxBytesOf(options, 'jsonLines');
  return {
    name: 'jsonLines',
    decode(buffer: Buffer): Decoded<T> | number {
      const found = findLine(buffer, maxBytes);
      if (typeof found === 'number') return found;
      const text = buffer.toString('utf8', 0, found[0]);
      try {
        return { frame: JSON.parse(text) as T, size: found[1] };
      } catch (err) {
        return { error: new FrameDecodeError(`jsonLines: a line is not JSON (${(err as Error).message})`, { cause: err }), size: found[1] };
      }
    },
    encode(frame: T): Uint8Array {
      const text = JSON.stringify(frame);
      if (text === undefined) throw new ZokioError('ZOKIO_ERR_INVALID_ARGUMENT', 'jsonLines: the frame has no JSON form (undefined, a function or a symbol)');
      return encodeLine(text, maxBytes, 'jsonLines');
    },
  };
}
