/**
 * `oneshot()`: a channel for exactly one value (tokio's `sync::oneshot`).
 *
 * Implementation note. One slot, a state (`empty`, `full`, `taken`) and a
 * {@link WaiterQueue} for `recv` calls (normally at most one).
 */
import { ChannelClosedError } from '../errors.js';
import { abortReason } from '../scheduler/time.js';
import { RESOLVED } from './internal/check.js';
import { DRAINED, NOT_READY, SELECT_SOURCE, type Selectable, type SelectSource } from './internal/selectable.js';
import { Waiter, WaiterQueue } from './internal/waiter-queue.js';
import type { TryRecvResult } from './channel.js';
import { readyFor, readyVoid, failedFor, rejectIfAborted } from '../scheduler/task.js';

/** Options for {@link OneshotReceiver.recv}. */
export interface OneshotRecvOptions {
  /** Stops waiting when this signal aborts. */
  readonly signal?: AbortSignal;
}

const EMPTY = 0;
const FULL = 1;
const TAKEN = 2;

/** @internal The shared state of one oneshot channel. */
export class OneshotState<T> implements SelectSource<T> {
  state = EMPTY;
  value: T | undefined = undefined;
  senderClosed = false;
  receiverClosed = false;
  /** The receiver reported that no value will come (a recv rejected, tryRecv said closed). */
  endSeen = false;
  readonly queue = new WaiterQueue();
  /** `OneshotSender.closed()` callers, woken when the receiver closes. */
  readonly closedQ = new WaiterQueue();

  take(): T {
    const value = this.value as T;
    this.value = undefined;
    this.state = TAKEN;
    return value;
  }

  get drained(): boolean {
    return this.state === TAKEN || (this.state === EMPTY && (this.senderClosed || this.receiverClosed));
  }

  poll(): T | typeof NOT_READY | typeof DRAINED {
    if (this.state === FULL) return this.take();
    if (!this.drained) return NOT_READY;
    this.endSeen = true;
    return DRAINED;
  }

  register(w: Waiter<T>): WaiterQueue {
    this.queue.push(w);
    return this.queue;
  }

  closeWaiters(): void {
    if (this.queue.live > 0) this.endSeen = true;
    this.queue.rejectAll(new ChannelClosedError('oneshot sender closed without sending'));
  }
}

/**
 * The sending half of a {@link oneshot} channel.
 *
 * @example
 * ```ts
 * import { oneshot } from 'zokio/sync';
 * const [tx, rx] = oneshot<number>();
 * tx.send(42);
 * console.log(await rx.recv()); // 42
 * ```
 */
export class OneshotSender<T> implements Disposable {
  readonly #s: OneshotState<T>;

  /** @internal Made by {@link oneshot}. */
  constructor(state: OneshotState<T>) {
    this.#s = state;
  }

  /**
   * Sends the value. Throws `ChannelClosedError` if the receiver was closed, or if a value
   * was already sent or the sender closed.
   */
  send(value: T): void {
    const s = this.#s;
    if (s.receiverClosed) throw new ChannelClosedError('oneshot receiver closed');
    if (s.state !== EMPTY || s.senderClosed) throw new ChannelClosedError('oneshot already sent or sender closed');
    s.senderClosed = true;
    const w = s.queue.take();
    if (w !== undefined) {
      s.state = TAKEN;
      w.resolve(value);
    } else {
      s.state = FULL;
      s.value = value;
    }
  }

  /** Whether the receiver was closed (a send would throw). */
  get isClosed(): boolean {
    return this.#s.receiverClosed;
  }

  /**
   * Resolves once the receiver is closed (tokio's `Sender::closed`): use it to stop
   * computing a reply nobody will read. Resolves at once if it already is.
   *
   * *Cancellation*: when `signal` aborts the wait rejects with its reason; nothing else
   * changes.
   */
  closed(options?: OneshotRecvOptions): Promise<void> {
    const s = this.#s;
    const signal = options?.signal;
    if (signal !== undefined && signal.aborted) return failedFor(abortReason(signal));
    if (s.receiverClosed) return readyVoid(RESOLVED);
    return s.closedQ.wait(new Waiter<void>(0, undefined), signal);
  }

  /** Closes without sending: the receiver rejects with `ChannelClosedError`. */
  close(): void {
    const s = this.#s;
    if (s.senderClosed) return;
    s.senderClosed = true;
    if (s.state === EMPTY) s.closeWaiters();
  }

  /** Same as {@link OneshotSender.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * The receiving half of a {@link oneshot} channel. Can be a `select` branch.
 *
 * @example
 * ```ts
 * import { oneshot } from 'zokio/sync';
 * const [tx, rx] = oneshot<string>();
 * setTimeout(() => tx.send('done'), 1);
 * console.log(await rx.recv());
 * ```
 */
export class OneshotReceiver<T> implements Selectable<T>, Disposable {
  readonly #s: OneshotState<T>;

  /** @internal Made by {@link oneshot}. */
  constructor(state: OneshotState<T>) {
    this.#s = state;
  }

  /** @internal The hooks `select` uses. */
  get [SELECT_SOURCE](): SelectSource<T> {
    return this.#s;
  }

  /**
   * Waits for the value. Rejects with `ChannelClosedError` if the sender closed without
   * sending, or the value was already received.
   *
   * *Cancellation*: when `signal` aborts, the wait rejects with the signal's reason and the
   * value (if it comes) stays in the channel for a later `recv`.
   */
  recv(options?: OneshotRecvOptions): Promise<T> {
    const aborted = rejectIfAborted();
    if (aborted !== undefined) return aborted;
    const s = this.#s;
    const signal = options?.signal;
    if (signal !== undefined && signal.aborted) return failedFor(abortReason(signal));
    if (s.state === FULL) return readyFor(s.take());
    if (s.drained) {
      s.endSeen = true;
      return failedFor(new ChannelClosedError('oneshot sender closed without sending'));
    }
    return s.queue.wait(new Waiter<T>(0, undefined), signal);
  }

  /** Takes the value if it has arrived; tells *empty* from *closed*. Never waits. */
  tryRecv(): TryRecvResult<T> {
    const s = this.#s;
    if (s.state === FULL) return { ok: true, value: s.take() };
    if (!s.drained) return { ok: false, reason: 'empty' };
    s.endSeen = true;
    return { ok: false, reason: 'closed' };
  }

  /**
   * Whether this receiver is finished (tokio's `is_terminated`): it has handed out its
   * value, or a `recv`/`tryRecv` has reported that none will come. A value sent but not
   * yet received does not count.
   */
  get isTerminated(): boolean {
    const s = this.#s;
    return s.state === TAKEN || s.endSeen;
  }

  /** Closes the receiver: a later `send` throws. A value already sent can still be received. */
  close(): void {
    const s = this.#s;
    if (s.receiverClosed) return;
    s.receiverClosed = true;
    if (s.state === EMPTY) s.closeWaiters();
    for (let w = s.closedQ.take(); w !== undefined; w = s.closedQ.take()) w.resolve(undefined);
  }

  /** Same as {@link OneshotReceiver.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Creates a channel that carries exactly one value from one sender to one receiver.
 *
 * Use it for a reply to a request (put the sender in the request message), or to hand
 * a result from one task to another.
 *
 * @example
 * ```ts
 * import { channel, oneshot, type OneshotSender } from 'zokio/sync';
 * const [requests, inbox] = channel<{ n: number; reply: OneshotSender<number> }>(16);
 * void (async () => {
 *   for await (const req of inbox) req.reply.send(req.n * 2);
 * })();
 * const [reply, answer] = oneshot<number>();
 * await requests.send({ n: 21, reply });
 * console.log(await answer.recv()); // 42
 * requests.close();
 * ```
 *
 * *Cancellation*: see {@link OneshotReceiver.recv}; an aborted wait does not consume the
 * value.
 */
export function oneshot<T>(): [OneshotSender<T>, OneshotReceiver<T>] {
  const state = new OneshotState<T>();
  return [new OneshotSender(state), new OneshotReceiver(state)];
}
