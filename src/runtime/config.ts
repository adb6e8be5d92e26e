/**
 * Runtime configuration in three pieces (STYLE.md §4): the readonly input type where every
 * field is optional ({@link RuntimeConfig}), the resolved type where every field is set
 * ({@link ResolvedConfig}), and one frozen defaults object ({@link DEFAULTS}).
 *
 * Each rule is written once, in {@link RULES}. The type-level checks use the rule text as
 * the parameter type of an invalid literal, so the compiler's message quotes it; the
 * run-time checks throw `ConfigError` with the same text. That is how the compile-time
 * and run-time checks state the same rule in the same words.
 *
 * @module
 */
import { availableParallelism } from 'node:os';
import { ConfigError } from '../errors.js';
import { checkDistributedConfig, type DistributedConfig } from '../distributed/options.js';

/** The rules every config field must follow, worded once for the compiler and for `build()`. */
export const RULES = {
  /** The rule of {@link RuntimeConfig.workers} (`.workers(n)`). */
  workers: "workers must be an integer from 1 to 1024 or 'auto'",
  /** The rule of {@link RuntimeConfig.queueCapacity} (`.queueCapacity(n)`). */
  queueCapacity: 'queueCapacity must be a power of two from 16 to 65536',
  /** The rule of {@link RuntimeConfig.strategy} (`.strategy(s)`). */
  strategy: "strategy must be 'local_first', 'global_first' or 'round_robin'",
  /** The rule of {@link RuntimeConfig.workStealing} (`.workStealing(b)`). */
  workStealing: 'workStealing must be true or false',
  /** The rule of {@link RuntimeConfig.blockingThreads} (`.blockingThreads(n)`). */
  blockingThreads: 'blockingThreads must be an integer from 1 to 1024',
  /** The rule of {@link RuntimeConfig.maxQueue} (`.maxQueue(n)`). */
  maxQueue: 'maxQueue must be an integer >= 1',
  /** The rule of {@link RuntimeConfig.queueFull}. */
  queueFull: "queueFull must be 'wait' or 'reject'",
  /** The rule of {@link TimerConfig.resolutionMs} (`.timer({ resolutionMs })`). */
  timerResolution: 'timer.resolutionMs must be an integer >= 1',
  /** The rule of {@link RuntimeConfig.io} (`.io(backend)`). */
  io: "io must be 'auto', 'node' or 'memory'",
  /** The rule of {@link MemoryConfig.strategy} (`.memory({ strategy })`). */
  memoryStrategy: "memory.strategy must be 'pooled' or 'heap'",
  /** The rule of {@link TracingConfig.exporter} (`.tracing({ exporter })`). */
  tracingExporter: "tracing.exporter must be 'none', 'console', 'jsonl', 'chrome' or 'otlp'",
  /** The rule of {@link TracingConfig.sampleRatio} (`.tracing({ sampleRatio })`). */
  sampleRatio: 'tracing.sampleRatio must be a number from 0 to 1',
  /** The rule of {@link TracingConfig.path} (`.tracing({ path })`); checked by `build()` only. */
  tracingPath: 'tracing.path must be a non-empty string',
  /** The rule of {@link TracingConfig.serviceName} (`.tracing({ serviceName })`); checked by `build()` only. */
  tracingServiceName: 'tracing.serviceName must be a non-empty string',
  /** The rule of every field of {@link WorkerResourceLimits} (`.resourceLimits({ ... })`). */
  resourceLimits: 'resourceLimits fields must be numbers greater than 0 (megabytes)',
  /** The rule of every field of {@link HttpClientConfig} (`.http({ ... })`). */
  http: 'http fields must be integers >= 1',
} as const;

/** How a new task picks its queue on the work-stealing pool. */
export type Strategy = 'local_first' | 'global_first' | 'round_robin';
/** Which I/O backend serves `zokio/fs` and `zokio/net`. */
export type IoBackendName = 'auto' | 'node' | 'memory';
/** Whether task records and buffers come from pools or from the heap. */
export type MemoryStrategy = 'pooled' | 'heap';
/** Where finished spans go. */
export type TracingExporterName = 'none' | 'console' | 'jsonl' | 'chrome' | 'otlp';

/** Timer options. */
export interface TimerConfig {
  /**
   * Granularity of the timer wheel in milliseconds; deadlines are rounded up to it.
   * @default 1
   */
  readonly resolutionMs?: number;
}

/**
 * Heap and stack limits of every worker thread the runtime starts (the work-stealing pool's
 * and the blocking pool's), passed to Node's `new Worker(..., { resourceLimits })`. A
 * worker that reaches one is terminated by Node: its running task fails with
 * `WorkerCrashedError`, as for any other crash, and a replacement starts. Unset fields
 * keep Node's defaults.
 */
export interface WorkerResourceLimits {
  /** Largest size of the main (old-generation) heap, in MB. */
  readonly maxOldGenerationSizeMb?: number;
  /** Largest size of the heap space for recently created objects, in MB. */
  readonly maxYoungGenerationSizeMb?: number;
  /** Stack size of the thread, in MB. */
  readonly stackSizeMb?: number;
}

/** Memory options. */
export interface MemoryConfig {
  /**
   * Where the work-stealing pool puts task payloads too long for a record's inline area
   * (112 bytes): `pooled` in blocks of a shared slab arena (`pool.payloads` in
   * `rt.metrics().memory`), `heap` in a `SharedArrayBuffer` of their own per payload,
   * garbage-collected once read. Task records themselves are blocks of a `SharedSlab` in
   * the pool's shared memory either way (`pool.records`).
   * @default 'pooled'
   */
  readonly strategy?: MemoryStrategy;
}

/** Tracing options. */
export interface TracingConfig {
  /**
   * Where finished spans go; `none` turns tracing off.
   * @default 'none'
   */
  readonly exporter?: TracingExporterName;
  /**
   * File path for the `jsonl` and `chrome` exporters; for `otlp` the collector URL
   * (`http:`/`https:`) or a file path (one JSON request body per line).
   */
  readonly path?: string;
  /**
   * `service.name` of the spans' resource (the `otlp` exporter).
   * @default 'zokio'
   */
  readonly serviceName?: string;
  /**
   * Fraction of root traces recorded, 0..1.
   * @default 1
   */
  readonly sampleRatio?: number;
}

/** Options of the HTTP client's per-origin connection pools (`request`, `fetch`, `events` in `zokio/http`). */
export interface HttpClientConfig {
  /**
   * Connections per origin (scheme, host and port); requests beyond them wait for one.
   * @default 256
   */
  readonly connections?: number;
  /**
   * Requests sent on one connection before the previous answers arrived (HTTP/1.1
   * pipelining); 1 sends one at a time.
   * @default 1
   */
  readonly pipelining?: number;
  /**
   * How long an idle connection stays in the pool, in ms (shorter when the server's
   * `keep-alive: timeout` says so).
   * @default 4000
   */
  readonly keepAliveTimeoutMs?: number;
  /**
   * Time a new connection (TCP and TLS handshake) may take, in ms.
   * @default 10000
   */
  readonly connectTimeoutMs?: number;
}

/** Everything a runtime can be configured with; every field is optional. */
export interface RuntimeConfig {
  /** Worker threads of the work-stealing pool, or `'auto'` for one per core. Absent: current-thread runtime. */
  readonly workers?: number | 'auto';
  /**
   * Capacity of each worker's deque (power of two).
   * @default 256
   */
  readonly queueCapacity?: number;
  /**
   * Where new pool tasks are queued.
   * @default 'local_first'
   */
  readonly strategy?: Strategy;
  /**
   * Whether idle workers steal from busy ones.
   * @default true
   */
  readonly workStealing?: boolean;
  /**
   * Threads of the blocking pool used by `spawnBlocking` and `blockOn`.
   * @default 1
   */
  readonly blockingThreads?: number;
  /**
   * Worker-pool tasks (`exec`) that may wait for a worker, beyond one running per worker;
   * past it `exec` waits for room or rejects (`queueFull`).
   * @default no limit
   */
  readonly maxQueue?: number;
  /** What `exec` does past `maxQueue`: wait for room, or reject with `QueueFullError`. @default 'wait' */
  readonly queueFull?: 'wait' | 'reject';
  /** Whether `exec({ signal })` terminates the worker of a running task when the signal fires (see `ExecOptions.force`). @default false */
  readonly forceAbort?: boolean;
  /** Timer wheel options. */
  readonly timer?: TimerConfig;
  /**
   * I/O backend.
   * @default 'auto'
   */
  readonly io?: IoBackendName;
  /** Memory options. */
  readonly memory?: MemoryConfig;
  /** Tracing options. */
  readonly tracing?: TracingConfig;
  /** Heap and stack limits of the runtime's worker threads; Node's defaults when unset. */
  readonly resourceLimits?: WorkerResourceLimits;
  /** Connection pools of the HTTP client. */
  readonly http?: HttpClientConfig;
  /** Remote task calls through BullMQ on Redis (`rt.remote`); absent: no `rt.remote`. */
  readonly distributed?: DistributedConfig;
}

/** A config with every field resolved to a concrete value. */
export interface ResolvedConfig {
  /** `multi_thread` when `workers` was set (the runtime has a work-stealing pool), `current_thread` otherwise. */
  readonly flavor: 'current_thread' | 'multi_thread';
  /** Worker threads of the pool, with `'auto'` resolved to the core count (at most 1024); 0 on a current-thread runtime. */
  readonly workers: number;
  /** Capacity of each worker's deque, in tasks (a power of two). */
  readonly queueCapacity: number;
  /** Where new pool tasks are queued. */
  readonly strategy: Strategy;
  /** Whether idle workers steal from busy ones. */
  readonly workStealing: boolean;
  /** Maximum threads of the blocking pool (started lazily). */
  readonly blockingThreads: number;
  /** Worker-pool tasks that may wait beyond one per worker (`Infinity`: no limit). */
  readonly maxQueue: number;
  /** What `exec` does past `maxQueue`. */
  readonly queueFull: 'wait' | 'reject';
  /** Default of `ExecOptions.force`. */
  readonly forceAbort: boolean;
  /** Resolved timer options. */
  readonly timer: {
    /** Granularity of the timer wheel, in milliseconds. */
    readonly resolutionMs: number;
  };
  /** The requested I/O backend, as configured (`'auto'` is resolved by the I/O driver at `build()`). */
  readonly io: IoBackendName;
  /** Resolved memory options. */
  readonly memory: {
    /** `pooled` (shared slab for task records) or `heap`. */
    readonly strategy: MemoryStrategy;
  };
  /** Resolved tracing options. */
  readonly tracing: {
    /** Where finished spans go; `none` when tracing is off. */
    readonly exporter: TracingExporterName;
    /** Output file (`jsonl`, `chrome`) or collector URL (`otlp`); undefined when not set. */
    readonly path: string | undefined;
    /** Fraction of root traces recorded, 0..1. */
    readonly sampleRatio: number;
    /** `service.name` of the spans' resource; undefined when not set (`zokio`). */
    readonly serviceName?: string | undefined;
  };
  /** Limits of the runtime's worker threads: only the fields that were set. */
  readonly resourceLimits: WorkerResourceLimits;
  /** Resolved HTTP client pool options. */
  readonly http: Required<HttpClientConfig>;
  /** The distributed options, checked; undefined when `rt.remote` is not configured. */
  readonly distributed: DistributedConfig | undefined;
}

/** The defaults every unset field takes. */
export const DEFAULTS = Object.freeze({
  /** Deque capacity per worker: 256 tasks. */
  queueCapacity: 256,
  /** New pool tasks go to the spawning worker's own deque first. */
  strategy: 'local_first' as Strategy,
  /** Idle workers steal. */
  workStealing: true,
  /** One blocking thread. */
  blockingThreads: 1,
  /** Timer defaults. */
  timer: Object.freeze({
    /** 1 ms wheel granularity. */
    resolutionMs: 1,
  }),
  /** `auto`: the `node` backend when libuv is reachable, else `memory`. */
  io: 'auto' as IoBackendName,
  /** Memory defaults. */
  memory: Object.freeze({
    /** Pooled task records. */
    strategy: 'pooled' as MemoryStrategy,
  }),
  /** Tracing defaults. */
  tracing: Object.freeze({
    /** Tracing off. */
    exporter: 'none' as TracingExporterName,
    /** No output path. */
    path: undefined,
    /** Record every root trace (when an exporter is set). */
    sampleRatio: 1,
  }),
  /** HTTP client pool defaults. */
  http: Object.freeze({
    /** 256 connections per origin. */
    connections: 256,
    /** One request at a time per connection. */
    pipelining: 1,
    /** Idle connections kept 4 s. */
    keepAliveTimeoutMs: 4000,
    /** 10 s to connect. */
    connectTimeoutMs: 10_000,
  }),
});

// ---------------------------------------------------------------------------------------
// Type-level rules. An invalid literal turns the parameter type into the rule's text, so
// the compiler says: Argument of type '0' is not assignable to parameter of type
// '"workers must be an integer from 1 to 1024 or 'auto'"'. Wide types (`number`, `string`)
// pass and are checked by build().
// ---------------------------------------------------------------------------------------

type Digit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9';
type NonZeroDigit = Exclude<Digit, '0'>;
/** Decimal spellings of the integers 1..1024. */
type IntIn1To1024 =
  | NonZeroDigit
  | `${NonZeroDigit}${Digit}`
  | `${NonZeroDigit}${Digit}${Digit}`
  | `10${'0' | '1'}${Digit}`
  | `102${'0' | '1' | '2' | '3' | '4'}`;
type PowerOfTwo16To65536 = 16 | 32 | 64 | 128 | 256 | 512 | 1024 | 2048 | 4096 | 8192 | 16384 | 32768 | 65536;

/** True when `T` is a wide type (number, string, boolean) rather than a literal. */
type IsWide<T> = number extends T ? true : string extends T ? true : boolean extends T ? true : false;

/** `T` when the rule holds (or `T` is only known at run time), the rule's text otherwise. */
type Rule<T, Ok extends boolean, Text extends string> = IsWide<T> extends true ? T : Ok extends true ? T : Text;

/** Checks a `workers` value against {@link RULES.workers}. */
export type CheckWorkers<N> = Rule<N, N extends 'auto' ? true : N extends number ? (`${N}` extends IntIn1To1024 ? true : false) : false, typeof RULES.workers>;
/** Checks a `queueCapacity` value against {@link RULES.queueCapacity}. */
export type CheckQueueCapacity<N> = Rule<N, N extends PowerOfTwo16To65536 ? true : false, typeof RULES.queueCapacity>;
/** Checks a `strategy` value against {@link RULES.strategy}. */
export type CheckStrategy<S> = Rule<S, S extends Strategy ? true : false, typeof RULES.strategy>;
/** Checks a `maxQueue` value against {@link RULES.maxQueue}. */
export type CheckMaxQueue<N> = Rule<N, N extends number ? (`${N}` extends `${NonZeroDigit}${string}` ? (`${N}` extends `${string}${'.' | 'e' | '-'}${string}` ? false : true) : false) : false, typeof RULES.maxQueue>;
/** Checks a `blockingThreads` value against {@link RULES.blockingThreads}. */
export type CheckBlockingThreads<N> = Rule<N, N extends number ? (`${N}` extends IntIn1To1024 ? true : false) : false, typeof RULES.blockingThreads>;
/** Checks `timer.resolutionMs` against {@link RULES.timerResolution}. */
export type CheckResolution<N> = Rule<N, N extends number ? (`${N}` extends `${NonZeroDigit}${string}` ? (`${N}` extends `${string}${'.' | 'e' | '-'}${string}` ? false : true) : false) : false, typeof RULES.timerResolution>;
/** Checks an `io` value against {@link RULES.io}. */
export type CheckIo<S> = Rule<S, S extends IoBackendName ? true : false, typeof RULES.io>;
/** Checks `memory.strategy` against {@link RULES.memoryStrategy}. */
export type CheckMemoryStrategy<S> = Rule<S, S extends MemoryStrategy ? true : false, typeof RULES.memoryStrategy>;
/** Checks `tracing.exporter` against {@link RULES.tracingExporter}. */
export type CheckExporter<S> = Rule<S, S extends TracingExporterName ? true : false, typeof RULES.tracingExporter>;
/** Checks `tracing.sampleRatio` against {@link RULES.sampleRatio}. */
export type CheckSampleRatio<N> = Rule<N, N extends number ? (`${N}` extends '0' | '1' | `0.${Digit}${string}` ? true : false) : false, typeof RULES.sampleRatio>;

/** Checks a `resourceLimits` field against {@link RULES.resourceLimits}. */
export type CheckMegabytes<N> = Rule<N, N extends number ? (`${N}` extends '0' | `-${string}` ? false : true) : false, typeof RULES.resourceLimits>;

/** Checks an `http` field against {@link RULES.http}. */
export type CheckHttpInt<N> = Rule<N, N extends number ? (`${N}` extends `${NonZeroDigit}${string}` ? (`${N}` extends `${string}${'.' | 'e' | '-'}${string}` ? false : true) : false) : false, typeof RULES.http>;
/** Checks an `http` config object field by field. */
export type CheckHttp<T> = { [K in keyof T]: K extends keyof HttpClientConfig ? CheckHttpInt<T[K]> : T[K] };

/** Checks a `resourceLimits` object field by field. */
export type CheckResourceLimits<T> = { [K in keyof T]: K extends keyof WorkerResourceLimits ? CheckMegabytes<T[K]> : T[K] };

/** Checks a timer config object field by field. */
export type CheckTimer<T> = { [K in keyof T]: K extends 'resolutionMs' ? CheckResolution<T[K]> : T[K] };
/** Checks a memory config object field by field. */
export type CheckMemory<T> = { [K in keyof T]: K extends 'strategy' ? CheckMemoryStrategy<T[K]> : T[K] };
/** Checks a tracing config object field by field. */
export type CheckTracing<T> = {
  [K in keyof T]: K extends 'exporter' ? CheckExporter<T[K]> : K extends 'sampleRatio' ? CheckSampleRatio<T[K]> : T[K];
};

/** Maps every field of a config object to itself when valid, or to its rule's text. */
export type CheckConfig<C> = {
  [K in keyof C]: K extends 'workers' ? CheckWorkers<C[K]>
    : K extends 'queueCapacity' ? CheckQueueCapacity<C[K]>
    : K extends 'strategy' ? CheckStrategy<C[K]>
    : K extends 'blockingThreads' ? CheckBlockingThreads<C[K]>
    : K extends 'maxQueue' ? CheckMaxQueue<C[K]>
    : K extends 'timer' ? CheckTimer<C[K]>
    : K extends 'io' ? CheckIo<C[K]>
    : K extends 'memory' ? CheckMemory<C[K]>
    : K extends 'tracing' ? CheckTracing<C[K]>
    : K extends 'resourceLimits' ? CheckResourceLimits<C[K]>
    : K extends 'http' ? CheckHttp<C[K]>
    : K extends keyof RuntimeConfig ? C[K]
    : never;
};

// ---------------------------------------------------------------------------------------
// Run-time rules: the same rules, for values the compiler could not see.
// ---------------------------------------------------------------------------------------

function isIntIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function isPowerOfTwoIn(value: unknown, min: number, max: number): value is number {
  return isIntIn(value, min, max) && (value & (value - 1)) === 0;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[]): value is T {
  return typeof value === 'string' && (allowed as readonly string[]).includes(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const KNOWN_FIELDS = new Set(['workers', 'queueCapacity', 'strategy', 'workStealing', 'blockingThreads', 'timer', 'io', 'memory', 'tracing', 'resourceLimits', 'maxQueue', 'queueFull', 'forceAbort', 'http', 'distributed']);
const LIMIT_FIELDS = ['maxOldGenerationSizeMb', 'maxYoungGenerationSizeMb', 'stackSizeMb'] as const;

/**
 * Checks a config against {@link RULES} and fills in {@link DEFAULTS}.
 * @throws ConfigError naming the first field that breaks its rule.
 */
export function resolveConfig(config: RuntimeConfig): ResolvedConfig {
  if (!isPlainObject(config)) throw new ConfigError('config', 'config must be an object', config);
  for (const key of Object.keys(config)) {
    if (!KNOWN_FIELDS.has(key)) throw new ConfigError(key, `unknown config field '${key}'`, (config as Record<string, unknown>)[key]);
  }
  const { workers, queueCapacity = DEFAULTS.queueCapacity, strategy = DEFAULTS.strategy } = config;
  const { workStealing = DEFAULTS.workStealing, blockingThreads = DEFAULTS.blockingThreads, io = DEFAULTS.io } = config;
  if (workers !== undefined && workers !== 'auto' && !isIntIn(workers, 1, 1024)) throw new ConfigError('workers', RULES.workers, workers);
  if (!isPowerOfTwoIn(queueCapacity, 16, 65536)) throw new ConfigError('queueCapacity', RULES.queueCapacity, queueCapacity);
  if (!oneOf(strategy, ['local_first', 'global_first', 'round_robin'])) throw new ConfigError('strategy', RULES.strategy, strategy);
  if (typeof workStealing !== 'boolean') throw new ConfigError('workStealing', RULES.workStealing, workStealing);
  if (!isIntIn(blockingThreads, 1, 1024)) throw new ConfigError('blockingThreads', RULES.blockingThreads, blockingThreads);
  const { maxQueue = Infinity, queueFull = 'wait', forceAbort = false } = config;
  if (maxQueue !== Infinity && !isIntIn(maxQueue, 1, Number.MAX_SAFE_INTEGER)) throw new ConfigError('maxQueue', RULES.maxQueue, maxQueue);
  if (!oneOf(queueFull, ['wait', 'reject'])) throw new ConfigError('queueFull', RULES.queueFull, queueFull);
  if (typeof forceAbort !== 'boolean') throw new ConfigError('forceAbort', 'forceAbort must be a boolean', forceAbort);

  const timer = config.timer ?? {};
  if (!isPlainObject(timer)) throw new ConfigError('timer', RULES.timerResolution, timer);
  const resolutionMs = timer.resolutionMs ?? DEFAULTS.timer.resolutionMs;
  if (!isIntIn(resolutionMs, 1, Number.MAX_SAFE_INTEGER)) throw new ConfigError('timer.resolutionMs', RULES.timerResolution, resolutionMs);

  if (!oneOf(io, ['auto', 'node', 'memory'])) throw new ConfigError('io', RULES.io, io);

  const memory = config.memory ?? {};
  if (!isPlainObject(memory)) throw new ConfigError('memory', RULES.memoryStrategy, memory);
  const memoryStrategy = memory.strategy ?? DEFAULTS.memory.strategy;
  if (!oneOf(memoryStrategy, ['pooled', 'heap'])) throw new ConfigError('memory.strategy', RULES.memoryStrategy, memoryStrategy);

  const tracing = config.tracing ?? {};
  if (!isPlainObject(tracing)) throw new ConfigError('tracing', RULES.tracingExporter, tracing);
  const exporter = tracing.exporter ?? DEFAULTS.tracing.exporter;
  if (!oneOf(exporter, ['none', 'console', 'jsonl', 'chrome', 'otlp'])) throw new ConfigError('tracing.exporter', RULES.tracingExporter, exporter);
  const sampleRatio = tracing.sampleRatio ?? DEFAULTS.tracing.sampleRatio;
  if (typeof sampleRatio !== 'number' || !(sampleRatio >= 0 && sampleRatio <= 1)) throw new ConfigError('tracing.sampleRatio', RULES.sampleRatio, sampleRatio);
  if (tracing.path !== undefined && (typeof tracing.path !== 'string' || tracing.path.length === 0)) throw new ConfigError('tracing.path', RULES.tracingPath, tracing.path);
  const serviceName = (tracing as { serviceName?: unknown }).serviceName;
  if (serviceName !== undefined && (typeof serviceName !== 'string' || serviceName.length === 0)) throw new ConfigError('tracing.serviceName', RULES.tracingServiceName, serviceName);

  const limits = config.resourceLimits ?? {};
  if (!isPlainObject(limits)) throw new ConfigError('resourceLimits', RULES.resourceLimits, limits);
  const resourceLimits: Record<string, number> = {};
  for (const key of Object.keys(limits)) {
    const value = limits[key];
    if (!(LIMIT_FIELDS as readonly string[]).includes(key)) throw new ConfigError(`resourceLimits.${key}`, `unknown resourceLimits field '${key}'`, value);
    if (value === undefined) continue;
    if (typeof value !== 'number' || !(value > 0) || value === Infinity) throw new ConfigError(`resourceLimits.${key}`, RULES.resourceLimits, value);
    resourceLimits[key] = value;
  }

  const httpInput = config.http ?? {};
  if (!isPlainObject(httpInput)) throw new ConfigError('http', RULES.http, httpInput);
  const http: Record<string, number> = { ...DEFAULTS.http };
  for (const key of Object.keys(httpInput)) {
    const value = httpInput[key];
    if (!(key in DEFAULTS.http)) throw new ConfigError(`http.${key}`, `unknown http field '${key}'`, value);
    if (value === undefined) continue;
    if (!isIntIn(value, 1, Number.MAX_SAFE_INTEGER)) throw new ConfigError(`http.${key}`, RULES.http, value);
    http[key] = value;
  }
  const distributed = config.distributed === undefined ? undefined : checkDistributedConfig(config.distributed);

  const flavor = workers === undefined ? 'current_thread' : 'multi_thread';
  return Object.freeze({
    flavor,
    workers: workers === undefined ? 0 : workers === 'auto' ? Math.min(1024, availableParallelism()) : workers,
    queueCapacity,
    strategy,
    workStealing,
    blockingThreads,
    maxQueue,
    queueFull,
    forceAbort,
    timer: Object.freeze({ resolutionMs }),
    io,
    memory: Object.freeze({ strategy: memoryStrategy }),
    tracing: Object.freeze({ exporter, path: tracing.path, sampleRatio, ...(serviceName !== undefined ? { serviceName: serviceName as string } : {}) }),
    resourceLimits: Object.freeze(resourceLimits as WorkerResourceLimits),
    http: Object.freeze(http as Required<HttpClientConfig>),
    distributed,
  });
}
