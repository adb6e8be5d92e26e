/** Readers of the pool's metrics, shared by the pool tests. */

/** Main-thread task records not free now (queued, running, or done and not yet read back). */
export function mainRecordsInUse(rt: { metrics(): object }): number {
  const memory = (rt.metrics() as { memory: { pools: Record<string, { owners: { inUse: number }[] }> } }).memory;
  return memory.pools['pool.records']!.owners[0]!.inUse;
}
