/**
 * `SharedChannel`: a bounded multi-producer, multi-consumer channel in a
 * SharedArrayBuffer, usable from the main thread and every worker at once.
 *
 * Implementation note. One SharedArrayBuffer holds a 32-byte header and a byte ring whose
 * size is a power of two. Each message is framed as a 4-byte little-endian length followed
 * by its bytes; both may wrap around the end of the ring.
 *
 * ```
 *   header (Int32 words)                      data ring (capacity bytes)
 *   [0] LOCK      internal lock (0/1/2)       ┌──────────────────────────────────────┐
 *   [1] HEAD      read offset in the ring     │ ..|len|bytes...|len|bytes|......     │
 *   [2] USED      bytes in use                │     ▲ HEAD                ▲ HEAD+USED│
 *   [3] COUNT     messages in the ring        └──────────────────────────────────────┘
 *   [4] CLOSED    1 once closed
 *   [5] DATA_SEQ  bumped after each send   (receivers wait on it)
 *   [6] SPACE_SEQ bumped after each receive (senders wait on it)
 * ```
 *
 * The internal lock is held only to update the header and copy one message. Waiting for
 * data or room uses `Atomics.waitAsync` on the sequence words (never blocking the event
 * loop), or `Atomics.wait` in the `*Sync` forms, which only workers may use.
 * Values are encoded with `v8.serialize` (structured clone) in `'clone'` mode, or passed as
 * raw bytes in `'bytes'` mode.
 */
import { deserialize, serialize } from 'node:v8';
import { ChannelClosedError, ZokioError } from '../../errors.js';
import type { TryRecvResult, TrySendResult } from '../channel.js';
import { checkCount } from '../internal/check.js';
import { lockWord, unlockWord, waitWord, waitWordSync } from './atomics-wait.js';
import { SHARED_KIND_FIELD } from './shared-kind.js';

const LOCK = 0;
const HEAD = 1;
const USED = 2;
const COUNT = 3;
const CLOSED = 4;
const DATA_SEQ = 5;
const SPACE_SEQ = 6;
const HEADER_BYTES = 32;
const KIND = 'SharedChannel';

/** How a {@link SharedChannel} encodes messages. */
export type SharedChannelMode = 'clone' | 'bytes';

/** Options for {@link SharedChannel}'s constructor. */
export interface SharedChannelOptions {
  /**
   * Size of the byte ring: a power of two from 64 to 2^30. A message takes 4 bytes plus
   * its encoded size and must fit.
   * @default 65536
   */
  readonly capacityBytes?: number;
  /**
   * `'clone'`: any structured-clone value (encoded with `v8.serialize`); `'bytes'`: messages
   * are `Uint8Array`s, copied as they are.
   * @default 'clone'
   */
  readonly mode?: SharedChannelMode;
}

/** Options for the waiting calls of a {@link SharedChannel}. */
export interface SharedChannelWaitOptions {
  /** Stops waiting when this signal aborts. */
  readonly signal?: AbortSignal;
}

/** The cloneable form of a {@link SharedChannel}. */
export interface SharedChannelHandle {
  /** Marks the clone as a shared SharedChannel so the worker side rebuilds it over the same memory. */
  readonly [SHARED_KIND_FIELD]: 'SharedChannel';
  /** The shared memory: header and byte ring; cloning keeps it shared. */
  readonly buffer: SharedArrayBuffer;
  /** How messages are encoded (`'clone'` or `'bytes'`), as the channel was created. */
  readonly mode: SharedChannelMode;
}

const EMPTY: TryRecvResult<never> = Object.freeze({ ok: false, reason: 'empty' });
const CLOSED_RESULT: TryRecvResult<never> = Object.freeze({ ok: false, reason: 'closed' });

/**
 * A bounded channel shared by threads: pass it to worker tasks (or through `workerData` /
 * `postMessage`); every copy sends into and receives from the same ring. Any thread may
 * send, receive, or close it.
 *
 * Use it to stream work or results between threads without the main thread relaying
 * every message. Within one thread, {@link channel} is much cheaper.
 *
 * @example
 * ```ts
 * import { SharedChannel } from 'zokio/sync';
 * const ch = new SharedChannel<{ id: number }>({ capacityBytes: 4096 });
 * await ch.send({ id: 1 });            // main thread: waits asynchronously when full
 * console.log(await ch.recv());        // { id: 1 }
 * ch.close();
 * // in a worker: const same = SharedChannel.from<{ id: number }>(handle); same.recvSync();
 * ```
 *
 * *Ordering*: FIFO for the channel as a whole; per sender, messages arrive in send order.
 * Waiting senders or receivers on different threads are not served in FIFO order.
 *
 * *Cancellation*: `send`/`recv` with `{ signal }` stop waiting when the signal aborts: an
 * aborted `send` has not written its message (a message is written whole under the lock,
 * after which `send` returns) and an aborted `recv` has taken none. `*Sync` waits cannot be
 * aborted.
 *
 * *Lifetime*: while an async wait is pending it keeps its thread's event loop alive, as a
 * pending socket read does (another thread may still wake it); abort it to let the thread end.
 */
export class SharedChannel<T = unknown> implements AsyncIterable<T> {
  /** Marks this object as shared memory for worker-task arguments. */
  readonly [SHARED_KIND_FIELD] = KIND;
  /** The shared memory: header and byte ring. */
  readonly buffer: SharedArrayBuffer;
  /** How messages are encoded. */
  readonly mode: SharedChannelMode;
  readonly #i32: Int32Array;
  readonly #data: Uint8Array;
  readonly #mask: number;

  /**
   * Creates a channel; throws `ZOKIO_ERR_INVALID_ARGUMENT` if `capacityBytes` is not a
   * power of two from 64 to 2^30.
   */
  constructor(options?: SharedChannelOptions);
  /** @internal Over existing memory; use {@link SharedChannel.from}. */
  constructor(options: SharedChannelOptions | undefined, buffer: SharedArrayBuffer);
  constructor(options?: SharedChannelOptions, buffer?: SharedArrayBuffer) {
    const mode = options?.mode ?? 'clone';
    if (mode !== 'clone' && mode !== 'bytes') throw new ZokioError('ZOKIO_ERR_INVALID_ARGUMENT', `mode must be 'clone' or 'bytes' (received ${String(mode)})`);
    if (buffer === undefined) {
      const capacity = checkCount(options?.capacityBytes ?? 65536, 'capacityBytes', 64);
      if ((capacity & (capacity - 1)) !== 0) throw new ZokioError('ZOKIO_ERR_INVALID_ARGUMENT', `capacityBytes must be a power of two (received ${capacity})`);
      buffer = new SharedArrayBuffer(HEADER_BYTES + capacity);
    }
    this.buffer = buffer;
    this.mode = mode;
    this.#i32 = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.#data = new Uint8Array(buffer, HEADER_BYTES);
    this.#mask = this.#data.length - 1;
  }

  /** Rebuilds a channel over the memory of `handle` (a structured-clone copy). */
  static from<T = unknown>(handle: SharedChannelHandle | { readonly buffer: SharedArrayBuffer; readonly mode: SharedChannelMode }): SharedChannel<T> {
    const size = handle.buffer instanceof SharedArrayBuffer ? handle.buffer.byteLength - HEADER_BYTES : -1;
    if (size < 64 || (size & (size - 1)) !== 0) throw new ZokioError('ZOKIO_ERR_INVALID_ARGUMENT', 'SharedChannel.from needs the handle of a SharedChannel');
    return new SharedChannel<T>({ mode: handle.mode }, handle.buffer);
  }

  /** Size of the byte ring. */
  get capacityBytes(): number {
    return this.#data.length;
  }

  /** Messages buffered now (a snapshot). */
  get length(): number {
    return Atomics.load(this.#i32, COUNT);
  }

  /** Whether the channel was closed (by any thread). */
  get closed(): boolean {
    return Atomics.load(this.#i32, CLOSED) === 1;
  }

  #encode(value: T): Uint8Array {
    let bytes: Uint8Array;
    if (this.mode === 'bytes') {
      if (!(value instanceof Uint8Array)) throw new ZokioError('ZOKIO_ERR_INVALID_ARGUMENT', "a 'bytes' SharedChannel sends Uint8Array messages");
      bytes = value;
    } else {
      bytes = serialize(value);
    }
    if (bytes.length + 4 > this.#data.length) {
      throw new ZokioError('ZOKIO_ERR_INVALID_ARGUMENT', `message of ${bytes.length} bytes does not fit a SharedChannel of ${this.#data.length} bytes`);
    }
    return bytes;
  }

  #decode(bytes: Uint8Array): T {
    return (this.mode === 'bytes' ? bytes : deserialize(bytes)) as T;
  }

  #copyIn(at: number, bytes: Uint8Array): void {
    const data = this.#data;
    const first = Math.min(bytes.length, data.length - at);
    data.set(bytes.subarray(0, first), at);
    if (first < bytes.length) data.set(bytes.subarray(first), 0);
  }

  #copyOut(at: number, length: number): Uint8Array {
    const data = this.#data;
    const out = new Uint8Array(length);
    const first = Math.min(length, data.length - at);
    out.set(data.subarray(at, at + first), 0);
    if (first < length) out.set(data.subarray(0, length - first), first);
    return out;
  }

  /** Writes an encoded message if it fits; the caller bumps DATA_SEQ on 'sent'. */
  #write(bytes: Uint8Array): TrySendResult {
    const i32 = this.#i32;
    const need = bytes.length + 4;
    lockWord(i32, LOCK);
    try {
      if (Atomics.load(i32, CLOSED) === 1) return 'closed';
      const used = Atomics.load(i32, USED);
      if (this.#data.length - used < need) return 'full';
      const tail = (Atomics.load(i32, HEAD) + used) & this.#mask;
      const len = new Uint8Array(4);
      new DataView(len.buffer).setUint32(0, bytes.length, true);
      this.#copyIn(tail, len);
      this.#copyIn((tail + 4) & this.#mask, bytes);
      Atomics.store(i32, USED, used + need);
      Atomics.add(i32, COUNT, 1);
    } finally {
      unlockWord(i32, LOCK);
    }
    Atomics.add(i32, DATA_SEQ, 1);
    Atomics.notify(i32, DATA_SEQ);
    return 'sent';
  }

  /** Reads one message if any; `undefined` when none is buffered. */
  #read(): Uint8Array | undefined {
    const i32 = this.#i32;
    let bytes: Uint8Array;
    lockWord(i32, LOCK);
    try {
      if (Atomics.load(i32, COUNT) === 0) return undefined;
      const head = Atomics.load(i32, HEAD);
      const lenBytes = this.#copyOut(head, 4);
      const length = new DataView(lenBytes.buffer).getUint32(0, true);
      bytes = this.#copyOut((head + 4) & this.#mask, length);
      Atomics.store(i32, HEAD, (head + 4 + length) & this.#mask);
      Atomics.sub(i32, USED, 4 + length);
      Atomics.sub(i32, COUNT, 1);
    } finally {
      unlockWord(i32, LOCK);
    }
    Atomics.add(i32, SPACE_SEQ, 1);
    Atomics.notify(i32, SPACE_SEQ);
    return bytes;
  }

  /** Sends `value` if there is room now; tells *full* from *closed*. Never waits. */
  trySend(value: T): TrySendResult {
    return this.#write(this.#encode(value));
  }

  /**
   * Sends `value`, waiting (without blocking the thread) while the ring is full. Rejects
   * with `ChannelClosedError` once the channel is closed.
   *
   * *Cancellation*: see the class comment; an aborted send wrote nothing.
   */
  async send(value: T, options?: SharedChannelWaitOptions): Promise<void> {
    const bytes = this.#encode(value);
    const i32 = this.#i32;
    for (;;) {
      const seq = Atomics.load(i32, SPACE_SEQ);
      const result = this.#write(bytes);
      if (result === 'sent') return;
      if (result === 'closed') throw new ChannelClosedError('shared channel closed');
      await waitWord(i32, SPACE_SEQ, seq, options?.signal);
    }
  }

  /** Blocks this worker thread while the ring is full, then sends. Throws on the main thread. */
  sendSync(value: T): void {
    const bytes = this.#encode(value);
    const i32 = this.#i32;
    for (;;) {
      const seq = Atomics.load(i32, SPACE_SEQ);
      const result = this.#write(bytes);
      if (result === 'sent') return;
      if (result === 'closed') throw new ChannelClosedError('shared channel closed');
      waitWordSync(i32, SPACE_SEQ, seq, 'SharedChannel.sendSync');
    }
  }

  /** Takes a message if one is buffered now; tells *empty* from *closed*. Never waits. */
  tryRecv(): TryRecvResult<T> {
    const bytes = this.#read();
    if (bytes !== undefined) return { ok: true, value: this.#decode(bytes) };
    return Atomics.load(this.#i32, CLOSED) === 1 ? CLOSED_RESULT : EMPTY;
  }

  /**
   * Waits (without blocking the thread) for the next message. Rejects with
   * `ChannelClosedError` once the channel is closed and drained.
   *
   * *Cancellation*: see the class comment; an aborted recv took nothing.
   */
  async recv(options?: SharedChannelWaitOptions): Promise<T> {
    const i32 = this.#i32;
    for (;;) {
      const seq = Atomics.load(i32, DATA_SEQ);
      const bytes = this.#read();
      if (bytes !== undefined) return this.#decode(bytes);
      if (Atomics.load(i32, CLOSED) === 1) throw new ChannelClosedError('shared channel closed');
      await waitWord(i32, DATA_SEQ, seq, options?.signal);
    }
  }

  /** Blocks this worker thread until a message arrives. Throws on the main thread. */
  recvSync(): T {
    const i32 = this.#i32;
    for (;;) {
      const seq = Atomics.load(i32, DATA_SEQ);
      const bytes = this.#read();
      if (bytes !== undefined) return this.#decode(bytes);
      if (Atomics.load(i32, CLOSED) === 1) throw new ChannelClosedError('shared channel closed');
      waitWordSync(i32, DATA_SEQ, seq, 'SharedChannel.recvSync');
    }
  }

  /**
   * Closes the channel for every thread: sends fail with `ChannelClosedError`; receivers
   * drain what is buffered, then see the end.
   */
  close(): void {
    const i32 = this.#i32;
    Atomics.store(i32, CLOSED, 1);
    Atomics.add(i32, DATA_SEQ, 1);
    Atomics.add(i32, SPACE_SEQ, 1);
    Atomics.notify(i32, DATA_SEQ);
    Atomics.notify(i32, SPACE_SEQ);
  }

  /**
   * Receives until the channel is closed and drained.
   *
   * *Cancellation*: an iteration step cannot be aborted; use `recv({ signal })`.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      let value: T;
      try {
        value = await this.recv();
      } catch (err) {
        if (err instanceof ChannelClosedError) return;
        throw err;
      }
      yield value;
    }
  }
}
