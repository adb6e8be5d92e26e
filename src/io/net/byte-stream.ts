/**
 * The byte-stream API shared by `TcpStream`, `UnixStream` and a child process's pipes, and
 * the exact and line reads written once over it.
 *
 * Implementation note. A stream exposes two primitives: `read()` pulls the next chunk
 * (`null` at end of stream) and `unread(bytes)` puts bytes back at its head, so the next
 * `read()` returns them first. `readExact` and `readLine` pull chunks until they have what
 * they need, hand back the rest of the last chunk with `unread`, and on an abort or error
 * put back everything they took: a cancelled read leaves the stream where it was.
 */
import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { FrameTooLargeError, UnexpectedEofError, ZokioError } from '../../errors.js';
import { failedFor, readyFor } from '../../scheduler/task.js';
import { abortableWait, abortedBeforeWait } from '../../scheduler/wait-abort.js';

/** Options of a read or write. */
export interface IoOptions {
  /** Aborts the wait (the stream stays usable). */
  readonly signal?: AbortSignal;
}

/** Options of {@link ByteStream.readLine}. */
export interface ReadLineOptions extends IoOptions {
  /**
   * The longest line accepted, in bytes, without its line ending. A longer line is
   * `FrameTooLargeError` and closes the stream.
   * @default 65536
   */
  readonly maxBytes?: number;
}

/** Default `maxBytes` of a line (`readLine`, `lines`, `jsonLines`). */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

/** @internal The two primitives the reads below are written over. */
export interface ByteReader {
  /**
   * Reads the next chunk of bytes; `null` at end of stream. One read at a time.
   *
   * *Cancellation*: aborting `options.signal` rejects with its reason; no data is lost,
   * the next read returns it.
   */
  read(options?: IoOptions): Promise<Uint8Array | null>;
  /** Puts `bytes` back at the head of the stream: the next `read` returns them first. */
  unread(bytes: Uint8Array): void;
  /**
   * Closes the stream and releases it; a pending read rejects with `ClosedError`. Calling
   * it again does nothing.
   *
   * *Cancellation*: not cancellable; resolves once the stream is closed.
   */
  close(): Promise<void>;
}

/**
 * One stream API for TCP and Unix connections (and, for reading, a child process's
 * stdout and stderr): pull-based reads that honour backpressure, exact and line reads,
 * writes that wait for `drain`.
 *
 * Use it to write code (a protocol handler, `framed`) that works over any of them.
 */
export interface ByteStream extends ByteReader, AsyncIterable<Uint8Array> {
  /** Reads exactly `n` bytes; `UnexpectedEofError` when the stream ends first. */
  readExact(n: number, options?: IoOptions): Promise<Uint8Array>;
  /** Reads one line (without `\n` or `\r\n`); `null` at end of stream. */
  readLine(options?: ReadLineOptions): Promise<string | null>;
  /** Writes `data`, waiting for `drain` under backpressure. */
  write(data: Uint8Array | string, options?: IoOptions): Promise<void>;
  /** Ends this side after the buffered bytes are sent; reading stays possible. */
  end(options?: IoOptions): Promise<void>;
  /** True once the stream is closed. */
  readonly closed: boolean;
  /** `await using stream = ...` closes the stream at the end of the block, as `close()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * @internal Ends `socket`'s writable side after its buffered bytes; resolves once that end
 * has been flushed, or the socket closed. The `end()` of every byte stream.
 *
 * *Cancellation*: aborting `signal`, or the running task, rejects with its reason; the end
 * stays queued (its bytes and the FIN leave once the peer reads). An abort before the call
 * ends nothing.
 */
export function endWritable(socket: Duplex, options?: IoOptions): Promise<void> {
  if (socket.writableFinished || socket.destroyed) return readyFor(undefined);
  const signal = options?.signal;
  const aborted = abortedBeforeWait(signal);
  if (aborted !== undefined) return failedFor(aborted.reason);
  const ended = onceSocketEvent(socket, { finish: succeeded, close: succeeded });
  socket.end();
  return abortableWait(ended, signal);
}

/**
 * @internal The first of `outcomes`' events on `socket` (the `drain` that writes wait for,
 * the end of a stream): each maps the event's argument to `undefined` (the wait is over)
 * or to the error it rejects with; then every listener is removed. Nothing aborts it: one
 * such wait serves every caller waiting for the same event (each through
 * `abortableWait` with its own signal), so concurrent writers add one set of listeners
 * to the socket, not one each.
 */
export function onceSocketEvent(socket: Duplex, outcomes: Readonly<Record<string, (arg: unknown) => Error | undefined>>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const listeners = Object.entries(outcomes).map(([event, outcome]) => {
      const listener = (arg: unknown): void => {
        for (const [name, registered] of listeners) socket.off(name, registered);
        const err = outcome(arg);
        if (err === undefined) resolve();
        else reject(err);
      };
      socket.on(event, listener);
      return [event, listener] as const;
    });
  });
}

/**
 * @internal The wait for `drain` of one writable side, shared by every write that finds
 * the buffer over its high-water mark: {@link DrainWait.wait} hands each writer the one
 * pending wait, through its own `signal` and task.
 */
export class DrainWait {
  #pending: Promise<void> | undefined = undefined;
  readonly #socket: Duplex;
  readonly #outcomes: Readonly<Record<string, (arg: unknown) => Error | undefined>>;
  readonly #clear = (): void => {
    this.#pending = undefined;
  };

  /** `outcomes` as for {@link onceSocketEvent}; it must include `drain`. */
  constructor(socket: Duplex, outcomes: Readonly<Record<string, (arg: unknown) => Error | undefined>>) {
    this.#socket = socket;
    this.#outcomes = outcomes;
  }

  /**
   * Resolves at the next `drain`. The caller checked {@link abortedBeforeWait}.
   *
   * *Cancellation*: aborting `signal`, or the running task, rejects this caller's wait with
   * its reason; the other writers' waits go on.
   */
  wait(signal: AbortSignal | undefined): Promise<void> {
    let pending = this.#pending;
    if (pending === undefined) {
      pending = onceSocketEvent(this.#socket, this.#outcomes);
      // Registered first, so the wait is cleared before any writer it wakes writes again.
      pending.then(this.#clear, this.#clear);
      this.#pending = pending;
    }
    return abortableWait(pending, signal);
  }
}

/** The outcome of an event that ends a wait successfully (see {@link onceSocketEvent}). */
export function succeeded(): undefined {
  return undefined;
}

/** A `Buffer` view of `bytes` without a copy. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** `head` followed by `tail`, as one chunk (a copy only when both are non-empty). */
export function joinBytes(head: Uint8Array | undefined, tail: Uint8Array): Uint8Array {
  if (head === undefined || head.byteLength === 0) return tail;
  if (tail.byteLength === 0) return head;
  return Buffer.concat([head, tail]);
}

function checkCount(n: number, name: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new ZokioError('ZOKIO_ERR_INVALID_ARGUMENT', `${name} must be an integer >= 0 (received ${String(n)})`);
}

/**
 * @internal `readExact` of every stream: exactly `n` bytes. On abort, error or a short
 * end the bytes taken are put back (the stream is where it was) and the call rejects.
 */
export async function readExact(reader: ByteReader, n: number, options?: IoOptions): Promise<Uint8Array> {
  checkCount(n, 'readExact(n)');
  if (n === 0) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let have = 0;
  try {
    while (have < n) {
      const chunk = await reader.read(options);
      if (chunk === null) throw new UnexpectedEofError(have, n);
      chunks.push(chunk);
      have += chunk.byteLength;
    }
  } catch (err) {
    if (have > 0) reader.unread(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, have));
    throw err;
  }
  const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, have);
  if (have > n) reader.unread(all.subarray(n));
  return all.subarray(0, n);
}

/**
 * @internal `readLine` of every stream. A last line without a line ending is returned as
 * it is; an over-long line closes the stream and rejects with `FrameTooLargeError`.
 */
export async function readLine(reader: ByteReader, options?: ReadLineOptions): Promise<string | null> {
  const maxBytes = options?.maxBytes ?? DEFAULT_MAX_LINE_BYTES;
  checkCount(maxBytes, 'readLine maxBytes');
  const chunks: Buffer[] = [];
  let have = 0;
  for (;;) {
    let chunk: Uint8Array | null;
    try {
      chunk = await reader.read(options);
    } catch (err) {
      if (have > 0) reader.unread(Buffer.concat(chunks, have));
      throw err;
    }
    if (chunk === null) {
      if (have === 0) return null;
      return lineText(Buffer.concat(chunks, have), have);
    }
    const buf = asBuffer(chunk);
    const nl = buf.indexOf(10);
    if (nl < 0) {
      chunks.push(buf);
      have += buf.byteLength;
      // One byte of slack: the `\r` of a `\r\n` may be the last byte seen so far.
      if (have > maxBytes + 1) return tooLong(reader, have, maxBytes);
      continue;
    }
    if (nl + 1 < buf.byteLength) reader.unread(buf.subarray(nl + 1));
    const line = have === 0 ? buf.subarray(0, nl) : Buffer.concat([...chunks, buf.subarray(0, nl)], have + nl);
    const end = line.byteLength > 0 && line[line.byteLength - 1] === 13 ? line.byteLength - 1 : line.byteLength;
    if (end > maxBytes) return tooLong(reader, end, maxBytes);
    return lineText(line, end);
  }
}

function lineText(line: Buffer, end: number): string {
  return line.toString('utf8', 0, end);
}

async function tooLong(reader: ByteReader, bytes: number, maxBytes: number): Promise<never> {
  await reader.close();
  throw new FrameTooLargeError(bytes, maxBytes, 'line');
}
