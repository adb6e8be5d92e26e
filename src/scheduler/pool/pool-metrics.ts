/**
 * What `rt.metrics().pool` and `rt.metrics().memory.pools['pool.records']` report about
 * the work-stealing pool: read from the pool's shared memory (each worker's control and
 * timing blocks, the queues, the records slab) plus the main thread's own counters. Every
 * function here only reads; a snapshot, not a consistent cut.
 *
 * @module
 */
import { H_PAYLOAD_FALLBACKS, INLINE_BYTES, RECORD_WORDS, W_ALIVE, W_EXECUTED, W_HELP_ITERATIONS, W_INLINE_POPS, W_JOINS, W_PARKS, W_PAYLOAD_BUFFERS, W_RECORDS, W_STOLEN, W_STOLEN_SIDES, type PoolLayout } from './layout.js';
import type { PoolCore } from './pool-core.js';
import { readTiming, type PoolTiming } from './timing.js';

/** Counters of one stealing worker. */
export interface PoolWorkerMetrics {
  /** Records this worker ran (tasks and map chunks). */
  readonly executed: number;
  /** Records it took from another worker's deque or inbox. */
  readonly stolen: number;
  /** Times it parked for lack of work. */
  readonly parked: number;
  /** Items in its deque now. */
  readonly dequeDepth: number;
  /** Items in its inbox now. */
  readonly inboxDepth: number;
  /** `join` calls it made. */
  readonly joins: number;
  /** Join sides it popped back and ran itself. */
  readonly inlinePops: number;
  /** Join sides a thief took. */
  readonly stolenSides: number;
  /** Records it ran while waiting for a stolen side. */
  readonly helpIterations: number;
  /** Whether the thread is alive. */
  readonly alive: boolean;
  /**
   * Share of the time since this worker (its current thread) started that it spent running
   * `exec`/`map` tasks on its stack, 0..1 (the awaited part of async tasks is not counted).
   */
  readonly utilisation: number;
}

/** `rt.metrics().pool`. */
export interface PoolMetrics {
  /** Counters of each stealing worker, by worker index. */
  readonly workers: readonly PoolWorkerMetrics[];
  /** Records in the global injector now. */
  readonly injectorDepth: number;
  /** Promises from `exec`/`map` not settled yet. */
  readonly pending: number;
  /** Submissions waiting for a free record. */
  readonly overflow: number;
  /** Workers replaced after a crash. */
  readonly restarts: number;
  /**
   * Memory strategy `pooled`: long payloads that went into a buffer of their own because
   * the shared arena had no room or they were larger than 1 MiB (never a failure for size).
   */
  readonly payloadFallbacks: number;
  /** Whether the workers were started. */
  readonly started: boolean;
  /** Run time and queue wait of `exec`/`map` tasks (map: per chunk), as histograms in ms. */
  readonly timing: PoolTiming;
}

/** Records of one owner (the main thread or one worker), in `rt.metrics().memory.pools['pool.records']`. */
export interface PoolRecordOwnerStats {
  /** `'main'` or `'worker N'`. */
  readonly owner: string;
  /** Records it may hold at once (its quota of the records slab). */
  readonly capacity: number;
  /** Records it holds now (queued, running, or done and not yet read back or freed). */
  readonly inUse: number;
}

/**
 * `rt.metrics().memory.pools['pool.records']`: the pool's task records (blocks of one
 * SharedSlab inside the pool's shared memory, each owner with a quota) and where long
 * payloads go. A snapshot.
 */
export interface PoolRecordStats {
  /** Bytes of one record (its inline payload area is {@link PoolRecordStats.inlineBytes}). */
  readonly recordBytes: number;
  /** Payload bytes a record holds inline; longer payloads go out of the record. */
  readonly inlineBytes: number;
  /** Blocks of the records slab: the owners' quotas added up. */
  readonly capacity: number;
  /** Blocks of the records slab allocated now (counted from its control words). */
  readonly inUse: number;
  /** By owner: the main thread first, then worker 0, 1, ... */
  readonly owners: readonly PoolRecordOwnerStats[];
  /**
   * Where longer payloads go: `'arena'` (strategy `pooled`: blocks of `pool.payloads`) or
   * `'heap'` (a buffer of its own per payload of a main-thread record; worker-created
   * records still use the `pool.payloads` arena).
   */
  readonly payloads: 'arena' | 'heap';
  /** Payload buffers (`heap`) the pool's buffer tables hold now, on every thread. */
  readonly payloadBuffers: number;
}

const NO_DURATIONS = Object.freeze({ count: 0, p50: 0, p90: 0, p99: 0, max: 0 });
const EMPTY_TIMING: PoolTiming = Object.freeze({ runMs: NO_DURATIONS, queueWaitMs: NO_DURATIONS });

/** The main thread's own counters that `rt.metrics().pool` shows. */
export interface MainPoolCounters {
  readonly pending: number;
  readonly overflow: number;
  readonly restarts: number;
}

/** `rt.metrics().pool` for a pool with `workers` workers (`core` undefined: not started). */
export function readPoolMetrics(core: PoolCore | undefined, workerCount: number, main: MainPoolCounters): PoolMetrics {
  const workers: PoolWorkerMetrics[] = [];
  const read = core === undefined ? undefined : readTiming(core.sab, core.layout.statsBase, workerCount);
  if (core !== undefined) {
    const a = core.i32;
    for (let w = 0; w < workerCount; w++) {
      const c = core.ctl(w);
      workers.push({
        executed: Atomics.load(a, c + W_EXECUTED),
        stolen: Atomics.load(a, c + W_STOLEN),
        parked: Atomics.load(a, c + W_PARKS),
        dequeDepth: core.deques[w]!.size(),
        inboxDepth: core.inboxes[w]!.size(),
        joins: Atomics.load(a, c + W_JOINS),
        inlinePops: Atomics.load(a, c + W_INLINE_POPS),
        stolenSides: Atomics.load(a, c + W_STOLEN_SIDES),
        helpIterations: Atomics.load(a, c + W_HELP_ITERATIONS),
        alive: Atomics.load(a, c + W_ALIVE) === 1,
        utilisation: read!.utilisation[w]!,
      });
    }
  }
  return {
    workers,
    injectorDepth: core?.injector.size() ?? 0,
    pending: main.pending,
    overflow: main.overflow,
    payloadFallbacks: core === undefined ? 0 : Atomics.load(core.i32, H_PAYLOAD_FALLBACKS),
    restarts: main.restarts,
    started: core !== undefined,
    timing: read?.timing ?? EMPTY_TIMING,
  };
}

/**
 * Payload buffers (strategy `heap`, or `pooled` fallbacks) held now by the main thread's
 * table (received results not read yet, argument buffers of records not completed yet)
 * and by each worker's table (as each worker last published it).
 */
export function payloadBufferCounts(core: PoolCore | undefined, workerCount: number): { main: number; workers: number[] } {
  if (core === undefined) return { main: 0, workers: [] };
  const workers: number[] = [];
  for (let w = 0; w < workerCount; w++) workers.push(Atomics.load(core.i32, core.ctl(w) + W_PAYLOAD_BUFFERS));
  return { main: core.buffers.payloadCount, workers };
}

/**
 * `pool.records` in `rt.metrics().memory.pools`: a snapshot of record usage. Each owner's
 * count is its own (`mainInUse`, counted by the main thread; a worker's `RECORDS` word);
 * the block counts come from the records slab.
 */
export function readRecordStats(core: PoolCore | undefined, layout: PoolLayout, mainInUse: number, heap: boolean): PoolRecordStats {
  const owners: PoolRecordOwnerStats[] = [];
  owners.push({ owner: 'main', capacity: layout.mainRecords, inUse: mainInUse });
  for (let w = 0; w < layout.workers; w++) {
    owners.push({ owner: `worker ${w}`, capacity: layout.workerRecords, inUse: core === undefined ? 0 : Atomics.load(core.i32, core.ctl(w) + W_RECORDS) });
  }
  const blocks = core?.records.stats();
  let payloadBuffers = 0;
  if (core !== undefined) {
    const counts = payloadBufferCounts(core, layout.workers);
    payloadBuffers = counts.main + counts.workers.reduce((sum, n) => sum + n, 0);
  }
  return {
    recordBytes: RECORD_WORDS * 4,
    inlineBytes: INLINE_BYTES,
    capacity: layout.totalRecords,
    inUse: blocks?.inUse ?? 0,
    owners,
    payloads: heap ? 'heap' : 'arena',
    payloadBuffers,
  };
}
