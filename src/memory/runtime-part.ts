/**
 * The runtime's `memory` part: the registry where pools and slabs report their usage, shown
 * by `rt.metrics().memory`, and the switch that `.memory({ strategy })` sets.
 *
 * Implementation note: the composition function (`runtime/compose.ts`) builds the part
 * for every runtime; importing this module registers nothing. With strategy `'pooled'`, {@link MemoryPart.createSlab} creates
 * a registered `SharedSlab`; with `'heap'` it returns `undefined` and the caller keeps its
 * data on the heap. The work-stealing pool uses it for its payload arena (`pool.payloads`:
 * created here under `'pooled'`; under `'heap'` main-thread task payloads get buffers of
 * their own and the pool registers a small arena for worker-created tasks itself) and
 * registers `pool.records`, its task-record usage, under both strategies. The pool finds
 * the part with `runtime.part('memory')`.
 *
 * @module
 */
import type { MemoryStrategy } from '../runtime/config.js';
import type { RuntimePart } from '../runtime/part.js';
import { SharedSlab, type SharedSlabOptions } from './shared-slab.js';

/** Anything with a `stats()` snapshot: `ObjectPool`, `BufferPool`, `SharedSlab`, or your own. */
export interface MemoryStatsSource {
  /** A snapshot of the source's counters; called on every `rt.metrics()`. */
  stats(): unknown;
}

/** What `rt.metrics().memory` holds. */
export interface MemoryMetrics {
  /** The runtime's memory strategy. */
  readonly strategy: MemoryStrategy;
  /** `stats()` of every registered pool and slab, by name. */
  readonly pools: Readonly<Record<string, unknown>>;
}

/**
 * The `memory` part of a runtime: a registry of pools whose `stats()` appear in
 * `rt.metrics().memory.pools`. Get it with {@link memoryOf}.
 *
 * When to use it: register a pool that lives as long as the runtime, so its usage shows up
 * with the runtime's other counters.
 *
 * @example
 * ```ts
 * import { createRuntime } from 'zokio';
 * import { BufferPool, memoryOf } from 'zokio/memory';
 * const rt = createRuntime({ memory: { strategy: 'pooled' } });
 * const frames = new BufferPool();
 * const unregister = memoryOf(rt)!.register('frames', frames);
 * console.log(rt.metrics().memory); // { strategy: 'pooled', pools: { frames: { classes: [...], ... } } }
 * unregister();
 * await rt.shutdown();
 * ```
 */
export class MemoryPart implements RuntimePart {
  /** The part's name and its key in `rt.metrics()`. */
  readonly name = 'memory';
  /**
   * `'pooled'`: parts keep their shared records in registered `SharedSlab`s (the pool's
   * long task payloads in `pool.payloads`); `'heap'`: in memory of their own (the pool's
   * main-thread task payloads in one SharedArrayBuffer each).
   */
  readonly strategy: MemoryStrategy;
  readonly #sources = new Map<string, MemoryStatsSource>();

  constructor(strategy: MemoryStrategy) {
    this.strategy = strategy;
  }

  /** True when the runtime asked for pooled memory (`strategy: 'pooled'`). */
  get pooled(): boolean {
    return this.strategy === 'pooled';
  }

  /**
   * Adds `source` to `rt.metrics().memory.pools` under `name` (suffixed `#2`, `#3`, ... when
   * taken). Returns a function that removes it.
   */
  register(name: string, source: MemoryStatsSource): () => void {
    let key = name;
    for (let n = 2; this.#sources.has(key); n++) key = `${name}#${n}`;
    this.#sources.set(key, source);
    return () => {
      if (this.#sources.get(key) === source) this.#sources.delete(key);
    };
  }

  /**
   * For parts that keep records in shared memory: with strategy `'pooled'`, creates a
   * `SharedSlab`, registers it under `name` and returns it; with `'heap'`, returns
   * `undefined` (keep the records on the heap).
   */
  createSlab(name: string, options: SharedSlabOptions): SharedSlab | undefined {
    if (!this.pooled) return undefined;
    const slab = new SharedSlab(options);
    this.register(name, slab);
    return slab;
  }

  /** The strategy and the `stats()` of every registered pool. */
  metrics(): MemoryMetrics {
    const pools: Record<string, unknown> = {};
    for (const [name, source] of this.#sources) pools[name] = source.stats();
    return { strategy: this.strategy, pools };
  }

  /** Forgets every registered pool. */
  shutdown(): void {
    this.#sources.clear();
  }
}

/**
 * The `memory` part of `runtime` (every runtime has one), or `undefined` for an object
 * that is not a Zokio runtime.
 *
 * @example
 * ```ts
 * import { createRuntime } from 'zokio';
 * import { ObjectPool, memoryOf } from 'zokio/memory';
 * const rt = createRuntime();
 * memoryOf(rt)?.register('points', new ObjectPool(() => ({ x: 0, y: 0 }), { capacity: 256 }));
 * await rt.shutdown();
 * ```
 */
export function memoryOf(runtime: object): MemoryPart | undefined {
  const part = (runtime as { part?: (name: string) => unknown }).part?.('memory');
  return part instanceof MemoryPart ? part : undefined;
}
