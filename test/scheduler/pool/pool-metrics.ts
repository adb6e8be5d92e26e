/** Readers of the pool's metrics, shared by the pool tests. */
import type { PoolRecordStats } from '../../../src/scheduler/pool/worker-pool.js';

/** `rt.metrics().memory.pools['pool.records']`: the pool's task records now. */
export function recordStats(rt: { metrics(): object }): PoolRecordStats {
  const memory = (rt.metrics() as { memory: { pools: Record<string, PoolRecordStats> } }).memory;
  return memory.pools['pool.records']!;
}

/** Main-thread task records not free now (queued, running, or done and not yet read back). */
export function mainRecordsInUse(rt: { metrics(): object }): number {
  return recordStats(rt).owners[0]!.inUse;
}
