/**
 * `broadcast(capacity)`: every receiver sees every message; a receiver that falls more than
 * `capacity` messages behind is told how many it missed (tokio's `sync::broadcast`).
 *
 * Implementation note. Messages get consecutive sequence numbers; message `seq` lives in
 * slot `seq & mask` of a power-of-two ring at least `capacity` long. The sender never
 * waits: writing message `tail` overwrites message `tail - size`. Each receiver keeps the
 * sequence number it reads next; the oldest message still kept is `tail - capacity`.
 *
 * ```
 *   capacity 4, tail = 10: kept seqs 6..9        receiver A next = 8  → reads 8, 9
 *   slot: 0    1    2    3    4 .. 7             receiver B next = 3  → Lagged(3): 3, 4, 5
 *        [ 8 |  9 |  . |  . |  4 .. 7 ]                                  lost; next = 6
 * ```
 *
 * Receivers waiting for a message park in one {@link WaiterQueue}; a send wakes them all
 * (they are, by definition, caught up, so each gets the new message). `drained(max)` waiters
 * let a producer apply backpressure without polling: each receive re-checks them.
 */
import { ChannelClosedError } from '../errors.js';
import { abortReason } from '../scheduler/time.js';
import { checkCount, RESOLVED } from './internal/check.js';
import { nextPowerOfTwo } from './internal/ring.js';
import { Waiter, WaiterQueue } from './internal/waiter-queue.js';
import { readyFor, readyVoid, failedFor, rejectIfAborted } from '../scheduler/task.js';

/** Options for the waiting calls of a broadcast channel. */
export interface BroadcastWaitOptions {
  /** Stops waiting when this signal aborts. */
  readonly signal?: AbortSignal;
}

/**
 * What {@link BroadcastReceiver.recv} gives: the next message, or a note that this receiver
 * fell behind and `missed` messages were overwritten before it read them (it then continues
 * from the oldest message still kept).
 */
export type BroadcastResult<T> =
  | {
      /** The next message for this receiver. */
      readonly kind: 'message';
      /** The message. */
      readonly value: T;
    }
  | {
      /** This receiver fell behind; the next read continues from the oldest message kept. */
      readonly kind: 'lagged';
      /** How many messages were overwritten before this receiver read them. */
      readonly missed: number;
    };

/**
 * What {@link BroadcastReceiver.tryRecv} gives: a result as {@link BroadcastResult}, or why
 * there is none: `'empty'` (caught up; more may come) or `'closed'` (every sender closed
 * and this receiver has read everything, or it was closed).
 */
export type BroadcastTryResult<T> =
  | BroadcastResult<T>
  | {
      /** Nothing to read now: this receiver is caught up and a sender is still open. */
      readonly kind: 'empty';
    }
  | {
      /** Nothing will come: every sender closed and all was read, or this receiver was closed. */
      readonly kind: 'closed';
    };

const TRY_EMPTY: BroadcastTryResult<never> = Object.freeze({ kind: 'empty' });
const TRY_CLOSED: BroadcastTryResult<never> = Object.freeze({ kind: 'closed' });

/** @internal The shared state of one broadcast channel. */
export class BroadcastState<T> {
  readonly buf: (T | undefined)[];
  readonly mask: number;
  readonly capacity: number;
  tail = 0;
  senders = 1;
  readonly receivers = new Set<BroadcastReceiver<T>>();
  readonly recvQ = new WaiterQueue();
  readonly drainQ = new WaiterQueue();
  /** `BroadcastSender.closed()` callers, woken when the last receiver closes. */
  readonly closedQ = new WaiterQueue();

  constructor(capacity: number) {
    this.capacity = capacity;
    const size = nextPowerOfTwo(capacity);
    this.buf = new Array<T | undefined>(size).fill(undefined);
    this.mask = size - 1;
  }

  /** Messages the slowest receiver has not read (at most `capacity`). */
  pending(): number {
    let max = 0;
    for (const r of this.receivers) max = Math.max(max, this.tail - r.cursor);
    return Math.min(max, this.capacity);
  }

  /** Resolves `drained` waiters whose threshold now holds. */
  checkDrain(): void {
    if (this.drainQ.live === 0) return;
    const pending = this.pending();
    const queue = this.drainQ;
    const ready: Waiter<void>[] = [];
    const ring = queue.ring;
    for (let i = 0; i < ring.length; i++) {
      const w = ring.buf[(ring.head + i) & ring.mask]!;
      if (w.pending && pending <= w.n) ready.push(w);
    }
    for (const w of ready) if (queue.cancel(w)) w.resolve(undefined);
  }
}

/**
 * The sending half of a {@link broadcast} channel. Sending never waits; use
 * {@link BroadcastSender.drained} to slow down for the slowest receiver.
 *
 * @example
 * ```ts
 * import { broadcast } from 'zokio/sync';
 * const [tx, rx1] = broadcast<string>(16);
 * const rx2 = tx.subscribe();
 * tx.send('hi'); // both receivers get it
 * ```
 */
export class BroadcastSender<T> implements Disposable {
  readonly #s: BroadcastState<T>;
  #closed = false;

  /** @internal Made by {@link broadcast}. */
  constructor(state: BroadcastState<T>) {
    this.#s = state;
  }

  /**
   * Sends `value` to every current receiver and returns how many there are (0 is allowed;
   * a receiver that subscribes later starts after this message). Never waits. Throws
   * `ChannelClosedError` if this sender was closed.
   */
  send(value: T): number {
    if (this.#closed) throw new ChannelClosedError('broadcast sender closed');
    const s = this.#s;
    s.buf[s.tail & s.mask] = value;
    s.tail++;
    const queue = s.recvQ;
    for (let w = queue.take(); w !== undefined; w = queue.take()) {
      const r = w.payload as BroadcastReceiver<T>;
      w.payload = undefined;
      w.resolve(r.takeNext());
    }
    return s.receivers.size;
  }

  /** A new receiver that gets every message sent from now on. */
  subscribe(): BroadcastReceiver<T> {
    return new BroadcastReceiver(this.#s);
  }

  /** A new sender on the same channel; receivers see the end once every sender is closed. */
  clone(): BroadcastSender<T> {
    if (this.#closed) throw new ChannelClosedError('cannot clone a closed broadcast sender');
    this.#s.senders++;
    return new BroadcastSender(this.#s);
  }

  /** Number of open receivers. */
  get receiverCount(): number {
    return this.#s.receivers.size;
  }

  /** Messages the slowest receiver has not read yet (at most `capacity`). */
  get length(): number {
    return this.#s.pending();
  }

  /** Number of messages kept for slow receivers. */
  get capacity(): number {
    return this.#s.capacity;
  }

  /**
   * Resolves once every receiver has at most `maxPending` unread messages: the way for a
   * producer to wait for slow receivers instead of making them lag.
   *
   * *Cancellation*: when `signal` aborts the wait rejects with its reason; nothing else
   * changes.
   *
   * @param maxPending @default 0
   */
  drained(maxPending = 0, options?: BroadcastWaitOptions): Promise<void> {
    checkCount(maxPending, 'maxPending', 0);
    const s = this.#s;
    const signal = options?.signal;
    if (signal !== undefined && signal.aborted) return failedFor(abortReason(signal));
    if (s.pending() <= maxPending) return readyVoid(RESOLVED);
    return s.drainQ.wait(new Waiter<void>(maxPending, undefined), signal);
  }

  /**
   * Resolves once every receiver is closed (tokio's `Sender::closed`): nobody reads what
   * this channel sends any more. Resolves at once if there is no receiver now.
   *
   * *Cancellation*: when `signal` aborts the wait rejects with its reason; nothing else
   * changes.
   */
  closed(options?: BroadcastWaitOptions): Promise<void> {
    const s = this.#s;
    const signal = options?.signal;
    if (signal !== undefined && signal.aborted) return failedFor(abortReason(signal));
    if (s.receivers.size === 0) return readyVoid(RESOLVED);
    return s.closedQ.wait(new Waiter<void>(0, undefined), signal);
  }

  /**
   * Closes this sender. When the last sender closes, receivers read what they have not
   * read yet and then see the end. Calling it again does nothing.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const s = this.#s;
    if (--s.senders === 0) s.recvQ.rejectAll(new ChannelClosedError('broadcast channel closed'));
  }

  /** Same as {@link BroadcastSender.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * One receiver of a {@link broadcast} channel. Async iterable over
 * {@link BroadcastResult}s; the loop ends once every sender is closed and this receiver
 * has read everything.
 *
 * @example
 * ```ts
 * import { broadcast } from 'zokio/sync';
 * const [tx, rx] = broadcast<number>(2);
 * tx.send(1); tx.send(2); tx.send(3);
 * console.log(await rx.recv()); // { kind: 'lagged', missed: 1 }
 * console.log(await rx.recv()); // { kind: 'message', value: 2 }
 * ```
 */
export class BroadcastReceiver<T> implements AsyncIterable<BroadcastResult<T>>, Disposable {
  readonly #s: BroadcastState<T>;
  #closed = false;
  /** @internal Sequence number of the next message this receiver reads. */
  cursor: number;

  /** @internal Made by {@link broadcast} and {@link BroadcastSender.subscribe}. */
  constructor(state: BroadcastState<T>) {
    this.#s = state;
    this.cursor = state.tail;
    state.receivers.add(this);
  }

  /** @internal Reads the next result; the caller checks that `cursor < tail`. */
  takeNext(): BroadcastResult<T> {
    const s = this.#s;
    const oldest = s.tail - s.capacity;
    let result: BroadcastResult<T>;
    if (this.cursor < oldest) {
      result = { kind: 'lagged', missed: oldest - this.cursor };
      this.cursor = oldest;
    } else {
      result = { kind: 'message', value: s.buf[this.cursor & s.mask] as T };
      this.cursor++;
    }
    s.checkDrain();
    return result;
  }

  /**
   * Waits for the next message (or a lag note). Rejects with `ChannelClosedError` once
   * every sender is closed and this receiver has read everything, or after `close()`.
   *
   * *Ordering*: every receiver sees messages in send order.
   *
   * *Cancellation*: when `signal` aborts the wait rejects with its reason; the receiver's
   * position does not move, so the next `recv` returns the message this one would have.
   */
  recv(options?: BroadcastWaitOptions): Promise<BroadcastResult<T>> {
    const aborted = rejectIfAborted();
    if (aborted !== undefined) return aborted;
    const s = this.#s;
    const signal = options?.signal;
    if (signal !== undefined && signal.aborted) return failedFor(abortReason(signal));
    if (this.#closed) return failedFor(new ChannelClosedError('broadcast receiver closed'));
    if (this.cursor < s.tail) return readyFor(this.takeNext());
    if (s.senders === 0) return failedFor(new ChannelClosedError('broadcast channel closed'));
    return s.recvQ.wait(new Waiter<BroadcastResult<T>>(0, this), signal);
  }

  /**
   * Reads the next message (or lag note) if there is one now; otherwise tells *empty*
   * (caught up, more may come) from *closed* (nothing more will come). Never waits.
   */
  tryRecv(): BroadcastTryResult<T> {
    if (this.#closed) return TRY_CLOSED;
    const s = this.#s;
    if (this.cursor < s.tail) return this.takeNext();
    return s.senders === 0 ? TRY_CLOSED : TRY_EMPTY;
  }

  /** Messages this receiver has not read yet (at most `capacity`). */
  get length(): number {
    return Math.min(this.#s.tail - this.cursor, this.#s.capacity);
  }

  /**
   * A new receiver that starts at the newest end: it gets the messages sent from now on,
   * not the ones this receiver has yet to read (tokio's `Receiver::resubscribe`).
   */
  resubscribe(): BroadcastReceiver<T> {
    return new BroadcastReceiver(this.#s);
  }

  /** A new receiver at the same position as this one. */
  clone(): BroadcastReceiver<T> {
    const r = new BroadcastReceiver(this.#s);
    r.cursor = this.cursor;
    return r;
  }

  /**
   * Leaves the channel: senders stop counting (and waiting for) this receiver, and a
   * pending `recv` rejects with `ChannelClosedError`. Close receivers you no longer read,
   * or `drained()` keeps waiting for them.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const s = this.#s;
    s.receivers.delete(this);
    const mine: Waiter<BroadcastResult<T>>[] = [];
    const ring = s.recvQ.ring;
    for (let i = 0; i < ring.length; i++) {
      const w = ring.buf[(ring.head + i) & ring.mask]!;
      if (w.pending && w.payload === this) mine.push(w);
    }
    for (const w of mine) if (s.recvQ.cancel(w)) w.reject(new ChannelClosedError('broadcast receiver closed'));
    s.checkDrain();
    if (s.receivers.size === 0) for (let w = s.closedQ.take(); w !== undefined; w = s.closedQ.take()) w.resolve(undefined);
  }

  /**
   * Iterates over results until the channel is closed and read to the end.
   *
   * *Cancellation*: an iteration step cannot be aborted; use `recv({ signal })` instead.
   */
  [Symbol.asyncIterator](): AsyncIterator<BroadcastResult<T>> {
    return {
      next: () =>
        this.recv().then(
          (value) => ({ done: false, value }),
          (err: unknown) => {
            if (err instanceof ChannelClosedError) return { done: true, value: undefined };
            throw err;
          },
        ),
    };
  }

  /** Same as {@link BroadcastReceiver.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Creates a broadcast channel: every receiver gets every message. The sender never waits;
 * a receiver that falls more than `capacity` messages behind gets a
 * `{ kind: 'lagged', missed }` result saying how many it lost, then continues from the
 * oldest message kept.
 *
 * Use it for fan-out of events to many listeners. To bound lag instead of losing messages,
 * have the producer `await tx.drained(threshold)`.
 *
 * Throws `ZOKIO_ERR_INVALID_ARGUMENT` unless `capacity` is an integer from 1 to 2^30.
 *
 * @example
 * ```ts
 * import { broadcast } from 'zokio/sync';
 * const [tx, rx] = broadcast<string>(64);
 * const other = tx.subscribe();
 * tx.send('event');
 * tx.close();
 * for await (const r of other) if (r.kind === 'message') console.log(r.value);
 * rx.close();
 * ```
 *
 * *Cancellation*: see {@link BroadcastReceiver.recv} and {@link BroadcastSender.drained}.
 */
export function broadcast<T>(capacity: number): [BroadcastSender<T>, BroadcastReceiver<T>] {
  const state = new BroadcastState<T>(checkCount(capacity, 'capacity', 1));
  return [new BroadcastSender(state), new BroadcastReceiver(state)];
}
