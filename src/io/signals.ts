/**
 * OS signals: `rt.onSignal(signals, handler)`, and the `'shutdown'` handler that turns
 * SIGINT/SIGTERM into a graceful `rt.shutdown()`.
 *
 * Implementation note. Listeners are `process.on(signal)` listeners owned by the runtime:
 * its part named `signals` adds them on `rt.onSignal` (none before) and removes them at
 * shutdown, first of all the parts, so a shut-down runtime leaves Node's default signal
 * behaviour in place. This file imports only the part contract; it reaches the I/O driver
 * through `host.part('io')`.
 */
import type { PartHost, RuntimePart } from '../runtime/part.js';

/** A signal handler; it runs as a task of the runtime. */
export type SignalHandler = (signal: NodeJS.Signals) => void | PromiseLike<void>;

/** Options of `rt.onSignal`. */
export interface OnSignalOptions {
  /**
   * For the `'shutdown'` handler: how long `rt.shutdown()` waits for live tasks.
   * @default 5000
   */
  readonly timeoutMs?: number;
}

/** What `rt.onSignal` returns: removes the listeners (also with `using`). */
export interface SignalSubscription {
  /** Removes the listeners; later signals get Node's default behaviour back. */
  unsubscribe(): void;
  /** `using sub = rt.onSignal(...)` unsubscribes at the end of the block. */
  [Symbol.dispose](): void;
}

/** @internal Graceful stop: close servers and listeners first, then shut the runtime down. */
async function gracefulShutdown(rt: PartHost, timeoutMs: number | undefined): Promise<void> {
  const io = rt.part<RuntimePart & { closeAll?(): Promise<void> }>('io');
  await io?.closeAll?.();
  await rt.shutdown(timeoutMs === undefined ? undefined : { timeoutMs });
}

/**
 * @internal The `signals` part of a runtime: the `process` signal listeners that
 * `rt.onSignal` added, removed at shutdown. Its metrics appear once `onSignal` was called.
 */
export class SignalsPart implements RuntimePart {
  readonly name = 'signals';
  readonly subscriptions = new Set<() => void>();
  readonly #host: PartHost;
  #used = false;

  constructor(host: PartHost) {
    this.#host = host;
  }

  /** `rt.onSignal(signals, handler, options)`: see {@link installSignalHandler}. */
  install(signals: NodeJS.Signals | readonly NodeJS.Signals[], handler: SignalHandler | 'shutdown', options?: OnSignalOptions): SignalSubscription {
    return installSignalHandler(this.#host, this, signals, handler, options);
  }

  metrics(): { subscriptions: number } | undefined {
    return this.#used ? { subscriptions: this.subscriptions.size } : undefined;
  }

  /** @internal Marks the part used (its metrics show from now on). */
  markUsed(): void {
    this.#used = true;
  }

  shutdown(): void {
    for (const remove of [...this.subscriptions]) remove();
  }
}

/**
 * @internal The implementation of `rt.onSignal`.
 *
 * With a function handler, each signal runs `handler(signal)` as a task of the runtime.
 * With `'shutdown'`, the first signal starts a graceful shutdown (servers stop accepting
 * and finish in-flight requests, then `rt.shutdown()`); a second one while shutting down
 * removes the listener and re-raises the signal, so a second Ctrl-C exits at once.
 */
export function installSignalHandler(
  rt: PartHost,
  part: SignalsPart,
  signals: NodeJS.Signals | readonly NodeJS.Signals[],
  handler: SignalHandler | 'shutdown',
  options?: OnSignalOptions,
): SignalSubscription {
  const list = typeof signals === 'string' ? [signals] : [...signals];
  if (list.length === 0) throw new RangeError('onSignal needs at least one signal name');
  if (handler !== 'shutdown' && typeof handler !== 'function') throw new TypeError("onSignal handler must be a function or 'shutdown'");
  part.markUsed();
  let shuttingDown = false;
  const listener = (signal: NodeJS.Signals): void => {
    if (handler === 'shutdown') {
      if (shuttingDown) {
        remove();
        process.kill(process.pid, signal);
        return;
      }
      shuttingDown = true;
      void gracefulShutdown(rt, options?.timeoutMs).catch(() => undefined);
      return;
    }
    if (rt.closed) return;
    try {
      rt.spawn(() => handler(signal), { name: `signal ${signal}` });
    } catch {
      // The runtime is shutting down: the signal is dropped, as after unsubscribe.
    }
  };
  let removed = false;
  const remove = (): void => {
    if (removed) return;
    removed = true;
    for (const name of list) process.off(name, listener);
    part.subscriptions.delete(remove);
  };
  for (const name of list) process.on(name, listener);
  part.subscriptions.add(remove);
  return { unsubscribe: remove, [Symbol.dispose]: remove };
}
