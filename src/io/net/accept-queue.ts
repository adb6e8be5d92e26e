/**
 * The queue between a backend listener and `accept()` (internal).
 *
 * Implementation note. Incoming sockets wait in a FIFO bounded by `backlog`; an
 * `accept()` takes the oldest or waits in a FIFO of waiters. A socket beyond the backlog
 * is refused (destroyed), as a full kernel backlog would, so a listener nobody accepts
 * from cannot grow without bound. `close()` destroys what is queued and rejects the
 * waiters with `ClosedError`.
 */
import type { Duplex } from 'node:stream';
import { ClosedError } from '../../errors.js';
import { abortedBeforeWait, WaitAbort } from '../../scheduler/wait-abort.js';
import { failedFor, readyFor, rejectIfAborted } from '../../scheduler/task.js';

interface Waiter<T> {
  resolve(stream: T): void;
  reject(err: unknown): void;
}

/** @internal `T` is what `accept()` returns: the socket wrapped by `wrap` (a `UnixStream`, a `TcpStream`). */
export class AcceptQueue<T> {
  readonly #queue: Duplex[] = [];
  readonly #waiters: Waiter<T>[] = [];
  readonly #backlog: number;
  readonly #what: string;
  readonly #wrap: (socket: Duplex) => T;
  #closed = false;
  /** Sockets refused because the backlog was full. */
  refused = 0;

  constructor(backlog: number, what: string, wrap: (socket: Duplex) => T) {
    this.#backlog = backlog;
    this.#what = what;
    this.#wrap = wrap;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The backend's connection callback. */
  readonly push = (socket: Duplex): void => {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve(this.#wrap(socket));
      return;
    }
    if (this.#queue.length >= this.#backlog) {
      this.refused++;
      socket.destroy();
      return;
    }
    // Errors before accept() must not crash the process.
    socket.on('error', () => undefined);
    this.#queue.push(socket);
  };

  /**
   * The oldest incoming socket, waiting for one when none is queued.
   *
   * *Cancellation*: `signal`, or the abort of the running task, removes the wait; a socket
   * that comes later stays queued for the next `accept()`.
   */
  take(signal: AbortSignal | undefined): Promise<T> {
    const abortedTask = rejectIfAborted();
    if (abortedTask !== undefined) return abortedTask;
    const queued = this.#queue.shift();
    if (queued !== undefined) return readyFor(this.#wrap(queued));
    if (this.#closed) return Promise.reject(new ClosedError(`${this.#what} is closed`));
    const aborted = abortedBeforeWait(signal);
    if (aborted !== undefined) return failedFor(aborted.reason);
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = { resolve, reject };
      const abort = WaitAbort.start(signal, (reason) => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(reason);
      });
      if (abort !== undefined) {
        waiter.resolve = (s) => abort.settle(resolve, s);
        waiter.reject = (e) => abort.settle(reject, e);
      }
      this.#waiters.push(waiter);
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const socket of this.#queue.splice(0)) socket.destroy();
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new ClosedError(`${this.#what} is closed`));
  }
}
