/**
 * Multi-producer, single-consumer channels: `channel(capacity)` (bounded, with
 * backpressure) and `unboundedChannel()` (tokio's `sync::mpsc`).
 *
 * Implementation note. One `Chan` per channel holds a power-of-two {@link Ring} of
 * buffered messages and two {@link WaiterQueue}s: senders waiting for room (each waiter
 * carries its message) and receivers waiting for a message.
 *
 * ```
 *   senders ──send──►  [ ring: m3 m4 m5 . . . . . ]  ──recv──► receiver
 *      │ full?              ▲ head          ▲ tail            │ empty?
 *      ▼                    │                                 ▼
 *   sendQ: (w1,m6)(w2,m7) ──┘ on recv: head waiter's       recvQ: a waiting recv gets
 *                             message moves into the ring    the next message directly
 * ```
 *
 * Invariants: a waiting receiver implies an empty ring; a waiting sender implies a full
 * ring. Moving a message (ring → receiver, waiting sender → ring) and settling the waiter
 * happen in the same synchronous step, so an abort that fires afterwards cannot lose or
 * duplicate it. The fast paths allocate nothing (`send` returns a shared resolved promise).
 */
import { ChannelClosedError } from '../errors.js';
import { abortReason } from '../scheduler/time.js';
import { checkCount, RESOLVED } from './internal/check.js';
import { Ring } from './internal/ring.js';
import { DRAINED, NOT_READY, SELECT_SOURCE, type Selectable, type SelectSource } from './internal/selectable.js';
import { Waiter, WaiterQueue, type AnyWaiter } from './internal/waiter-queue.js';
import { resourceHook } from '../console/resource-hook.js';

/** Options for the waiting calls of a channel (`send`, `recv`). */
export interface ChannelWaitOptions {
  /** Stops waiting when this signal aborts. */
  readonly signal?: AbortSignal;
}

/**
 * What {@link Sender.trySend} did: `'sent'`, `'full'` (no room now; try later or `send`) or
 * `'closed'` (the receiver is gone or this sender was closed; the message will never be
 * delivered).
 */
export type TrySendResult = 'sent' | 'full' | 'closed';

/**
 * What {@link Receiver.tryRecv} found: a message, or why there is none: `'empty'` (none
 * buffered now) or `'closed'` (every sender closed and the buffer is drained, or the
 * receiver was closed and drained).
 */
export type TryRecvResult<T> =
  | {
      /** A message was taken. */
      readonly ok: true;
      /** The message, the oldest one buffered. */
      readonly value: T;
    }
  | {
      /** No message was taken. */
      readonly ok: false;
      /** `'empty'`: none buffered now; `'closed'`: none will ever come. */
      readonly reason: 'empty' | 'closed';
    };

const EMPTY_RESULT: TryRecvResult<never> = Object.freeze({ ok: false, reason: 'empty' });
const CLOSED_RESULT: TryRecvResult<never> = Object.freeze({ ok: false, reason: 'closed' });
const ITER_DONE: IteratorResult<never> = Object.freeze({ done: true, value: undefined });
/** Waiter mode: `recv()` (resolve with the message, reject when closed). */
const MODE_RECV = 0;
/** Waiter mode: async iteration (resolve with an iterator result, end when closed). */
const MODE_ITER = 1;

function deliver(w: AnyWaiter, value: unknown): void {
  if (w.n === MODE_ITER) w.resolve({ done: false, value });
  else w.resolve(value);
}

function deliverClosed(w: AnyWaiter): void {
  if (w.n === MODE_ITER) w.resolve(ITER_DONE);
  else w.reject(new ChannelClosedError());
}

/** @internal The shared state of one channel. */
export class Chan<T> implements SelectSource<T> {
  readonly ring: Ring<T>;
  readonly capacity: number;
  readonly sendQ = new WaiterQueue();
  readonly recvQ = new WaiterQueue();
  senders = 1;
  receiverClosed = false;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.ring = new Ring<T>(capacity === Infinity ? 16 : capacity);
    resourceHook?.(this);
  }

  /** True once no message can ever arrive again and none is buffered. */
  get drained(): boolean {
    return this.ring.length === 0 && (this.senders === 0 || this.receiverClosed) && this.sendQ.live === 0;
  }

  send(value: T, signal: AbortSignal | undefined): Promise<void> {
    if (this.receiverClosed) return Promise.reject(new ChannelClosedError('channel receiver closed'));
    if (signal !== undefined && signal.aborted) return Promise.reject(abortReason(signal));
    if (this.recvQ.live > 0) {
      deliver(this.recvQ.take()!, value);
      return RESOLVED;
    }
    if (this.ring.length < this.capacity && this.sendQ.live === 0) {
      this.ring.push(value);
      return RESOLVED;
    }
    return this.sendQ.wait(new Waiter<void>(0, value), signal);
  }

  trySend(value: T): TrySendResult {
    if (this.receiverClosed) return 'closed';
    if (this.recvQ.live > 0) {
      deliver(this.recvQ.take()!, value);
      return 'sent';
    }
    if (this.ring.length < this.capacity && this.sendQ.live === 0) {
      this.ring.push(value);
      return 'sent';
    }
    return 'full';
  }

  /** Takes the head message; moves the head waiting sender's message into the freed slot. */
  shift(): T {
    const value = this.ring.shift();
    if (this.sendQ.live > 0) {
      const w = this.sendQ.take()!;
      this.ring.push(w.payload as T);
      w.payload = undefined;
      w.resolve(undefined);
    }
    return value;
  }

  recv(signal: AbortSignal | undefined): Promise<T> {
    if (signal !== undefined && signal.aborted) return Promise.reject(abortReason(signal));
    if (this.ring.length > 0) return Promise.resolve(this.shift());
    if (this.drained) return Promise.reject(new ChannelClosedError());
    return this.recvQ.wait(new Waiter<T>(MODE_RECV, undefined), signal);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.ring.length > 0) return Promise.resolve({ done: false, value: this.shift() });
    if (this.drained) return Promise.resolve(ITER_DONE);
    return this.recvQ.wait(new Waiter<IteratorResult<T>>(MODE_ITER, undefined), undefined);
  }

  poll(): T | typeof NOT_READY | typeof DRAINED {
    if (this.ring.length > 0) return this.shift();
    return this.drained ? DRAINED : NOT_READY;
  }

  register(w: Waiter<T>): WaiterQueue {
    w.n = MODE_RECV;
    this.recvQ.push(w);
    return this.recvQ;
  }

  closeSender(): void {
    this.senders--;
    if (this.drained) for (let w = this.recvQ.take(); w !== undefined; w = this.recvQ.take()) deliverClosed(w);
  }

  closeReceiver(): void {
    if (this.receiverClosed) return;
    this.receiverClosed = true;
    this.sendQ.rejectAll(new ChannelClosedError('channel receiver closed'));
    if (this.drained) for (let w = this.recvQ.take(); w !== undefined; w = this.recvQ.take()) deliverClosed(w);
  }
}

/**
 * The sending half of a bounded {@link channel}. Clone it for more producers; close every
 * clone (or let `using` do it) so the receiver's loop can end.
 *
 * @example
 * ```ts
 * import { channel } from 'zokio/sync';
 * const [tx, rx] = channel<number>(8);
 * const tx2 = tx.clone();
 * await tx.send(1);
 * console.log(tx2.trySend(2)); // 'sent'
 * tx.close();
 * tx2.close();
 * for await (const n of rx) console.log(n);
 * ```
 */
export class Sender<T> implements Disposable {
  readonly #chan: Chan<T>;
  #closed = false;

  /** @internal Made by {@link channel}. */
  constructor(chan: Chan<T>) {
    this.#chan = chan;
  }

  /**
   * Sends `value`, waiting while the buffer is full. Rejects with `ChannelClosedError`
   * (`ZOKIO_ERR_CHANNEL_CLOSED`) if the receiver is or gets closed, or this sender was
   * closed.
   *
   * *Ordering*: messages from one sender arrive in the order they were sent; senders that
   * wait for room are admitted in the order they started waiting.
   *
   * *Cancellation*: when `signal` aborts while waiting for room, the message is withdrawn:
   * it will never be delivered, and the promise rejects with the signal's reason. Once the
   * promise has resolved the message is in the channel; an abort after that changes
   * nothing.
   */
  send(value: T, options?: ChannelWaitOptions): Promise<void> {
    if (this.#closed) return Promise.reject(new ChannelClosedError('sender closed'));
    return this.#chan.send(value, options?.signal);
  }

  /** Sends `value` only if there is room now; tells *full* from *closed*. Never waits. */
  trySend(value: T): TrySendResult {
    if (this.#closed) return 'closed';
    return this.#chan.trySend(value);
  }

  /** A new sender on the same channel; the channel stays open until every sender is closed. */
  clone(): Sender<T> {
    if (this.#closed) throw new ChannelClosedError('cannot clone a closed sender');
    this.#chan.senders++;
    return new Sender(this.#chan);
  }

  /**
   * Closes this sender. When the last sender closes, the receiver drains what is buffered
   * and then sees the end. Sends already waiting for room are still delivered. Calling it
   * again does nothing.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#chan.closeSender();
  }

  /** Whether this sender can no longer send (it was closed, or the receiver was). */
  get isClosed(): boolean {
    return this.#closed || this.#chan.receiverClosed;
  }

  /** Maximum number of buffered messages. */
  get capacity(): number {
    return this.#chan.capacity;
  }

  /** Number of messages buffered now. */
  get length(): number {
    return this.#chan.ring.length;
  }

  /** Same as {@link Sender.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * The sending half of an {@link unboundedChannel}: `send` never waits.
 *
 * @example
 * ```ts
 * import { unboundedChannel } from 'zokio/sync';
 * const [tx, rx] = unboundedChannel<string>();
 * tx.send('a');
 * tx.close();
 * console.log(await rx.recv()); // 'a'
 * ```
 */
export class UnboundedSender<T> implements Disposable {
  readonly #chan: Chan<T>;
  #closed = false;

  /** @internal Made by {@link unboundedChannel}. */
  constructor(chan: Chan<T>) {
    this.#chan = chan;
  }

  /** Sends `value` at once. Throws `ChannelClosedError` if the receiver or this sender is closed. */
  send(value: T): void {
    if (this.#closed || this.#chan.trySend(value) !== 'sent') throw new ChannelClosedError(this.#closed ? 'sender closed' : 'channel receiver closed');
  }

  /** Sends `value`, returning `'closed'` instead of throwing. */
  trySend(value: T): 'sent' | 'closed' {
    if (this.#closed) return 'closed';
    return this.#chan.trySend(value) === 'sent' ? 'sent' : 'closed';
  }

  /** A new sender on the same channel. */
  clone(): UnboundedSender<T> {
    if (this.#closed) throw new ChannelClosedError('cannot clone a closed sender');
    this.#chan.senders++;
    return new UnboundedSender(this.#chan);
  }

  /** Closes this sender; see {@link Sender.close}. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#chan.closeSender();
  }

  /** Whether this sender can no longer send. */
  get isClosed(): boolean {
    return this.#closed || this.#chan.receiverClosed;
  }

  /** Number of messages buffered now. */
  get length(): number {
    return this.#chan.ring.length;
  }

  /** Same as {@link UnboundedSender.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * The receiving half of a channel. Async iterable: the loop ends once every sender is
 * closed and the buffer is drained.
 *
 * @example
 * ```ts
 * import { channel } from 'zokio/sync';
 * const [tx, rx] = channel<string>(4);
 * void (async () => {
 *   await tx.send('hello');
 *   tx.close();
 * })();
 * for await (const msg of rx) console.log(msg);
 * ```
 */
export class Receiver<T> implements AsyncIterable<T>, Selectable<T>, Disposable {
  readonly #chan: Chan<T>;

  /** @internal Made by {@link channel}. */
  constructor(chan: Chan<T>) {
    this.#chan = chan;
  }

  /** @internal The hooks `select` uses. */
  get [SELECT_SOURCE](): SelectSource<T> {
    return this.#chan;
  }

  /**
   * Waits for the next message. Rejects with `ChannelClosedError`
   * (`ZOKIO_ERR_CHANNEL_CLOSED`) once every sender is closed (or this receiver was closed)
   * and the buffer is drained.
   *
   * *Ordering*: messages come out in the order they went in; per sender that is the
   * order of its `send` calls.
   *
   * *Cancellation*: when `signal` aborts, the wait rejects with the signal's reason and no
   * message is taken: the next message stays for the next `recv`. A message handed over
   * before the abort fired is in the resolved promise, not lost.
   */
  recv(options?: ChannelWaitOptions): Promise<T> {
    return this.#chan.recv(options?.signal);
  }

  /** Takes a message if one is buffered now; tells *empty* from *closed*. Never waits. */
  tryRecv(): TryRecvResult<T> {
    const chan = this.#chan;
    if (chan.ring.length > 0) return { ok: true, value: chan.shift() };
    return chan.drained ? CLOSED_RESULT : EMPTY_RESULT;
  }

  /**
   * Closes the channel from the receiving side: senders (waiting or future) reject with
   * `ChannelClosedError`; messages already buffered can still be received. Calling it
   * again does nothing.
   */
  close(): void {
    this.#chan.closeReceiver();
  }

  /** Whether no message can arrive any more and none is buffered. */
  get isClosed(): boolean {
    return this.#chan.drained;
  }

  /** Maximum number of buffered messages (`Infinity` for an unbounded channel). */
  get capacity(): number {
    return this.#chan.capacity;
  }

  /** Number of messages buffered now. */
  get length(): number {
    return this.#chan.ring.length;
  }

  /**
   * Iterates over messages until the channel is closed and drained. Breaking out of the
   * loop leaves the receiver open (call `close()` to stop the senders).
   *
   * *Cancellation*: an iteration step cannot be aborted; to stop on a signal, use
   * `recv({ signal })` in a loop or `select`.
   */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    const chan = this.#chan;
    return {
      next: () => chan.next(),
      return: () => Promise.resolve(ITER_DONE),
    };
  }

  /** Same as {@link Receiver.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Creates a bounded multi-producer, single-consumer channel holding at most `capacity`
 * messages; `send` waits while it is full (backpressure).
 *
 * Use it to pass work between tasks or pipeline stages with a memory bound. For one value
 * use {@link oneshot}; for every receiver to see every message use {@link broadcast}; for
 * "latest value only" use {@link watch}.
 *
 * Throws `ZOKIO_ERR_INVALID_ARGUMENT` unless `capacity` is an integer from 1 to 2^30.
 *
 * @example
 * ```ts
 * import { channel } from 'zokio/sync';
 * const [tx, rx] = channel<number>(64);
 * const producer = (async () => {
 *   for (let i = 0; i < 100; i++) await tx.send(i); // waits when 64 are buffered
 *   tx.close();
 * })();
 * let sum = 0;
 * for await (const n of rx) sum += n;
 * await producer;
 * ```
 *
 * *Cancellation*: every wait takes `{ signal }`; see {@link Sender.send} and
 * {@link Receiver.recv}. An aborted wait neither loses nor duplicates a message.
 */
export function channel<T>(capacity: number): [Sender<T>, Receiver<T>] {
  const chan = new Chan<T>(checkCount(capacity, 'capacity', 1));
  return [new Sender(chan), new Receiver(chan)];
}

/**
 * Creates an unbounded multi-producer, single-consumer channel: `send` never waits.
 *
 * Use it only when the producer is naturally bounded (events from a finite source);
 * otherwise prefer {@link channel}, whose backpressure keeps memory bounded.
 *
 * @example
 * ```ts
 * import { unboundedChannel } from 'zokio/sync';
 * const [tx, rx] = unboundedChannel<number>();
 * for (let i = 0; i < 3; i++) tx.send(i);
 * tx.close();
 * for await (const n of rx) console.log(n);
 * ```
 *
 * *Cancellation*: see {@link Receiver.recv}.
 */
export function unboundedChannel<T>(): [UnboundedSender<T>, Receiver<T>] {
  const chan = new Chan<T>(Infinity);
  return [new UnboundedSender(chan), new Receiver(chan)];
}
