/**
 * The runtime report: a typed description of the parts a config chose, and its text form.
 */
import type { IoBackendName, MemoryStrategy, ResolvedConfig, Strategy, TracingExporterName, WorkerResourceLimits } from './config.js';
import type { PlatformCapabilities } from './platform.js';

/** What a built runtime is made of. */
export interface RuntimeReport<Flavor extends 'current_thread' | 'multi_thread' = 'current_thread' | 'multi_thread'> {
  /** `current_thread` without workers, `multi_thread` with a work-stealing pool. */
  readonly flavor: Flavor;
  /** Worker threads of the stealing pool (0 for current-thread). */
  readonly workers: number;
  /** Where new pool tasks are queued. */
  readonly strategy: Strategy;
  /** Whether idle workers steal. */
  readonly workStealing: boolean;
  /** Capacity of each worker's deque. */
  readonly dequeCapacity: number;
  /** Threads of the blocking pool. */
  readonly blockingThreads: number;
  /** Timer wheel geometry. */
  readonly timer: {
    /** Granularity of one slot of the lowest level, in ms. */
    readonly resolutionMs: number;
    /** Levels of the hierarchical wheel; each level's slot spans all the slots of the level below. */
    readonly levels: number;
    /** Slots per level. */
    readonly slotsPerLevel: number;
    /** Longest delay the wheel holds before the overflow list, in ms. */
    readonly rangeMs: number;
  };
  /** The I/O backend and what sits under it. */
  readonly io: {
    /** The backend the config asked for. */
    readonly requested: IoBackendName;
    /** The backend that serves `zokio/fs` and `zokio/net`. */
    readonly backend: 'node' | 'memory';
    /** The OS poller under libuv (`none` for the memory backend). */
    readonly poller: PlatformCapabilities['poller'] | 'none';
    /** Whether libuv uses io_uring for fs. */
    readonly ioUring: boolean;
  };
  /** Where the work-stealing pool keeps task payloads too long for a task record. */
  readonly memory: {
    /**
     * `pooled`: an argument list, result or error longer than a task record's inline bytes
     * goes into blocks of a shared slab arena created with the pool (`pool.payloads` in
     * `rt.metrics().memory.pools`). `heap`: such a payload of a task submitted from the
     * main thread (`exec`, `map`) gets a SharedArrayBuffer of its own, garbage-collected
     * once read; tasks submitted inside workers (`join` sides, nested `exec`) still use a
     * small arena. Either way the task records are blocks of a `SharedSlab` in the pool's
     * shared memory (`pool.records`).
     */
    readonly strategy: MemoryStrategy;
  };
  /** Tracing exporter and sampling. */
  readonly tracing: {
    /** Where finished spans go; `none` when tracing is off. */
    readonly exporter: TracingExporterName;
    /** Fraction of root traces recorded, 0..1. */
    readonly sampleRatio: number;
    /** Output file (`jsonl`, `chrome`) or collector URL (`otlp`); undefined when not set. */
    readonly path: string | undefined;
  };
  /** Heap and stack limits of the worker threads, in MB: the fields that were set (none: Node's defaults). */
  readonly resourceLimits: WorkerResourceLimits;
  /** Platform capabilities detected at start. */
  readonly platform: PlatformCapabilities;
}

/** Timer wheel geometry: 6 levels of 64 slots (tokio's). */
export const WHEEL_LEVELS = 6;
/** Slots per wheel level. */
export const WHEEL_SLOTS = 64;

/** @internal Builds the report for a resolved config. */
export function buildReport(config: ResolvedConfig, platform: PlatformCapabilities): RuntimeReport {
  const backend = config.io === 'memory' ? 'memory' : 'node';
  return Object.freeze({
    flavor: config.flavor,
    workers: config.workers,
    strategy: config.strategy,
    workStealing: config.workStealing,
    dequeCapacity: config.queueCapacity,
    blockingThreads: config.blockingThreads,
    timer: Object.freeze({
      resolutionMs: config.timer.resolutionMs,
      levels: WHEEL_LEVELS,
      slotsPerLevel: WHEEL_SLOTS,
      rangeMs: WHEEL_SLOTS ** WHEEL_LEVELS * config.timer.resolutionMs,
    }),
    io: Object.freeze({
      requested: config.io,
      backend,
      poller: backend === 'memory' ? 'none' : platform.poller,
      ioUring: backend === 'node' && platform.ioUring,
    }),
    memory: config.memory,
    tracing: config.tracing,
    resourceLimits: config.resourceLimits,
    platform,
  });
}

/** Formats a report as aligned `key  value` lines. */
export function describeReport(report: RuntimeReport): string {
  const p = report.platform;
  const rows: Array<[string, string]> = [
    ['flavor', report.flavor],
    ['workers', report.flavor === 'multi_thread' ? String(report.workers) : '0 (current thread)'],
    ['strategy', report.strategy],
    ['work stealing', report.workStealing ? 'on' : 'off'],
    ['deque capacity', String(report.dequeCapacity)],
    ['blocking threads', String(report.blockingThreads)],
    ['timer', `${report.timer.levels} levels x ${report.timer.slotsPerLevel} slots @ ${report.timer.resolutionMs} ms (range ${report.timer.rangeMs} ms)`],
    ['io', `${report.io.backend} (requested ${report.io.requested}; poller ${report.io.poller}; io_uring ${report.io.ioUring ? 'on' : 'off'})`],
    ['memory', `${report.memory.strategy} (long task payloads ${report.memory.strategy === 'heap' ? 'in buffers of their own' : 'in a shared slab arena'})`],
    ['tracing', report.tracing.exporter === 'none' ? 'off' : `${report.tracing.exporter} (sample ratio ${report.tracing.sampleRatio}${report.tracing.path ? `, ${report.tracing.path}` : ''})`],
    ['worker limits', Object.keys(report.resourceLimits).length === 0 ? "node's defaults" : Object.entries(report.resourceLimits).map(([key, mb]) => `${key} ${mb}`).join(', ')],
    ['platform', `${p.os} ${p.arch}, ${p.cpus} cpus, node ${p.node}`],
    ['capabilities', `SharedArrayBuffer ${p.sharedArrayBuffer ? 'yes' : 'no'}, Atomics.waitAsync ${p.atomicsWaitAsync ? 'yes' : 'no'}, cache line ${p.cacheLineBytes} B (assumed)`],
  ];
  const width = Math.max(...rows.map(([key]) => key.length));
  return ['zokio runtime', ...rows.map(([key, value]) => `  ${key.padEnd(width)}  ${value}`)].join('\n');
}
