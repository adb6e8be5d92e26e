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
 * A reservation (`reserve`, `reserveMany`) holds slots without a message yet: it counts
 * against the capacity (`ring.length + reserved <= capacity`) and waits in the same FIFO
 * as senders, so a sender and a reservation are admitted in arrival order.
 *
 * Invariants: a waiting receiver implies an empty ring; a waiting sender or reservation
 * implies the free slots are too few for the head of `sendQ`. Moving a message (ring →
 * receiver, waiting sender → ring), granting slots to a reservation and settling the
 * waiter happen in the same synchronous step, so an abort that fires afterwards cannot
 * lose or duplicate anything. The fast paths allocate nothing (`send` returns a shared
 * resolved promise).
 */
import { ChannelClosedError, ClosedError, ZokioError } from '../errors.js';
import { abortReason } from '../scheduler/abort-reason.js';
import { checkCount, RESOLVED } from './internal/check.js';
import { Ring } from './internal/ring.js';
import { DRAINED, NOT_READY, SELECT_SOURCE, type Selectable, type SelectSource } from './internal/selectable.js';
import { Waiter, WaiterQueue, type AnyWaiter } from './internal/waiter-queue.js';
import { resourceHook } from '../console/resource-hook.js';
import { readyFor, readyVoid, failedFor, rejectIfAborted } from '../scheduler/task.js';

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
/** Payload of a `sendQ` waiter that reserves `n` slots instead of carrying a message. */
const RESERVE: unique symbol = Symbol('reserve');

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
  /** Slots held by reservations that have not sent yet. */
  reserved = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.ring = new Ring<T>(capacity === Infinity ? 16 : capacity);
    resourceHook?.(this);
  }

  /** True once no message can ever arrive again and none is buffered. */
  get drained(): boolean {
    return this.ring.length === 0 && ((this.senders === 0 && this.reserved === 0) || this.receiverClosed) && this.sendQ.live === 0;
  }

  /** Slots neither buffered nor reserved. */
  get free(): number {
    return this.capacity - this.ring.length - this.reserved;
  }

  send(value: T, signal: AbortSignal | undefined): Promise<void> {
    const aborted = rejectIfAborted();
    if (aborted !== undefined) return aborted;
    if (this.receiverClosed) return failedFor(new ChannelClosedError('channel receiver closed'));
    if (signal !== undefined && signal.aborted) return failedFor(abortReason(signal));
    if (this.recvQ.live > 0) {
      deliver(this.recvQ.take()!, value);
      return readyVoid(RESOLVED);
    }
    if (this.ring.length + this.reserved < this.capacity && this.sendQ.live === 0) {
      this.ring.push(value);
      return readyVoid(RESOLVED);
    }
    return this.sendQ.wait(new Waiter<void>(1, value), signal);
  }

  /** Resolves with a permit once `n` slots are reserved for the caller, in FIFO order with senders. */
  reserve(n: number, signal: AbortSignal | undefined): Promise<SendPermit<T>> {
    const aborted = rejectIfAborted();
    if (aborted !== undefined) return aborted;
    if (this.receiverClosed) return failedFor(new ChannelClosedError('channel receiver closed'));
    if (signal !== undefined && signal.aborted) return failedFor(abortReason(signal));
    if (this.sendQ.live === 0 && this.free >= n) {
      this.reserved += n;
      return readyFor(new SendPermit(this, n));
    }
    return this.sendQ.wait(new Waiter<SendPermit<T>>(n, RESERVE), signal, n > 1 ? this.#admitAfterCancel : undefined);
  }

  /** Reserves `n` slots if they are free now and nobody waits ahead. */
  tryReserve(n: number): TrySendResult {
    if (this.receiverClosed) return 'closed';
    if (this.sendQ.live === 0 && this.free >= n) {
      this.reserved += n;
      return 'sent';
    }
    return 'full';
  }

  /** A reservation sends one message into its slot. */
  sendReserved(value: T): void {
    this.reserved--;
    if (this.receiverClosed) {
      this.#afterRelease();
      throw new ChannelClosedError('channel receiver closed');
    }
    if (this.recvQ.live > 0) {
      deliver(this.recvQ.take()!, value);
      if (this.sendQ.live > 0) this.admit(); // the slot was handed on, not filled
    } else this.ring.push(value);
  }

  /** A reservation gives back `n` unused slots. */
  releaseReserved(n: number): void {
    this.reserved -= n;
    this.#afterRelease();
  }

  #afterRelease(): void {
    if (this.sendQ.live > 0) this.admit();
    if (this.drained) for (let w = this.recvQ.take(); w !== undefined; w = this.recvQ.take()) deliverClosed(w);
  }

  /**
   * Admits `sendQ` waiters from the head while the head fits in the free slots: a sender's
   * message moves into the ring, a reservation gets its slots. Stops at the first head
   * that does not fit (FIFO: nobody passes it).
   */
  admit(): void {
    const queue = this.sendQ;
    const ring = queue.ring;
    while (ring.length > 0) {
      const w = ring.peek();
      if (!w.pending) {
        ring.shift();
        continue;
      }
      if (w.n > this.free) break;
      ring.shift();
      queue.settle(w);
      if (w.payload === RESERVE) {
        // A reservation is resolved with its permit: no `then` on the caller's promise.
        this.reserved += w.n;
        w.payload = undefined;
        w.resolve(new SendPermit(this, w.n));
        continue;
      }
      if (this.recvQ.live > 0) deliver(this.recvQ.take()!, w.payload); // after a release: a receiver may wait
      else this.ring.push(w.payload as T);
      w.payload = undefined;
      w.resolve(undefined);
    }
  }

  // A cancelled multi-slot reservation at the head may have been blocking waiters that fit.
  readonly #admitAfterCancel = (): void => {
    if (this.sendQ.live > 0) this.admit();
  };

  trySend(value: T): TrySendResult {
    if (this.receiverClosed) return 'closed';
    if (this.recvQ.live > 0) {
      deliver(this.recvQ.take()!, value);
      return 'sent';
    }
    if (this.ring.length + this.reserved < this.capacity && this.sendQ.live === 0) {
      this.ring.push(value);
      return 'sent';
    }
    return 'full';
  }

  /** Takes the head message; admits the head waiting sender (or reservation) into the freed slot. */
  shift(): T {
    const value = this.ring.shift();
    if (this.sendQ.live > 0) this.admit();
    return value;
  }

  recv(signal: AbortSignal | undefined): Promise<T> {
    const aborted = rejectIfAborted();
    if (aborted !== undefined) return aborted;
    if (signal !== undefined && signal.aborted) return failedFor(abortReason(signal));
    if (this.ring.length > 0) return readyFor(this.shift());
    if (this.drained) return failedFor(new ChannelClosedError());
    return this.recvQ.wait(new Waiter<T>(MODE_RECV, undefined), signal);
  }

  next(): Promise<IteratorResult<T>> {
    const aborted = rejectIfAborted();
    if (aborted !== undefined) return aborted;
    if (this.ring.length > 0) return readyFor({ done: false, value: this.shift() });
    if (this.drained) return readyFor(ITER_DONE);
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

function checkReserve(n: number, capacity: number): void {
  checkCount(n, 'n', 1);
  if (n > capacity) throw new ZokioError('ZOKIO_ERR_INVALID_ARGUMENT', `n must not exceed the channel's capacity ${capacity} (received ${n})`);
}

/**
 * Slots reserved in a bounded {@link channel} by {@link Sender.reserve} or
 * {@link Sender.reserveMany}: each `send` puts one message into a held slot, at once.
 * Slots not used are given back by `release()` (or `using`).
 *
 * @example
 * ```ts
 * import { channel } from 'zokio/sync';
 * const [tx, rx] = channel<string>(1);
 * {
 *   using permit = await tx.reserve(); // waits for room
 *   permit.send('computed only once there is room');
 * }
 * console.log(await rx.recv());
 * ```
 */
export class SendPermit<T> implements Disposable {
  static {
    // Not a thenable, and it says so on its own prototype: resolving a promise with a permit
    // looks up `then`, and the lookup stops here instead of walking on to Object.prototype
    // (the semaphore's permit does the same; see there).
    Object.defineProperty(this.prototype, 'then', { value: undefined, writable: true });
  }

  #chan: Chan<T> | undefined;
  #left: number;

  /** @internal Made by {@link Sender.reserve}. */
  constructor(chan: Chan<T>, n: number) {
    this.#chan = chan;
    this.#left = n;
  }

  /** Slots still held: how many more messages `send` accepts. */
  get remaining(): number {
    return this.#left;
  }

  /**
   * Sends `value` into a held slot; never waits. A waiting receiver gets it directly.
   *
   * @throws `ClosedError` when no slot is left (all used or released);
   * `ChannelClosedError` when the receiver was closed (the slot is given back).
   */
  send(value: T): void {
    const chan = this.#chan;
    if (chan === undefined) throw new ClosedError('send permit used up or released');
    if (--this.#left === 0) this.#chan = undefined;
    chan.sendReserved(value);
  }

  /** Gives back every slot not used yet. Calling it again does nothing. */
  release(): void {
    const chan = this.#chan;
    if (chan === undefined) return;
    this.#chan = undefined;
    const n = this.#left;
    this.#left = 0;
    chan.releaseReserved(n);
  }

  /** Same as {@link SendPermit.release}, for `using`. */
  [Symbol.dispose](): void {
    this.release();
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
    if (this.#closed) return failedFor(new ChannelClosedError('sender closed'));
    return this.#chan.send(value, options?.signal);
  }

  /** Sends `value` only if there is room now; tells *full* from *closed*. Never waits. */
  trySend(value: T): TrySendResult {
    if (this.#closed) return 'closed';
    return this.#chan.trySend(value);
  }

  /**
   * Waits for room for one message and holds it: the returned {@link SendPermit} sends
   * without waiting (tokio's `Sender::reserve`). Use it to decide what to send only once
   * there is room, or to send from code that cannot wait. A reserved slot counts against
   * the capacity until the permit sends or is released.
   *
   * *Ordering*: reservations and `send` calls that wait are admitted in one FIFO.
   *
   * *Cancellation*: when `signal` aborts while waiting, nothing is reserved and the
   * promise rejects with the signal's reason. Once it has resolved, the slot is held until
   * the permit is used or released (`using` releases it).
   */
  reserve(options?: ChannelWaitOptions): Promise<SendPermit<T>> {
    return this.reserveMany(1, options);
  }

  /**
   * Like {@link Sender.reserve} for `n` slots at once (tokio's `reserve_many`): resolves
   * when all `n` are held, and the permit sends up to `n` messages.
   *
   * @throws `ZOKIO_ERR_INVALID_ARGUMENT` unless `n` is an integer from 1 to the capacity.
   */
  reserveMany(n: number, options?: ChannelWaitOptions): Promise<SendPermit<T>> {
    const chan = this.#chan;
    checkReserve(n, chan.capacity);
    if (this.#closed) return failedFor(new ChannelClosedError('sender closed'));
    return chan.reserve(n, options?.signal);
  }

  /**
   * Reserves one slot if there is room now and nobody waits ahead: a {@link SendPermit},
   * or why not (`'full'`, `'closed'`). Never waits.
   */
  tryReserve(): SendPermit<T> | 'full' | 'closed' {
    return this.tryReserveMany(1);
  }

  /**
   * Reserves `n` slots if they are free now and nobody waits ahead. Never waits.
   *
   * @throws `ZOKIO_ERR_INVALID_ARGUMENT` unless `n` is an integer from 1 to the capacity.
   */
  tryReserveMany(n: number): SendPermit<T> | 'full' | 'closed' {
    const chan = this.#chan;
    checkReserve(n, chan.capacity);
    if (this.#closed) return 'closed';
    const result = chan.tryReserve(n);
    return result === 'sent' ? new SendPermit(chan, n) : result;
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

  /**
   * Waits for at least one message, then moves up to `limit` buffered messages onto the
   * end of `buffer` and returns how many it moved (tokio's `recv_many`). Returns 0 once
   * the channel is closed and drained; never rejects for that.
   *
   * *Ordering*: as {@link Receiver.recv}: oldest first.
   *
   * *Cancellation*: as {@link Receiver.recv}: an aborted wait takes nothing and leaves
   * `buffer` as it was.
   *
   * @throws `ZOKIO_ERR_INVALID_ARGUMENT` unless `limit` is an integer from 1 to 2^30.
   */
  recvMany(buffer: T[], limit: number, options?: ChannelWaitOptions): Promise<number> {
    const aborted = rejectIfAborted();
    if (aborted !== undefined) return aborted;
    checkCount(limit, 'limit', 1);
    const chan = this.#chan;
    const signal = options?.signal;
    if (signal !== undefined && signal.aborted) return failedFor(abortReason(signal));
    if (chan.ring.length > 0) return readyFor(takeInto(chan, buffer, limit));
    if (chan.drained) return readyFor(0);
    return chan.recv(signal).then(
      (first) => {
        buffer.push(first);
        return 1 + takeInto(chan, buffer, limit - 1);
      },
      (err: unknown) => {
        if (err instanceof ChannelClosedError) return 0;
        throw err;
      },
    );
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
      return: () => readyFor(ITER_DONE),
    };
  }

  /** Same as {@link Receiver.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function takeInto<T>(chan: Chan<T>, buffer: T[], limit: number): number {
  let n = 0;
  while (n < limit && chan.ring.length > 0) {
    buffer.push(chan.shift());
    n++;
  }
  return n;
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
