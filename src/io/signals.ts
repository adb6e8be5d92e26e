/**
 * OS signals: `rt.onSignal(signals, handler)`, and the `'shutdown'` handler that turns
 * SIGINT/SIGTERM into a graceful `rt.shutdown()`.
 *
 * Implementation note. Listeners are `process.on(signal)` listeners owned by the runtime:
 * a runtime part named `signals` removes them at shutdown, so a shut-down runtime leaves
 * Node's default signal behaviour in place. This file imports only types from the
 * runtime module (which calls it), to keep the module graph free of cycles; it reaches
 * the I/O driver through `rt.part('io')`.
 */
import type { RuntimePart, ZokioRuntime } from '../runtime/runtime.js';

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

interface SignalsPart extends RuntimePart {
  readonly subscriptions: Set<() => void>;
}

function signalsPart(rt: ZokioRuntime): SignalsPart {
  let part = rt.part<SignalsPart>('signals');
  if (part === undefined) {
    const subscriptions = new Set<() => void>();
    part = {
      name: 'signals',
      subscriptions,
      metrics: () => ({ subscriptions: subscriptions.size }),
      shutdown: () => {
        for (const remove of [...subscriptions]) remove();
      },
    };
    rt.addPart(part);
  }
  return part;
}

/** @internal Graceful stop: close servers and listeners first, then shut the runtime down. */
async function gracefulShutdown(rt: ZokioRuntime, timeoutMs: number | undefined): Promise<void> {
  const io = rt.part<RuntimePart & { closeAll?(): Promise<void> }>('io');
  await io?.closeAll?.();
  await rt.shutdown(timeoutMs === undefined ? undefined : { timeoutMs });
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
  rt: ZokioRuntime,
  signals: NodeJS.Signals | readonly NodeJS.Signals[],
  handler: SignalHandler | 'shutdown',
  options?: OnSignalOptions,
): SignalSubscription {
  const list = typeof signals === 'string' ? [signals] : [...signals];
  if (list.length === 0) throw new RangeError('onSignal needs at least one signal name');
  if (handler !== 'shutdown' && typeof handler !== 'function') throw new TypeError("onSignal handler must be a function or 'shutdown'");
  const part = signalsPart(rt);
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
