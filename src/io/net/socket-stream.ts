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
 * `readExact(n)` and the async iterator wait as that pending read themselves: the chunk
 * that wakes them becomes their result in `'data'` (n bytes, the rest put back; an
 * iterator result), so a message costs one promise, not a read's plus a `then`'s.
 *
 * Writes resolve at once under the write high-water mark (with one shared resolved
 * promise) and otherwise wait for `drain`. A write that follows another with no chunk
 * received in between corks the socket until a `nextTick`, so a burst of small writes
 * leaves as one writev instead of a system call each (most of the cost of small frames);
 * the first write after a chunk (a reply) goes out at once and schedules nothing.
 */
import type { Duplex } from 'node:stream';
import { ClosedError, UnexpectedEofError, ZokioError } from '../../errors.js';
import { abortReason } from '../../scheduler/abort-reason.js';
import { ABORTED, currentTask, linkPark, resumeTask, unlinkPark, type TaskPark, type TaskRecord, readyFor, readyVoid, failedFor, taskWait, rejectIfAborted } from '../../scheduler/task.js';
import { abortedBeforeWait, settleWait, WaitAbort } from '../../scheduler/wait-abort.js';
import { asBuffer, DrainWait, endWritable, readExact, readLine, succeeded, type ByteStream, type IoOptions, type ReadLineOptions } from './byte-stream.js';

/** What a pending read resolves with: the chunk (`read`), `want` bytes (`readExact`), an iterator result. */
const CHUNK = 0;
const EXACT = 1;
const NEXT = 2;

/**
 * The one read waiting for data. `readExact` and the iterator wait here directly, so the
 * chunk that wakes them is turned into their result in `#onData` (no second promise and
 * microtask hop per message in a request/response exchange).
 *
 * A read made by a task with no signal is itself the task's park record (no `WaitAbort`
 * and no wrapped settle functions per read): the task's abort calls `cancelForTask`, and
 * `ok`/`fail` resume the task as the running task. With a signal, `resolve`/`reject` are
 * wrapped by a `WaitAbort` instead.
 */
class PendingRead implements TaskPark {
  parkTask: TaskRecord | undefined = undefined;
  parkPrev: TaskPark | undefined = undefined;
  parkNext: TaskPark | undefined = undefined;
  /** The task that made the read, when Zokio knew it (a short chunk's rest is read as that task). */
  task: TaskRecord | undefined = undefined;

  constructor(
    public resolve: (value: unknown) => void,
    public reject: (err: unknown) => void,
    readonly kind: typeof CHUNK | typeof EXACT | typeof NEXT,
    /** `readExact`'s byte count. */
    readonly want: number,
    readonly options: IoOptions | undefined,
    /** The stream's: drops this read if it is still the pending one, then rejects it. */
    readonly cancel: (read: PendingRead, reason: unknown) => void,
  ) {}

  cancelForTask(reason: unknown): void {
    this.cancel(this, reason);
  }

  ok(value: unknown): void {
    if (this.parkTask === undefined) this.resolve(value);
    else {
      unlinkPark(this);
      resumeTask(this.task!, this.resolve, value, true);
    }
  }

  fail(err: unknown): void {
    if (this.parkTask === undefined) this.reject(err);
    else {
      unlinkPark(this);
      resumeTask(this.task!, this.reject, err);
    }
  }
}

/** @internal `IoOptions` carrying the task a read belongs to, for the reads made on its behalf. */
type TaskIoOptions = IoOptions & { readonly [READ_TASK]?: TaskRecord };
const READ_TASK = Symbol('zokio.readTask');

/** What `write` returns when the bytes went under the high-water mark (one promise, shared). */
const WRITTEN: Promise<void> = Promise.resolve();
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

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
  /** True once a write came since the last chunk received or the last uncork. */
  #wrote = false;
  /** True while writes are corked, to be sent together in a nextTick. */
  #corked = false;
  /** The wait for `drain` that blocked writes share (made at the first one). */
  #drain: DrainWait | undefined;
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
    this.#wrote = false;
    const pending = this.#pending;
    if (pending !== undefined) {
      this.#settle();
      if (pending.kind === CHUNK) pending.ok(chunk);
      else if (pending.kind === NEXT) pending.ok({ done: false, value: chunk });
      else {
        const want = pending.want;
        const size = chunk.byteLength;
        if (size > want) this.unread(chunk.subarray(want));
        else if (size < want) {
          // A short chunk: queue it and let the general loop gather the rest.
          this.unread(chunk);
          const options: TaskIoOptions | undefined = pending.task === undefined ? pending.options : { ...pending.options, [READ_TASK]: pending.task };
          // Settled through `ok`/`fail` (not by resolving with the helper's promise, which
          // the await would adopt without `resumeTask`), so the task stays known after it.
          readExact(this, want, options).then(
            (bytes) => pending.ok(bytes),
            (err: unknown) => pending.fail(err),
          );
          return;
        }
        pending.ok(size === want ? chunk : chunk.subarray(0, want));
      }
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
    this.#resolveEnd(pending);
  };

  #resolveEnd(pending: PendingRead): void {
    if (pending.kind === CHUNK) pending.ok(null);
    else if (pending.kind === NEXT) pending.ok(DONE);
    else pending.fail(new UnexpectedEofError(0, pending.want));
  }

  readonly #onError = (err: Error): void => {
    this.#error ??= err;
    const pending = this.#pending;
    if (pending === undefined) return;
    this.#settle();
    pending.fail(err);
  };

  readonly #onClose = (): void => {
    this.#closed = true;
    const pending = this.#pending;
    if (pending === undefined) return;
    this.#settle();
    if (this.#error !== undefined) pending.fail(this.#error);
    else if (this.#ended) this.#resolveEnd(pending);
    else pending.fail(new ClosedError(`${this.#what} is closed`));
  };

  #settle(): void {
    this.#pending = undefined;
  }

  /** True when a read would wait for the next chunk: nothing queued, nothing ended, no read pending. */
  #mustWait(options: IoOptions | undefined): boolean {
    return this.#queue.length === 0 && this.#error === undefined && !this.#ended && !this.closed && this.#pending === undefined && options?.signal?.aborted !== true;
  }

  /**
   * Waits for the next chunk (the caller checked {@link #mustWait}). The wait is the
   * pending read; the caller's signal or its task's abort ends it (see {@link PendingRead}).
   */
  #wait<T>(kind: PendingRead['kind'], want: number, options: IoOptions | undefined): Promise<T> {
    // The task the read belongs to: the one a short chunk's rest is read for, else the running one.
    const owner = (options as TaskIoOptions | undefined)?.[READ_TASK] ?? currentTask();
    if (owner !== undefined && owner.state === ABORTED) return Promise.reject(owner.value);
    return new Promise<T>((resolve, reject) => {
      const pending = new PendingRead(resolve as (value: unknown) => void, reject, kind, want, options, this.#cancelRead);
      const signal = options?.signal;
      if (signal === undefined) {
        if (owner !== undefined) {
          pending.task = owner;
          linkPark(owner, pending);
        }
      } else {
        const abort = WaitAbort.start(signal, (reason) => this.#cancelRead(pending, reason), owner)!;
        pending.task = owner;
        pending.resolve = (value) => abort.settle(resolve as (value: unknown) => void, value);
        pending.reject = (err) => abort.settle(reject, err);
      }
      this.#pending = pending;
    });
  }

  readonly #cancelRead = (read: PendingRead, reason: unknown): void => {
    if (this.#pending !== read) return;
    this.#pending = undefined;
    if (read.parkTask !== undefined) unlinkPark(read);
    read.reject(reason);
  };

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
   * *Cancellation*: aborting `signal` (or the task the call is made in) rejects with its
   * reason; no data is lost, the next read returns it.
   * @throws the stream's error (e.g. `ECONNRESET`), or `ClosedError` after `close()`.
   */
  read(options?: IoOptions): Promise<Uint8Array | null> {
    const abortedTask = rejectIfAborted();
    if (abortedTask !== undefined) return abortedTask;
    if (this.#queue.length > 0) return readyFor(this.#takeQueued());
    if (this.#error !== undefined) return failedFor(this.#error);
    if (this.#ended) return readyFor(null);
    if (this.closed) return failedFor(new ClosedError(`${this.#what} is closed`));
    if (this.#pending !== undefined) return Promise.reject(new ZokioError('ZOKIO_ERR_INVALID_ARGUMENT', `${this.#what}: a read is already in progress`));
    const signal = options?.signal;
    if (signal?.aborted) return failedFor(abortReason(signal));
    return this.#wait(CHUNK, 0, options);
  }

  /** Takes the oldest queued chunk (the caller checked there is one), reading again under the mark. */
  #takeQueued(): Uint8Array {
    const chunk = this.#queue.shift()!;
    this.#queued -= chunk.byteLength;
    this.#resumeUnderMark();
    return chunk;
  }

  #resumeUnderMark(): void {
    if (this.#paused && this.#queued < this.#hwm) {
      this.#paused = false;
      this.#socket.resume();
    }
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
   * *Cancellation*: aborting `signal` (or the task the call is made in) puts back the bytes
   * read so far: the stream is where it was before the call.
   * @throws UnexpectedEofError when the stream ends first (the bytes that came are put back).
   */
  readExact(n: number, options?: IoOptions): Promise<Uint8Array> {
    const abortedTask = rejectIfAborted();
    if (abortedTask !== undefined) return abortedTask;
    if (!Number.isSafeInteger(n) || n <= 0) return taskWait(readExact(this, n, options));
    // Fast paths: the n bytes are at the head of the queue, or the next chunk brings them
    // (a request/response exchange); `#onData` slices that chunk for us.
    const head = this.#queue[0];
    if (head !== undefined && head.byteLength >= n && options?.signal?.aborted !== true) {
      const whole = head.byteLength === n;
      if (whole) this.#queue.shift();
      else this.#queue[0] = head.subarray(n);
      this.#queued -= n;
      this.#resumeUnderMark();
      return readyFor(whole ? head : head.subarray(0, n));
    }
    if (this.#mustWait(options)) return this.#wait(EXACT, n, options);
    return taskWait(readExact(this, n, options));
  }

  /**
   * Reads one line (without `\n` or `\r\n`), UTF-8; `null` at end of stream. A last line
   * without a line ending is returned as it is.
   *
   * *Cancellation*: aborting `signal` (or the task the call is made in) puts back the bytes
   * of the unfinished line.
   * @throws FrameTooLargeError for a line over `maxBytes` (default 64 KiB); the stream is closed.
   */
  readLine(options?: ReadLineOptions): Promise<string | null> {
    return taskWait(readLine(this, options));
  }

  /**
   * Writes `data`; resolves once it is buffered under the high-water mark, waiting for
   * `drain` when the peer reads slowly. Writes in a burst (a loop of `send`s, the echoes
   * of frames that came in one chunk) leave together at the end of the tick, in one system
   * call; a reply to a chunk just received goes out at once.
   *
   * *Cancellation*: aborting `signal` (or the task the call is made in) stops the wait for
   * `drain`; the bytes stay queued.
   * @throws the stream's error, or `ClosedError` after `close()` / `end()`.
   */
  write(data: Uint8Array | string, options?: IoOptions): Promise<void> {
    const abortedTask = rejectIfAborted();
    if (abortedTask !== undefined) return abortedTask;
    const socket = this.#socket;
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (socket.destroyed || socket.writableEnded) return Promise.reject(new ClosedError(`${this.#what} is closed for writing`));
    // Coalescing: a write that follows another one with no chunk received in between (a loop
    // of sends, the echoes of one chunk's frames) corks the socket, and the writes leave
    // together, as one writev, in a nextTick, once the tick's microtasks are done. The first
    // write after a chunk (a request/response exchange) goes straight out and costs nothing.
    if (!this.#wrote) this.#wrote = true;
    else if (!this.#corked) {
      this.#corked = true;
      socket.cork();
      process.nextTick(this.#uncork);
    }
    if (socket.write(data)) return readyVoid(WRITTEN);
    const signal = options?.signal;
    const aborted = abortedBeforeWait(signal);
    if (aborted !== undefined) return failedFor(aborted.reason);
    this.#drain ??= new DrainWait(socket, { drain: succeeded, close: () => this.#error ?? new ClosedError(`${this.#what} closed while writing`) });
    return this.#drain.wait(signal);
  }

  /** Sends the corked writes (in the nextTick after the first, and before `close`). */
  readonly #uncork = (): void => {
    this.#wrote = false;
    if (!this.#corked) return;
    this.#corked = false;
    this.#socket.uncork();
  };

  /**
   * Ends this side after the buffered bytes are sent (half-close); reading stays possible.
   *
   * *Cancellation*: aborting `signal`, or the running task, stops the wait for the flush
   * (the end stays queued: its bytes and the FIN leave once the peer reads); an abort
   * before the call ends nothing.
   */
  end(options?: IoOptions): Promise<void> {
    return endWritable(this.#socket, options);
  }

  /**
   * Closes the stream: flushes what was written (unless the peer is not reading), then
   * releases it. A pending read rejects with `ClosedError`. Calling it again does nothing.
   *
   * *Cancellation*: not cancellable; resolves once the stream is closed.
   */
  close(): Promise<void> {
    const socket = this.#socket;
    if (socket.destroyed) return readyFor(undefined);
    this.#uncork();
    return taskWait(
      new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        if (socket.writableEnded || !socket.writable || socket.writableLength > 0) socket.destroy();
        else socket.end(() => socket.destroy());
      }),
    );
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
    // A plain iterator: one promise per chunk, no generator frames; a chunk that has not
    // come yet resolves the iterator result straight from `#onData`.
    return {
      next: (): Promise<IteratorResult<Uint8Array>> => {
        const abortedTask = rejectIfAborted();
        if (abortedTask !== undefined) return abortedTask;
        if (this.#mustWait(undefined)) return this.#wait(NEXT, 0, undefined);
        // A chunk received already (a burst): handed over as `read` would, without its promise.
        if (this.#queue.length > 0) return readyFor({ done: false, value: this.#takeQueued() });
        if (this.#ended && this.#error === undefined) return readyFor(DONE);
        return taskWait(this.read().then((chunk) => (chunk === null ? DONE : { done: false, value: chunk })));
      },
      return: () => readyFor(DONE),
    };
  }
}
