/**
 * The contract between a runtime and its parts (timers, I/O driver, tracing, memory, the
 * work-stealing pool, the blocking pool, signals, ...).
 *
 * Implementation note. This module holds types only, so a part can import it without
 * importing the runtime: a part module imports this contract and the context or clock it
 * needs, never `runtime.ts`. The runtime's parts are built in one place,
 * `composeParts` in `compose.ts`, in dependency order; `rt.shutdown()` stops them in
 * reverse. A part that owns threads or handles starts them on first use, not when it is
 * built.
 *
 * @module
 */
import type { ResolvedConfig } from './config.js';

/**
 * One part of a runtime. The runtime reads `metrics()` into `rt.metrics()[name]` and calls
 * `shutdown(timeoutMs)` at `rt.shutdown()`, after every part built later has stopped.
 *
 * *Ordering*: parts start in composition order and stop in the reverse order.
 */
export interface RuntimePart {
  /** The part's name: its key in `rt.metrics()` and in {@link PartHost.part}. Unique per runtime. */
  readonly name: string;
  /**
   * Called once, after every part of the runtime is built, in composition order. For work
   * that needs the other parts; never for starting threads (those start on first use).
   */
  start?(): void;
  /** This part's counters for `rt.metrics()`; `undefined` leaves the key out (a part not used yet). */
  metrics?(): unknown;
  /**
   * Stops the part: release threads, handles and listeners. `timeoutMs` is what
   * `rt.shutdown({ timeoutMs })` allows for work still running; `force` is
   * `rt.shutdown({ force })` (drop queued work at once).
   *
   * *Cancellation*: none; the runtime awaits it before stopping the parts built earlier.
   */
  shutdown?(timeoutMs: number, force?: boolean): void | Promise<void>;
}

/** The options of {@link PartHost.spawn}. */
export interface PartSpawnOptions {
  /** A name for the task (shown in traces and the console). */
  readonly name?: string;
}

/**
 * What a part may use of the runtime that holds it: the resolved config, the shutdown
 * signal, the other parts by name, and local tasks. The runtime implements it; a part
 * receives it from the composition function.
 */
export interface PartHost {
  /** The resolved configuration. */
  readonly config: ResolvedConfig;
  /** Aborted when the runtime shuts down. */
  readonly signal: AbortSignal;
  /** True once `shutdown()` has been called. */
  readonly closed: boolean;
  /** The part named `name`, or undefined when the config did not ask for it. */
  part<P extends RuntimePart>(name: string): P | undefined;
  /**
   * Puts `part` in place of the part with the same name, keeping its place in the
   * shutdown order (a virtual clock's timers, a tracer installed by hand). The caller
   * stops the part it replaces.
   * @throws Error when the runtime has no part of that name.
   */
  replacePart(part: RuntimePart): void;
  /** Starts a local task of the runtime (a signal handler, a server's request). */
  spawn(body: () => unknown, options?: PartSpawnOptions): PromiseLike<unknown>;
  /** Shuts the runtime down, as `rt.shutdown(options)`. */
  shutdown(options?: { readonly timeoutMs?: number }): Promise<void>;
}
