/**
 * The typed config builder. Each method checks its literal argument against the rule in
 * `RULES` at compile time and records it in the builder's type parameter, so `build()`
 * returns a runtime whose type shows exactly what was configured.
 */
import {
  resolveConfig,
  type CheckBlockingThreads,
  type CheckExporter,
  type CheckHttpInt,
  type HttpClientConfig,
  type CheckIo,
  type CheckMaxQueue,
  type CheckMegabytes,
  type CheckMemoryStrategy,
  type CheckQueueCapacity,
  type CheckResolution,
  type CheckSampleRatio,
  type CheckStrategy,
  type CheckWorkers,
  type RuntimeConfig,
  type TracingConfig,
  type WorkerResourceLimits,
} from './config.js';
import { ZokioRuntime, type Runtime } from './runtime.js';
import type { DistributedConfig } from '../distributed/options.js';

/** Replaces field `K` of `C` with `V`. */
type With<C, K extends keyof RuntimeConfig, V> = Omit<C, K> & { readonly [P in K]: V };


/**
 * Builds a {@link Runtime} step by step. Start from `Runtime.builder()`.
 *
 * @example
 * ```ts
 * import { Runtime } from 'zokio';
 * const rt = Runtime.builder().workers(2).queueCapacity(256).strategy('local_first').build();
 * console.log(rt.describe());
 * await rt.shutdown();
 * ```
 */
export class RuntimeBuilder<C extends object = {}> {
  readonly #config: RuntimeConfig;

  /** @internal Use `Runtime.builder()`. */
  constructor(config: RuntimeConfig = {}) {
    this.#config = config;
  }

  #with<K extends keyof RuntimeConfig, V>(key: K, value: V): RuntimeBuilder<With<C, K, V>> {
    return new RuntimeBuilder<With<C, K, V>>({ ...this.#config, [key]: value });
  }

  /** Worker threads of the work-stealing pool: an integer 1..1024 or `'auto'` (one per core). Enables `exec`, `map`, `spawnBlocking`, `blockOn`. */
  workers<const N extends number | 'auto'>(count: CheckWorkers<N>): RuntimeBuilder<With<C, 'workers', N>> {
    return this.#with('workers', count as N);
  }

  /** Capacity of each worker's deque: a power of two 16..65536. @default 256 */
  queueCapacity<const N extends number>(capacity: CheckQueueCapacity<N>): RuntimeBuilder<With<C, 'queueCapacity', N>> {
    return this.#with('queueCapacity', capacity as N);
  }

  /** Where new pool tasks are queued. @default 'local_first' */
  strategy<const S extends string>(strategy: CheckStrategy<S>): RuntimeBuilder<With<C, 'strategy', S>> {
    return this.#with('strategy', strategy as S);
  }

  /** Whether idle workers steal from busy ones. @default true */
  workStealing<const B extends boolean>(enabled: B): RuntimeBuilder<With<C, 'workStealing', B>> {
    return this.#with('workStealing', enabled);
  }

  /** Threads of the blocking pool: an integer 1..1024. @default 1 */
  blockingThreads<const N extends number>(count: CheckBlockingThreads<N>): RuntimeBuilder<With<C, 'blockingThreads', N>> {
    return this.#with('blockingThreads', count as N);
  }

  /**
   * Worker-pool tasks (`exec`) that may wait for a worker beyond one running per worker: an
   * integer >= 1. Past it `exec` waits for room (`onFull: 'wait'`, the default) or rejects
   * with `QueueFullError` (`'reject'`); `rt.exec({ onFull }, ...)` decides per call.
   * @default no limit
   */
  maxQueue<const N extends number>(limit: CheckMaxQueue<N>, options?: { readonly onFull?: 'wait' | 'reject' }): RuntimeBuilder<With<C, 'maxQueue', N>> {
    const next = this.#with('maxQueue', limit as N);
    return options?.onFull === undefined ? next : new RuntimeBuilder<With<C, 'maxQueue', N>>({ ...next.#config, queueFull: options.onFull });
  }

  /** Whether `rt.exec({ signal })` terminates the worker of a running task when its signal fires (`ExecOptions.force`). @default false */
  forceAbort(enabled: boolean): RuntimeBuilder<C> {
    return new RuntimeBuilder<C>({ ...this.#config, forceAbort: enabled });
  }

  /** Timer wheel options; `resolutionMs` must be an integer >= 1. */
  timer<const R extends number>(options: { readonly resolutionMs?: CheckResolution<R> }): RuntimeBuilder<With<C, 'timer', {
    /** The wheel granularity in ms, as the literal that was passed. */
    readonly resolutionMs: R;
  }>> {
    return this.#with('timer', options as { readonly resolutionMs: R });
  }

  /** I/O backend: `'auto'`, `'node'` or `'memory'`. @default 'auto' */
  io<const S extends string>(backend: CheckIo<S>): RuntimeBuilder<With<C, 'io', S>> {
    return this.#with('io', backend as S);
  }

  /** Memory options; `strategy` is `'pooled'` or `'heap'`. */
  memory<const S extends string>(options: { readonly strategy?: CheckMemoryStrategy<S> }): RuntimeBuilder<With<C, 'memory', {
    /** The memory strategy, as the literal that was passed. */
    readonly strategy: S;
  }>> {
    return this.#with('memory', options as { readonly strategy: S });
  }

  /** Tracing options: exporter, output path or URL, sample ratio, `service.name`. */
  tracing<const E extends string, const R extends number>(options: {
    readonly exporter?: CheckExporter<E>;
    readonly path?: string;
    readonly serviceName?: string;
    readonly sampleRatio?: CheckSampleRatio<R>;
  }): RuntimeBuilder<With<C, 'tracing', {
    /** The exporter, as the literal that was passed. */
    readonly exporter: E;
    /** The sample ratio, as the literal that was passed. */
    readonly sampleRatio: R;
  }>> {
    return this.#with('tracing', options as TracingConfig as { readonly exporter: E; readonly sampleRatio: R });
  }

  /**
   * Heap and stack limits of every worker thread the runtime starts, in MB (Node's
   * `resourceLimits`): a worker that reaches one is terminated, its running task fails with
   * `WorkerCrashedError`, and a replacement starts. Each field a number > 0.
   */
  resourceLimits<const O extends number, const Y extends number, const S extends number>(limits: {
    readonly maxOldGenerationSizeMb?: CheckMegabytes<O>;
    readonly maxYoungGenerationSizeMb?: CheckMegabytes<Y>;
    readonly stackSizeMb?: CheckMegabytes<S>;
  }): RuntimeBuilder<C> {
    return new RuntimeBuilder<C>({ ...this.#config, resourceLimits: limits as WorkerResourceLimits });
  }

  /**
   * Connection pools of the HTTP client (`request`, `fetch`, `events` in `zokio/http`):
   * per origin, `connections` sockets with `pipelining` requests each, idle sockets kept
   * `keepAliveTimeoutMs`, new ones given `connectTimeoutMs`. Each field an integer >= 1.
   */
  http<const N extends number, const P extends number, const K extends number, const T extends number>(options: {
    readonly connections?: CheckHttpInt<N>;
    readonly pipelining?: CheckHttpInt<P>;
    readonly keepAliveTimeoutMs?: CheckHttpInt<K>;
    readonly connectTimeoutMs?: CheckHttpInt<T>;
  }): RuntimeBuilder<C> {
    return new RuntimeBuilder<C>({ ...this.#config, http: options as HttpClientConfig });
  }

  /**
   * Runs tasks on other machines through BullMQ on Redis: adds `rt.remote.exec` and
   * `rt.remote.map` to the runtime (and to its type). Worker machines run
   * `serveTasks([tasks], { connection, queue })` from `zokio/distributed`. Calls are
   * at-least-once. BullMQ is imported on the first call, not here.
   */
  distributed(options: DistributedConfig): RuntimeBuilder<With<C, 'distributed', {
    /** The engine, as configured. */
    readonly engine: 'bullmq';
  }>> {
    return this.#with('distributed', options as DistributedConfig & { readonly engine: 'bullmq' });
  }

  /**
   * Checks the config and builds the runtime. Workers start lazily, on the first `exec`.
   * @throws ConfigError (code `ZOKIO_ERR_CONFIG`) naming the field and its rule, for values
   * the compiler could not check.
   */
  build(): Runtime<C> {
    return new ZokioRuntime(resolveConfig(this.#config)) as unknown as Runtime<C>;
  }
}
