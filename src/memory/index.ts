/**
 * Memory pools: `ObjectPool`, `BufferPool` (power-of-two size classes) and `SharedSlab`
 * (a lock-free fixed-block allocator inside a SharedArrayBuffer, usable from every worker).
 * Importing this module also adds the `memory` part to every runtime built afterwards
 * (`rt.metrics().memory`).
 *
 * @module zokio/memory
 */
export { ObjectPool, type ObjectPoolOptions, type ObjectPoolStats } from './object-pool.js';
export { BufferPool, type BufferPoolOptions, type BufferPoolStats, type BufferClassStats } from './buffer-pool.js';
export { SharedSlab, type SharedSlabOptions, type SharedSlabHandle, type SharedSlabStats } from './shared-slab.js';
export { MemoryPart, memoryOf, type MemoryMetrics, type MemoryStatsSource } from './runtime-part.js';
export { MEMORY_RULES, type CheckCapacity, type PowerOfTwoCapacity } from './rules.js';
