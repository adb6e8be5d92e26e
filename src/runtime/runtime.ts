/**
 * `Runtime<C>`: holds the parts a config chose (built by `composeParts` in `compose.ts`)
 * in a private field, and the local executor that runs tasks on this thread.
 *
 * The public type follows the config: `Runtime<C>` has `exec`, `map`, `spawnBlocking` and
 * `blockOn` only when `C` sets `workers`. One implementation class serves every flavor;
 * the builder and `createRuntime` return it under the type the config earns.
 */
import { NotImplementedError, RuntimeClosedError } from '../errors.js';
import type { OnSignalOptions, SignalHandler, SignalsPart, SignalSubscription } from '../io/signals.js';
import type { BlockingPart } from '../scheduler/blocking/index.js';
import { LocalExecutor, type LocalTaskMetrics } from '../scheduler/local-executor.js';
import type { PoolPart } from '../scheduler/pool/pool-part.js';
import { ScopeImpl, type Scope, type ScopeOptions } from '../scheduler/scope.js';
import { failedFor, taskWait, type SpawnOptions, type Task, type TaskBody } from '../scheduler/task.js';
import { isTaskRef, type TaskRef } from '../scheduler/task-ref.js';
import type { SendableArgs } from '../scheduler/task-registry.js';
import type { RemoteTasks } from '../distributed/remote-client.js';
import type { RemotePart } from '../distributed/remote-part.js';
import {
  resolveConfig,
  type CheckBlockingThreads,
  type CheckExporter,
  type CheckIo,
  type CheckMaxQueue,
  type CheckMemoryStrategy,
  type CheckQueueCapacity,
  type CheckResourceLimits,
  type CheckHttp,
  type HttpClientConfig,
  type CheckResolution,
  type CheckSampleRatio,
  type CheckStrategy,
  type CheckWorkers,
  type ResolvedConfig,
  type RuntimeConfig,
  type WorkerResourceLimits,
} from './config.js';
import { bounded } from './bounded.js';
import { composeParts, stopParts } from './compose.js';
import { contextStorage, type ContextStore } from './context.js';
import type { BlockOnOptions, ExecOptions, MapOptions, ParallelEngine, SpawnBlockingOptions } from './parallel.js';
import type { PartHost, RuntimePart } from './part.js';
import { detectPlatform } from './platform.js';
import { buildReport, describeReport, type RuntimeReport } from './report.js';
import type { ConsolePart } from '../console/console-part.js';
import type { ConsoleOptions, RuntimeConsole } from '../console/options.js';

export type { BlockOnOptions, ExecOptions, MapOptions, SpawnBlockingOptions } from './parallel.js';

/** True when a config turns the work-stealing pool on. */
export type HasWorkers<C> = C extends {
  /** The `workers` setting that turns the pool on. */
  readonly workers: number | 'auto';
} ? true : false;
/** True when a config sets `distributed` (the runtime has `rt.remote`). */
export type HasRemote<C> = C extends {
  /** The `distributed` setting that adds `rt.remote`. */
  readonly distributed: object;
} ? true : false;
/** The flavor a config produces. */
export type FlavorOf<C> = HasWorkers<C> extends true ? 'multi_thread' : 'current_thread';

/** What `main` receives in `rt.run(main)`. */
export interface RunContext extends ContextStore {
  /** The runtime being run. */
  readonly runtime: object;
  /** Aborted when the runtime shuts down. */
  readonly signal: AbortSignal;
}

/** Options for `rt.shutdown`. */
export interface ShutdownOptions {
  /**
   * How long to wait for live tasks before aborting them, in ms.
   * @default 5000
   */
  readonly timeoutMs?: number;
  /**
   * Drop the worker pool's queued tasks at once (they reject with `RuntimeClosedError`);
   * running ones still finish within `timeoutMs`.
   * @default false
   */
  readonly force?: boolean;
}

/** Counters gathered from every part of the runtime. */
export interface RuntimeMetrics {
  /** Local tasks on this thread. */
  readonly tasks: LocalTaskMetrics;
  /** Other parts (pool, timers, memory, tracing) add their own sections here. */
  readonly [part: string]: unknown;
}

/** The members every runtime has. */
export interface RuntimeBase<C extends object = RuntimeConfig> {
  /** The resolved configuration. */
  readonly config: ResolvedConfig;
  /** A typed description of the parts this runtime is made of. */
  readonly report: RuntimeReport<FlavorOf<C>>;
  /** The report as aligned text. */
  describe(): string;
  /**
   * Enters the runtime: `main` and everything it starts see this runtime as current.
   *
   * *Cancellation*: `cx.signal` aborts when the runtime shuts down.
   */
  run<T>(main: (cx: RunContext) => T | PromiseLike<T>): Promise<Awaited<T>>;
  /**
   * Starts a task on this thread and returns its handle.
   *
   * *Cancellation*: `options.signal` aborts the task; so does `task.abort()` and shutdown.
   */
  spawn<T>(body: TaskBody<T>, options?: SpawnOptions): Task<Awaited<T>>;
  /**
   * Structured concurrency: runs `body`, waits for every child it spawned on the scope; the
   * first failure aborts the other children and is rethrown.
   *
   * *Cancellation*: aborting `options.signal` or the enclosing task aborts every child.
   */
  scope<T>(body: (scope: Scope) => T | PromiseLike<T>, options?: ScopeOptions): Promise<Awaited<T>>;
  /** Counters of every part. */
  metrics(): RuntimeMetrics;
  /**
   * Stops taking work, waits up to `timeoutMs` for live tasks, aborts the rest, stops
   * every part, and leaves no handle that keeps the process alive.
   */
  shutdown(options?: ShutdownOptions): Promise<void>;
  /**
   * Handles OS signals. With a function, each signal runs `handler(signal)` as a task of
   * this runtime. With `'shutdown'`, the first signal shuts down gracefully: servers from
   * `zokio/http` and `zokio/net` stop accepting and finish in-flight requests, then
   * `rt.shutdown({ timeoutMs })` runs; a second signal during shutdown exits at once.
   * Listeners are removed at shutdown or by `unsubscribe()`.
   *
   * @example
   * ```ts
   * import { Runtime } from 'zokio';
   * const rt = Runtime.builder().build();
   * async function reloadConfig(): Promise<void> {}
   * rt.onSignal(['SIGINT', 'SIGTERM'], 'shutdown', { timeoutMs: 10_000 });
   * const sub = rt.onSignal('SIGHUP', async () => reloadConfig());
   * // later, to stop handling SIGHUP: sub.unsubscribe();
   * ```
   */
  onSignal(signals: NodeJS.Signals | readonly NodeJS.Signals[], handler: SignalHandler | 'shutdown', options?: OnSignalOptions): SignalSubscription;
  /**
   * Serves the live runtime console (a page and a JSON/SSE feed) on 127.0.0.1; see
   * `src/console`. Nothing is loaded or sampled before the first call.
   *
   * @example
   * ```ts
   * import { Runtime } from 'zokio';
   * const rt = Runtime.builder().workers(2).build();
   * await using console_ = await rt.console({ port: 0, intervalMs: 1000 });
   * console.log(`open ${console_.url}`); // http://127.0.0.1:PORT/?token=...
   * ```
   *
   * *Cancellation*: `close()` on the result (or `await using`) stops the server and every
   * stream; `rt.shutdown()` closes it too.
   */
  console(options?: ConsoleOptions): Promise<RuntimeConsole>;
  /** `await using rt = ...` shuts the runtime down at the end of the block. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** The members a runtime built with `.workers(...)` adds. */
export interface ParallelMembers {
  /**
   * Runs a registered task on the work-stealing pool.
   *
   * Arguments are checked at compile time: a closure or a class instance with methods is
   * an error naming the argument, because it cannot cross to a worker.
   *
   * *Cancellation*: pass `{ signal }` first — `rt.exec({ signal }, ref, ...args)`. Aborting
   * it removes a queued task (the promise rejects with the reason); a running task sees
   * `currentTaskSignal()` abort and decides itself. Inside a scope the scope's signal is
   * used when none is given.
   */
  exec<A extends readonly unknown[], R, const P extends readonly unknown[]>(ref: TaskRef<A, R>, ...args: SendableArgs<P, A>): Promise<Awaited<R>>;
  /**
   * Runs a registered task on the work-stealing pool, with options (`signal`).
   *
   * @example
   * ```ts
   * import { Runtime, defineTasks } from 'zokio';
   * const tasks = defineTasks(import.meta.url, { double: (n: number): number => n * 2 });
   * const rt = Runtime.builder().workers(2).build();
   * const controller = new AbortController();
   * const doubled = await rt.exec({ signal: controller.signal }, tasks.double, 21);
   * await rt.shutdown();
   * ```
   *
   * *Cancellation*: aborting `signal` removes the task if it is still queued (the promise
   * rejects with the reason) and aborts `currentTaskSignal()` inside a running task.
   */
  exec<A extends readonly unknown[], R, const P extends readonly unknown[]>(options: ExecOptions, ref: TaskRef<A, R>, ...args: SendableArgs<P, A>): Promise<Awaited<R>>;
  /** Runs a registered one-argument task over many inputs; results come in input order. */
  map<I, R>(ref: TaskRef<readonly [I], R> | TaskRef<[I], R>, inputs: Iterable<I>, options?: MapOptions<Awaited<R>>): Promise<Awaited<R>[]>;
  /**
   * Runs a registered task on the blocking pool (`.blockingThreads(n)` threads, started on
   * first use), never on a stealing worker, so long blocking calls cannot starve `exec`/`map`.
   *
   * Use it for synchronous or long work: sync fs, native calls, compression. Each blocking
   * thread runs one task at a time; more tasks wait in FIFO order.
   *
   * @example
   * ```ts
   * import { readFileSync } from 'node:fs';
   * import { Runtime, defineTasks } from 'zokio';
   * export const tasks = defineTasks(import.meta.url, {
   *   readConfigSync(path: string): string {
   *     return readFileSync(path, 'utf8');
   *   },
   * });
   * const rt = Runtime.builder().workers(2).blockingThreads(1).build();
   * const text = await rt.spawnBlocking(tasks.readConfigSync, '/etc/app.json');
   * await rt.shutdown();
   * ```
   *
   * *Cancellation*: aborting `options.signal`, or the task the call is made in, rejects the
   * call with its reason: a task that has not started never runs; one that has runs to its
   * end (synchronous code on another thread cannot be interrupted) and its result is
   * dropped. `rt.shutdown()` rejects pending calls with `RuntimeClosedError` and terminates
   * the threads.
   */
  spawnBlocking<const A extends readonly unknown[], R>(ref: TaskRef<A, R>, ...args: A): Promise<Awaited<R>>;
  /** {@link spawnBlocking} with options: `{ signal }`. */
  spawnBlocking<const A extends readonly unknown[], R>(options: SpawnBlockingOptions, ref: TaskRef<A, R>, ...args: A): Promise<Awaited<R>>;
  /**
   * Runs a registered task on the blocking pool and waits for it **synchronously**
   * (`Atomics.wait`): the bridge from synchronous code to Zokio work. Errors are rethrown
   * with their `code`.
   *
   * Use it only from plain synchronous code outside the runtime (a CLI's sync entry point,
   * a sync callback of a library). Inside `rt.run`, a spawned task, or any Zokio worker
   * thread it throws `NestedRuntimeError` (code `ZOKIO_ERR_NESTED_RUNTIME`): there, use
   * `await rt.spawnBlocking(ref, ...args)`. It does not need this thread's event loop, so it
   * cannot deadlock on it; when every blocking thread is busy it waits for one (see the
   * `rt.blockOn({ timeoutMs }, ...)` form to bound that).
   *
   * @example
   * ```ts
   * import { readFileSync } from 'node:fs';
   * import { Runtime, defineTasks } from 'zokio';
   * export const tasks = defineTasks(import.meta.url, {
   *   loadConfig(path: string): { port: number } {
   *     return JSON.parse(readFileSync(path, 'utf8')) as { port: number };
   *   },
   * });
   * const rt = Runtime.builder().workers(2).build();
   * const config = rt.blockOn(tasks.loadConfig, 'app.json'); // outside rt.run
   * console.log(config.port);
   * ```
   */
  blockOn<const A extends readonly unknown[], R>(ref: TaskRef<A, R>, ...args: A): Awaited<R>;
  /**
   * `blockOn` with options first: `rt.blockOn({ timeoutMs: 500 }, tasks.loadConfig, 'app.json')`.
   *
   * *Cancellation*: after `timeoutMs` it throws `TimeoutError` (code `ZOKIO_ERR_TIMEOUT`);
   * a task that had not started never runs, one that had keeps its blocking thread until
   * it returns and its result is dropped.
   */
  blockOn<const A extends readonly unknown[], R>(options: BlockOnOptions, ref: TaskRef<A, R>, ...args: A): Awaited<R>;
}

/**
 * A Zokio runtime. Its members follow its config: `exec`, `map`, `spawnBlocking` and
 * `blockOn` exist only on runtimes built with `.workers(...)`.
 */
export type Runtime<C extends object = RuntimeConfig> = (HasWorkers<C> extends true ? RuntimeBase<C> & ParallelMembers : RuntimeBase<C>) &
  (HasRemote<C> extends true ? RemoteMembers : unknown);

/** The member a runtime built with `.distributed(...)` adds. */
export interface RemoteMembers {
  /** Calls to tasks on other machines (BullMQ on Redis), at-least-once. See `zokio/distributed`. */
  readonly remote: RemoteTasks;
}

/** The options of a call in its `(options, ref, ...args)` form; a TypeError naming `where` when it is neither form. */
function optionsOfCall<O extends object>(call: readonly unknown[], where: string): O {
  const options = call[0];
  if (typeof options !== 'object' || options === null || !isTaskRef(call[1])) {
    throw new TypeError(`${where}: expected (ref, ...args) or (options, ref, ...args), where ref comes from defineTasks`);
  }
  return options as O;
}

/**
 * @internal The one implementation behind every `Runtime<C>` type: the local executor,
 * the run context, and the parts `composeParts` built from the config, in their order.
 */
export class ZokioRuntime implements RuntimeBase, ParallelMembers, PartHost {
  readonly config: ResolvedConfig;
  readonly report: RuntimeReport<never>;
  readonly #executor: LocalExecutor;
  readonly #controller = new AbortController();
  readonly #runContext: RunContext;
  /** The parts in composition order; shutdown walks it backwards. */
  readonly #parts: RuntimePart[];
  #shutdown: Promise<void> | undefined;
  #stopped = false;

  constructor(config: ResolvedConfig) {
    this.config = config;
    this.report = buildReport(config, detectPlatform()) as RuntimeReport<never>;
    this.#executor = new LocalExecutor();
    this.#runContext = { runtime: this, task: undefined, span: undefined, signal: this.#controller.signal };
    this.#parts = composeParts(config, this);
  }

  /** @internal A part by name (`timers`, `io`, `tracing`, `memory`, `pool`, `blocking`, `signals`). */
  part<P extends RuntimePart>(name: string): P | undefined {
    for (const part of this.#parts) if (part.name === name) return part as P;
    return undefined;
  }

  /** @internal Puts `part` in place of the part with the same name (see `PartHost.replacePart`). */
  replacePart(part: RuntimePart): void {
    const at = this.#parts.findIndex((p) => p.name === part.name);
    if (at < 0) throw new Error(`zokio: this runtime has no '${part.name}' part to replace`);
    this.#parts[at] = part;
  }

  /** @internal The part named `name`, which the composition function always builds. */
  #required<P extends RuntimePart>(name: string): P {
    const part = this.part<P>(name);
    if (part === undefined) throw new NotImplementedError(`the '${name}' part on this runtime`);
    return part;
  }

  /** @internal Aborted when the runtime shuts down. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** True once `shutdown()` has been called. */
  get closed(): boolean {
    return this.#shutdown !== undefined;
  }

  /** @internal True once `shutdown()` has finished: every part has stopped. */
  get stopped(): boolean {
    return this.#stopped;
  }

  describe(): string {
    return describeReport(this.report);
  }

  run<T>(main: (cx: RunContext) => T | PromiseLike<T>): Promise<Awaited<T>> {
    if (this.#shutdown !== undefined) return Promise.reject(new RuntimeClosedError('runtime is shut down: cannot run'));
    return contextStorage.run(this.#runContext, async (): Promise<Awaited<T>> => await main(this.#runContext));
  }

  spawn<T>(body: TaskBody<T>, options?: SpawnOptions): Task<Awaited<T>> {
    const store = contextStorage.getStore();
    // Outside any store of this runtime, the task runs in the runtime's own store.
    return this.#executor.spawn(body as TaskBody<Awaited<T>>, options, this.#executor, store?.runtime === this ? store : this.#runContext);
  }

  async scope<T>(body: (scope: Scope) => T | PromiseLike<T>, options?: ScopeOptions): Promise<Awaited<T>> {
    if (this.#shutdown !== undefined) throw new RuntimeClosedError('runtime is shut down: cannot open a scope');
    const store = contextStorage.getStore() as (ContextStore & { signal?: AbortSignal }) | undefined;
    const scope = new ScopeImpl(this.#executor, this, store?.span);
    // The parent is the enclosing scope (or run) of this runtime, plus the caller's signal.
    const parents: AbortSignal[] = [store?.runtime === this && store.signal !== undefined ? store.signal : this.#controller.signal];
    if (options?.signal !== undefined) parents.push(options.signal);
    const parent = parents.length === 1 ? parents[0] : AbortSignal.any(parents);
    return (await contextStorage.run(scope.store, () => scope.run(body, parent))) as Awaited<T>;
  }

  #engine(): ParallelEngine {
    if (this.#shutdown !== undefined) throw new RuntimeClosedError('runtime is shut down: cannot run worker tasks');
    const pool = this.part<PoolPart>('pool');
    if (pool === undefined) throw new NotImplementedError('worker tasks on a current-thread runtime');
    return pool.engine();
  }

  exec(...call: readonly unknown[]): Promise<never> {
    try {
      const first = call[0];
      if (isTaskRef(first)) return taskWait(this.#engine().exec(first, call.slice(1))) as Promise<never>;
      const options = optionsOfCall<ExecOptions>(call, 'rt.exec');
      return taskWait(this.#engine().execWithSignal(call[1] as TaskRef, call.slice(2), options.signal, options)) as Promise<never>;
    } catch (err) {
      return failedFor(err);
    }
  }

  map<I, R>(ref: TaskRef<readonly [I], R> | TaskRef<[I], R>, inputs: Iterable<I>, options?: MapOptions<Awaited<R>>): Promise<Awaited<R>[]> {
    try {
      return taskWait(this.#engine().map(ref as TaskRef, inputs, options as MapOptions<unknown>)) as Promise<Awaited<R>[]>;
    } catch (err) {
      return failedFor(err);
    }
  }

  spawnBlocking(...call: readonly unknown[]): Promise<never> {
    try {
      const first = call[0];
      const blocking = this.#required<BlockingPart>('blocking');
      if (isTaskRef(first)) return taskWait(blocking.spawnBlocking(first, call.slice(1), undefined)) as Promise<never>;
      const options = optionsOfCall<SpawnBlockingOptions>(call, 'rt.spawnBlocking');
      return taskWait(blocking.spawnBlocking(call[1] as TaskRef, call.slice(2), options.signal)) as Promise<never>;
    } catch (err) {
      return failedFor(err);
    }
  }

  blockOn<const A extends readonly unknown[], R>(ref: TaskRef<A, R>, ...args: A): Awaited<R>;
  blockOn<const A extends readonly unknown[], R>(options: BlockOnOptions, ref: TaskRef<A, R>, ...args: A): Awaited<R>;
  blockOn(first: TaskRef | BlockOnOptions, ...rest: unknown[]): unknown {
    return this.#required<BlockingPart>('blocking').blockOn(first, rest);
  }

  /**
   * `rt.remote`, on runtimes built with `.distributed(...)`. The distributed client (and
   * BullMQ) is imported on the first call; the `remote` part closes it at shutdown.
   */
  get remote(): RemoteTasks {
    const part = this.part<RemotePart>('remote');
    if (part === undefined) throw new NotImplementedError('rt.remote without .distributed(...) in the config');
    return part.tasks;
  }

  metrics(): RuntimeMetrics {
    const out: Record<string, unknown> = { tasks: this.#executor.metrics() };
    for (const part of this.#parts) {
      const section = part.metrics?.();
      if (section !== undefined) out[part.name] = section;
    }
    return out as RuntimeMetrics;
  }

  shutdown(options?: ShutdownOptions): Promise<void> {
    this.#shutdown ??= this.#doShutdown(options?.timeoutMs ?? 5000, options?.force ?? false);
    return this.#shutdown;
  }

  async #doShutdown(timeoutMs: number, force: boolean): Promise<void> {
    const executor = this.#executor;
    executor.close();
    if (executor.alive > 0) {
      await bounded(executor.whenIdle(), timeoutMs);
      if (executor.alive > 0) {
        executor.abortAll(new RuntimeClosedError(`runtime shut down before the task finished (waited ${timeoutMs} ms)`));
      }
    }
    this.#controller.abort(new RuntimeClosedError('runtime shut down'));
    await stopParts(this.#parts, timeoutMs, force);
    this.#stopped = true;
  }

  onSignal(signals: NodeJS.Signals | readonly NodeJS.Signals[], handler: SignalHandler | 'shutdown', options?: OnSignalOptions): SignalSubscription {
    return this.#required<SignalsPart>('signals').install(signals, handler, options);
  }

  async console(options?: ConsoleOptions): Promise<RuntimeConsole> {
    // Loaded on first use: a runtime that never opens a console never loads its code.
    return this.#required<ConsolePart>('console').open(this, this.#executor, options);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}

/**
 * Builds a runtime from a config object, with the same rules as {@link RuntimeBuilder}.
 *
 * Literal values that break a rule do not compile; values known only at run time are
 * checked here.
 *
 * @example
 * ```ts
 * import { createRuntime } from 'zokio';
 * const rt = createRuntime({ workers: 2, queueCapacity: 256 });
 * console.log(rt.report.flavor); // 'multi_thread'
 * await rt.shutdown();
 * ```
 * @throws ConfigError (code `ZOKIO_ERR_CONFIG`) naming the field and its rule.
 */
export function createRuntime<
  const W extends number | 'auto' | undefined = undefined,
  const Q extends number = 256,
  const S extends string = 'local_first',
  const B extends number = 1,
  const R extends number = 1,
  const I extends string = 'auto',
  const M extends string = 'pooled',
  const E extends string = 'none',
  const P extends number = 1,
  const L extends WorkerResourceLimits = {},
  const X extends number = 1,
  const H extends HttpClientConfig = {},
>(config?: {
  readonly workers?: CheckWorkers<W>;
  readonly queueCapacity?: CheckQueueCapacity<Q>;
  readonly strategy?: CheckStrategy<S>;
  readonly workStealing?: boolean;
  readonly blockingThreads?: CheckBlockingThreads<B>;
  readonly timer?: { readonly resolutionMs?: CheckResolution<R> };
  readonly io?: CheckIo<I>;
  readonly memory?: { readonly strategy?: CheckMemoryStrategy<M> };
  readonly tracing?: { readonly exporter?: CheckExporter<E>; readonly path?: string; readonly sampleRatio?: CheckSampleRatio<P>; readonly serviceName?: string };
  readonly resourceLimits?: CheckResourceLimits<L>;
  readonly maxQueue?: CheckMaxQueue<X>;
  readonly queueFull?: 'wait' | 'reject';
  readonly forceAbort?: boolean;
  readonly http?: CheckHttp<H>;
}): Runtime<undefined extends W ? {} : {
  /** The configured worker count, as the literal that was passed. */
  readonly workers: W;
}> {
  return new ZokioRuntime(resolveConfig((config ?? {}) as RuntimeConfig)) as never;
}
