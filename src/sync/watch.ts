/**
 * `watch(initial)`: a single value that receivers observe as it changes; only the latest
 * value is kept (tokio's `sync::watch`).
 *
 * Implementation note. The state holds the value and a version number that every `send`
 * increments. Each receiver remembers the version it has seen; `changed()` resolves at
 * once if the version moved, otherwise parks in a {@link WaiterQueue} that `send` empties.
 */
import { ChannelClosedError } from '../errors.js';
import { abortReason } from '../scheduler/time.js';
import { RESOLVED } from './internal/check.js';
import { Waiter, WaiterQueue } from './internal/waiter-queue.js';
import { readyVoid, failedFor, rejectIfAborted } from '../scheduler/task.js';

/** Options for {@link WatchReceiver.changed}. */
export interface WatchWaitOptions {
  /** Stops waiting when this signal aborts. */
  readonly signal?: AbortSignal;
}

/** @internal The shared state of one watch channel. */
export class WatchState<T> {
  value: T;
  version = 0;
  senderClosed = false;
  /** Open receivers. */
  receivers = 0;
  readonly queue = new WaiterQueue();
  /** `WatchSender.closed()` callers, woken when the last receiver closes. */
  readonly closedQ = new WaiterQueue();

  constructor(value: T) {
    this.value = value;
  }
}

/**
 * The sending half of a {@link watch} channel.
 *
 * @example
 * ```ts
 * import { watch } from 'zokio/sync';
 * const [tx, rx] = watch('starting');
 * tx.send('ready');
 * console.log(rx.borrow()); // 'ready'
 * ```
 */
export class WatchSender<T> implements Disposable {
  readonly #s: WatchState<T>;

  /** @internal Made by {@link watch}. */
  constructor(state: WatchState<T>) {
    this.#s = state;
  }

  /** Replaces the value and wakes every `changed()` waiter. Throws `ChannelClosedError` after `close()`. */
  send(value: T): void {
    const s = this.#s;
    if (s.senderClosed) throw new ChannelClosedError('watch sender closed');
    s.value = value;
    s.version++;
    for (let w = s.queue.take(); w !== undefined; w = s.queue.take()) w.resolve(undefined);
  }

  /** Replaces the value with `fn(current)`; same as `send(fn(borrow()))`. */
  sendModify(fn: (current: T) => T): void {
    this.send(fn(this.#s.value));
  }

  /** The current value. */
  borrow(): T {
    return this.#s.value;
  }

  /** A new receiver that has seen the current value. */
  subscribe(): WatchReceiver<T> {
    return new WatchReceiver(this.#s);
  }

  /** Number of open receivers (tokio's `receiver_count`). */
  get receiverCount(): number {
    return this.#s.receivers;
  }

  /**
   * Resolves once every receiver is closed (tokio's `Sender::closed`). Resolves at once if
   * there is none now.
   *
   * *Cancellation*: when `signal` aborts the wait rejects with its reason; nothing else
   * changes.
   */
  closed(options?: WatchWaitOptions): Promise<void> {
    const s = this.#s;
    const signal = options?.signal;
    if (signal !== undefined && signal.aborted) return failedFor(abortReason(signal));
    if (s.receivers === 0) return readyVoid(RESOLVED);
    return s.closedQ.wait(new Waiter<void>(0, undefined), signal);
  }

  /** Closes the channel: waiting and later `changed()` calls reject with `ChannelClosedError`; `borrow()` keeps working. */
  close(): void {
    const s = this.#s;
    if (s.senderClosed) return;
    s.senderClosed = true;
    s.queue.rejectAll(new ChannelClosedError('watch sender closed'));
  }

  /** Same as {@link WatchSender.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * A receiver of a {@link watch} channel. Async iterable: yields the value each time it
 * changes (changes between two reads are merged into the latest), ending when the sender
 * closes.
 *
 * @example
 * ```ts
 * import { watch } from 'zokio/sync';
 * const [tx, rx] = watch(0);
 * setTimeout(() => tx.send(1), 1);
 * await rx.changed();
 * console.log(rx.borrowAndUpdate()); // 1
 * ```
 */
export class WatchReceiver<T> implements AsyncIterable<T>, Disposable {
  readonly #s: WatchState<T>;
  /** Version last seen; -1 after `markChanged()` (never equal to a real version). */
  #seen: number;
  #closed = false;

  /** @internal Made by {@link watch} and {@link WatchSender.subscribe}. */
  constructor(state: WatchState<T>) {
    this.#s = state;
    this.#seen = state.version;
    state.receivers++;
  }

  /** The current value, without marking it seen. */
  borrow(): T {
    return this.#s.value;
  }

  /** The current value, marking it seen (`changed()` then waits for the next one). */
  borrowAndUpdate(): T {
    this.#seen = this.#s.version;
    return this.#s.value;
  }

  /** Whether a value this receiver has not seen is available. */
  get hasChanged(): boolean {
    return this.#seen !== this.#s.version;
  }

  /** Marks the current value as not seen: the next `changed()` resolves at once. */
  markChanged(): void {
    this.#seen = -1;
  }

  /** Marks the current value as seen, without reading it. */
  markUnchanged(): void {
    this.#seen = this.#s.version;
  }

  /**
   * Resolves with the first value, starting from the current one, for which `predicate`
   * returns true, and marks it seen (tokio's `wait_for`). Values that change between two
   * checks are merged into the latest, as with `changed()`. Rejects with
   * `ChannelClosedError` if the sender closes before a value passes, and with whatever
   * `predicate` throws.
   *
   * *Cancellation*: when `signal` aborts the wait rejects with its reason; the values
   * checked so far stay marked seen.
   */
  async waitFor(predicate: (value: T) => boolean, options?: WatchWaitOptions): Promise<T> {
    const signal = options?.signal;
    if (signal !== undefined && signal.aborted) throw abortReason(signal);
    for (let value = this.borrowAndUpdate(); ; value = this.borrowAndUpdate()) {
      if (predicate(value)) return value;
      await this.changed(options);
    }
  }

  /**
   * Resolves when there is a value this receiver has not seen, and marks it seen. Rejects
   * with `ChannelClosedError` when the sender has closed and nothing new is left.
   *
   * *Cancellation*: when `signal` aborts the wait rejects with its reason and nothing is
   * marked seen, so a value sent meanwhile is reported by the next `changed()`.
   */
  changed(options?: WatchWaitOptions): Promise<void> {
    const aborted = rejectIfAborted();
    if (aborted !== undefined) return aborted;
    const s = this.#s;
    const signal = options?.signal;
    if (signal !== undefined && signal.aborted) return failedFor(abortReason(signal));
    if (this.#seen !== s.version) {
      this.#seen = s.version;
      return readyVoid(RESOLVED);
    }
    if (s.senderClosed) return failedFor(new ChannelClosedError('watch sender closed'));
    if (this.#closed) return failedFor(new ChannelClosedError('watch receiver closed'));
    return s.queue.wait(new Waiter<void>(0, this), signal).then(() => {
      this.#seen = s.version;
    });
  }

  /** A new receiver that has seen what this one has. */
  clone(): WatchReceiver<T> {
    const r = new WatchReceiver(this.#s);
    r.#seen = this.#seen;
    return r;
  }

  /**
   * Leaves the channel: the sender's `receiverCount` drops, and once the last receiver has
   * closed the sender's `closed()` resolves. A `changed()` waiting on this receiver and
   * later calls reject with `ChannelClosedError`; `borrow()` keeps working. Calling it
   * again does nothing.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const s = this.#s;
    const mine: Waiter<void>[] = [];
    const ring = s.queue.ring;
    for (let i = 0; i < ring.length; i++) {
      const w = ring.buf[(ring.head + i) & ring.mask]!;
      if (w.pending && w.payload === this) mine.push(w);
    }
    for (const w of mine) if (s.queue.cancel(w)) w.reject(new ChannelClosedError('watch receiver closed'));
    if (--s.receivers === 0) for (let w = s.closedQ.take(); w !== undefined; w = s.closedQ.take()) w.resolve(undefined);
  }

  /** Same as {@link WatchReceiver.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Yields the latest value after each change, until the sender closes.
   *
   * *Cancellation*: an iteration step cannot be aborted; use `changed({ signal })`.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      try {
        await this.changed();
      } catch (err) {
        if (err instanceof ChannelClosedError) return;
        throw err;
      }
      yield this.#s.value;
    }
  }
}

/**
 * Creates a watch channel holding `initial`: the sender replaces the value, receivers read
 * the latest and can wait for the next change.
 *
 * Use it for state that many tasks read and only the newest matters: configuration,
 * health, a shutdown flag.
 *
 * @example
 * ```ts
 * import { watch } from 'zokio/sync';
 * const [tx, rx] = watch({ healthy: true });
 * const seen = (async () => {
 *   for await (const state of rx) console.log(state.healthy);
 * })();
 * tx.send({ healthy: false });
 * tx.close();
 * await seen;
 * ```
 *
 * *Cancellation*: see {@link WatchReceiver.changed}.
 */
export function watch<T>(initial: T): [WatchSender<T>, WatchReceiver<T>] {
  const state = new WatchState(initial);
  return [new WatchSender(state), new WatchReceiver(state)];
}
