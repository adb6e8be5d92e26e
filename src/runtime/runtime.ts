/**
 * `Runtime<C>`: composes the parts a config chose and holds them in private fields.
 *
 * The public type follows the config: `Runtime<C>` has `exec`, `map`, `spawnBlocking` and
 * `blockOn` only when `C` sets `workers`. One implementation class serves every flavor;
 * the builder and `createRuntime` return it under the type the config earns.
 */
import { NotImplementedError, RuntimeClosedError } from '../errors.js';
import { blockOnWith, spawnBlockingOn } from '../scheduler/blocking/index.js';
import { LocalExecutor, type LocalTaskMetrics } from '../scheduler/local-executor.js';
import { createWorkerPool } from '../scheduler/pool/worker-pool.js';
import { ScopeImpl, type Scope, type ScopeOptions } from '../scheduler/scope.js';
import type { SpawnOptions, Task, TaskBody } from '../scheduler/task.js';
import type { TaskRef } from '../scheduler/task-ref.js';
import type { SendableArgs } from '../scheduler/task-registry.js';
import {
  resolveConfig,
  type CheckBlockingThreads,
  type CheckExporter,
  type CheckIo,
  type CheckMemoryStrategy,
  type CheckQueueCapacity,
  type CheckResourceLimits,
  type CheckResolution,
  type CheckSampleRatio,
  type CheckStrategy,
  type CheckWorkers,
  type ResolvedConfig,
  type RuntimeConfig,
  type WorkerResourceLimits,
} from './config.js';
import { clearDefaultRuntime, contextStorage, setDefaultRuntimeFactory, type ContextStore } from './context.js';
import { detectPlatform } from './platform.js';
import { buildReport, describeReport, type RuntimeReport } from './report.js';
import { installSignalHandler, type OnSignalOptions, type SignalHandler, type SignalSubscription } from '../io/signals.js';
import type { ConsoleOptions, RuntimeConsole } from '../console/options.js';

/** True when a config turns the work-stealing pool on. */
export type HasWorkers<C> = C extends {
  /** The `workers` setting that turns the pool on. */
  readonly workers: number | 'auto';
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
}

/** Options for `rt.map`. */
export interface MapOptions<R> {
  /** Inputs per batch submitted to the pool. @default chosen from the input count and worker count */
  readonly chunkSize?: number;
  /** Called after each finished batch with the number of inputs done so far. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Aborts the map: queued batches are dropped and the promise rejects with the reason. */
  readonly signal?: AbortSignal;
  /** @internal Keeps `R` in the signature for callers that annotate it. */
  readonly __result?: R;
}

/** Options for `rt.exec(options, ref, ...args)`. */
export interface ExecOptions {
  /** Aborts the task: removed if still queued, signalled through `currentTaskSignal()` if running. */
  readonly signal?: AbortSignal;
}

/** Options for `rt.blockOn(options, ref, ...args)`. */
export interface BlockOnOptions {
  /**
   * Throw `TimeoutError` instead of waiting longer than this, in ms. A task that had not
   * started by then never runs; one that had keeps running and its result is dropped.
   * @default Infinity
   */
  readonly timeoutMs?: number;
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
   * *Cancellation*: none once started (synchronous code on another thread cannot be
   * interrupted); `rt.shutdown()` rejects pending calls with `RuntimeClosedError` and
   * terminates the threads.
   */
  spawnBlocking<const A extends readonly unknown[], R>(ref: TaskRef<A, R>, ...args: A): Promise<Awaited<R>>;
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
export type Runtime<C extends object = RuntimeConfig> = HasWorkers<C> extends true ? RuntimeBase<C> & ParallelMembers : RuntimeBase<C>;

/** @internal The engine behind the parallel members; the work-stealing pool provides it. */
export interface ParallelEngine {
  exec(ref: TaskRef, args: readonly unknown[]): Promise<unknown>;
  execWithSignal(ref: TaskRef, args: readonly unknown[], signal: AbortSignal | undefined): Promise<unknown>;
  map(ref: TaskRef, inputs: Iterable<unknown>, options: MapOptions<unknown> | undefined): Promise<unknown[]>;
  spawnBlocking(ref: TaskRef, args: readonly unknown[]): Promise<unknown>;
  blockOn(ref: TaskRef, args: readonly unknown[], options: BlockOnOptions | undefined): unknown;
  metrics(): Record<string, unknown>;
  shutdown(timeoutMs: number): Promise<void>;
}

function isTaskRef(value: unknown): value is TaskRef {
  return typeof value === 'object' && value !== null && typeof (value as TaskRef).module === 'string' && typeof (value as TaskRef).name === 'string';
}

/** @internal A function that builds the parallel engine for a runtime (set by the pool module). */
export type ParallelEngineFactory = (config: ResolvedConfig, runtime: ZokioRuntime) => ParallelEngine;

let parallelFactory: ParallelEngineFactory | undefined;

/** @internal Registers the work-stealing pool implementation. */
export function setParallelEngineFactory(factory: ParallelEngineFactory): void {
  parallelFactory = factory;
}

/** @internal A part of the runtime that reports metrics and stops at shutdown. */
export interface RuntimePart {
  readonly name: string;
  metrics?(): unknown;
  shutdown?(): void | Promise<void>;
}

let partFactories: Array<(runtime: ZokioRuntime) => RuntimePart | undefined> = [];

/** @internal Registers a part every new runtime gets (timers, tracing, I/O, ...). */
export function registerRuntimePart(factory: (runtime: ZokioRuntime) => RuntimePart | undefined): void {
  partFactories = [...partFactories, factory];
}

/** @internal The one implementation behind every `Runtime<C>` type. */
export class ZokioRuntime implements RuntimeBase, ParallelMembers {
  readonly config: ResolvedConfig;
  readonly report: RuntimeReport<never>;
  readonly #executor: LocalExecutor;
  readonly #controller = new AbortController();
  readonly #runContext: RunContext;
  readonly #parts = new Map<string, RuntimePart>();
  #parallel: ParallelEngine | undefined;
  #shutdown: Promise<void> | undefined;

  constructor(config: ResolvedConfig) {
    this.config = config;
    this.report = buildReport(config, detectPlatform()) as RuntimeReport<never>;
    this.#executor = new LocalExecutor();
    this.#runContext = { runtime: this, task: undefined, span: undefined, signal: this.#controller.signal };
    for (const factory of partFactories) {
      const part = factory(this);
      if (part !== undefined) this.#parts.set(part.name, part);
    }
  }

  /** @internal A part by name (`timers`, `tracing`, `io`, ...). */
  part<P extends RuntimePart>(name: string): P | undefined {
    return this.#parts.get(name) as P | undefined;
  }

  /** @internal Adds a part after construction (lazily created parts). */
  addPart(part: RuntimePart): void {
    this.#parts.set(part.name, part);
  }

  /** @internal Aborted when the runtime shuts down. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** True once `shutdown()` has been called. */
  get closed(): boolean {
    return this.#shutdown !== undefined;
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
    if (this.config.flavor !== 'multi_thread') throw new NotImplementedError('worker tasks on a current-thread runtime');
    if (this.#parallel === undefined) {
      if (parallelFactory === undefined) throw new NotImplementedError('the work-stealing pool');
      this.#parallel = parallelFactory(this.config, this);
    }
    return this.#parallel;
  }

  exec(...call: readonly unknown[]): Promise<never> {
    try {
      const first = call[0];
      if (isTaskRef(first)) return this.#engine().exec(first, call.slice(1)) as Promise<never>;
      const options = first as ExecOptions | undefined;
      if (typeof options !== 'object' || options === null || !isTaskRef(call[1])) {
        throw new TypeError('rt.exec: expected (ref, ...args) or (options, ref, ...args), where ref comes from defineTasks');
      }
      return this.#engine().execWithSignal(call[1], call.slice(2), options.signal) as Promise<never>;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  map<I, R>(ref: TaskRef<readonly [I], R> | TaskRef<[I], R>, inputs: Iterable<I>, options?: MapOptions<Awaited<R>>): Promise<Awaited<R>[]> {
    try {
      return this.#engine().map(ref as TaskRef, inputs, options as MapOptions<unknown>) as Promise<Awaited<R>[]>;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  spawnBlocking<const A extends readonly unknown[], R>(ref: TaskRef<A, R>, ...args: A): Promise<Awaited<R>> {
    return spawnBlockingOn(this, ref as TaskRef, args) as Promise<Awaited<R>>;
  }

  blockOn<const A extends readonly unknown[], R>(ref: TaskRef<A, R>, ...args: A): Awaited<R>;
  blockOn<const A extends readonly unknown[], R>(options: BlockOnOptions, ref: TaskRef<A, R>, ...args: A): Awaited<R>;
  blockOn(first: TaskRef | BlockOnOptions, ...rest: unknown[]): unknown {
    return blockOnWith(this, first, rest);
  }

  metrics(): RuntimeMetrics {
    const out: Record<string, unknown> = { tasks: this.#executor.metrics() };
    if (this.#parallel !== undefined) Object.assign(out, this.#parallel.metrics());
    for (const part of this.#parts.values()) {
      if (part.metrics !== undefined) out[part.name] = part.metrics();
    }
    return out as RuntimeMetrics;
  }

  shutdown(options?: ShutdownOptions): Promise<void> {
    this.#shutdown ??= this.#doShutdown(options?.timeoutMs ?? 5000);
    return this.#shutdown;
  }

  async #doShutdown(timeoutMs: number): Promise<void> {
    const executor = this.#executor;
    executor.close();
    if (executor.alive > 0) {
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, timeoutMs))));
      await Promise.race([executor.whenIdle(), expired]);
      clearTimeout(timer);
      if (executor.alive > 0) {
        executor.abortAll(new RuntimeClosedError(`runtime shut down before the task finished (waited ${timeoutMs} ms)`));
      }
    }
    this.#controller.abort(new RuntimeClosedError('runtime shut down'));
    if (this.#parallel !== undefined) await this.#parallel.shutdown(timeoutMs);
    for (const part of this.#parts.values()) await part.shutdown?.();
    clearDefaultRuntime(this);
  }

  onSignal(signals: NodeJS.Signals | readonly NodeJS.Signals[], handler: SignalHandler | 'shutdown', options?: OnSignalOptions): SignalSubscription {
    return installSignalHandler(this, signals, handler, options);
  }

  async console(options?: ConsoleOptions): Promise<RuntimeConsole> {
    // Loaded on first use: a runtime that never opens a console never loads its code.
    const { startConsole } = await import('../console/server.js');
    return startConsole(this, this.#executor, options);
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
>(config?: {
  readonly workers?: CheckWorkers<W>;
  readonly queueCapacity?: CheckQueueCapacity<Q>;
  readonly strategy?: CheckStrategy<S>;
  readonly workStealing?: boolean;
  readonly blockingThreads?: CheckBlockingThreads<B>;
  readonly timer?: { readonly resolutionMs?: CheckResolution<R> };
  readonly io?: CheckIo<I>;
  readonly memory?: { readonly strategy?: CheckMemoryStrategy<M> };
  readonly tracing?: { readonly exporter?: CheckExporter<E>; readonly path?: string; readonly sampleRatio?: CheckSampleRatio<P> };
  readonly resourceLimits?: CheckResourceLimits<L>;
}): Runtime<undefined extends W ? {} : {
  /** The configured worker count, as the literal that was passed. */
  readonly workers: W;
}> {
  return new ZokioRuntime(resolveConfig((config ?? {}) as RuntimeConfig)) as never;
}

setDefaultRuntimeFactory(() => new ZokioRuntime(resolveConfig({})));
setParallelEngineFactory(createWorkerPool);
