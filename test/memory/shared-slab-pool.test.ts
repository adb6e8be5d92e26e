import { describe, expect, it } from 'vitest';
import { until } from '../helpers.js';
import { Runtime } from '../../src/index.js';
import { SharedSlab } from '../../src/memory/index.js';
import { tasks } from '../fixtures/memory-slab-stress-tasks.js';

describe('SharedSlab as a pool task argument', () => {
  it('a worker has one instance per slab, and gives its cached blocks back when it parks', async () => {
    const rt = Runtime.builder().workers(1).build();
    try {
      const slab = new SharedSlab({ blockSize: 16, blockCount: 64, threadCache: 8 });
      expect(await rt.exec(tasks.sameInstance, slab.handle)).toBe(true);
      expect(await rt.exec(tasks.sameInstance, slab.handle)).toBe(true);
      // The task ends with 8 free blocks in the worker's cache ...
      expect(await rt.exec(tasks.churn, slab.handle, 8)).toBe(8);
      // ... which the idle worker flushes right after it published the result.
      await until(() => slab.stats().cached === 0, 'the cached blocks to come back');
      expect(slab.stats()).toMatchObject({ inUse: 0, cached: 0, free: 64 });
      const all = Array.from({ length: 64 }, () => slab.alloc());
      expect(new Set(all).size).toBe(64);
      expect(slab.alloc()).toBe(SharedSlab.EXHAUSTED);
    } finally {
      await rt.shutdown();
    }
  });

  it('a blocking thread gives its cached blocks back once its job queue is empty', async () => {
    const rt = Runtime.builder().workers(1).blockingThreads(1).build();
    try {
      const slab = new SharedSlab({ blockSize: 16, blockCount: 64, threadCache: 8 });
      expect(await rt.spawnBlocking(tasks.churn, slab.handle, 8)).toBe(8);
      await until(() => slab.stats().cached === 0, 'the cached blocks to come back');
      expect(slab.stats()).toMatchObject({ inUse: 0, cached: 0, free: 64 });
    } finally {
      await rt.shutdown();
    }
  });
});
