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
import { abortReason } from '../../scheduler/time.js';

interface Waiter {
  resolve(socket: Duplex): void;
  reject(err: unknown): void;
}

/** @internal */
export class AcceptQueue {
  readonly #queue: Duplex[] = [];
  readonly #waiters: Waiter[] = [];
  readonly #backlog: number;
  readonly #what: string;
  #closed = false;
  /** Sockets refused because the backlog was full. */
  refused = 0;

  constructor(backlog: number, what: string) {
    this.#backlog = backlog;
    this.#what = what;
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
      waiter.resolve(socket);
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

  take(signal: AbortSignal | undefined): Promise<Duplex> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#closed) return Promise.reject(new ClosedError(`${this.#what} is closed`));
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<Duplex>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      if (signal !== undefined) {
        const onAbort = (): void => {
          const i = this.#waiters.indexOf(waiter);
          if (i >= 0) this.#waiters.splice(i, 1);
          reject(abortReason(signal));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiter.resolve = (s) => {
          signal.removeEventListener('abort', onAbort);
          resolve(s);
        };
        waiter.reject = (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        };
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
