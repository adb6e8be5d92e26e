import { describe, expect, it } from 'vitest';
import { createRuntime, Runtime } from '../../src/index.js';
import { BufferPool, MemoryPart, ObjectPool, SharedSlab, memoryOf } from '../../src/memory/index.js';

describe('the memory part of a runtime', () => {
  it('reports registered pools and slabs in rt.metrics().memory', async () => {
    const rt = Runtime.builder().memory({ strategy: 'pooled' }).build();
    const part = memoryOf(rt)!;
    expect(part).toBeInstanceOf(MemoryPart);
    expect(part.pooled).toBe(true);
    const objects = new ObjectPool(() => ({ x: 0 }), { capacity: 8 });
    const buffers = new BufferPool();
    part.register('objects', objects);
    const unregister = part.register('buffers', buffers);
    const slab = part.createSlab('task-records', { blockSize: 64, blockCount: 32 })!;
    expect(slab).toBeInstanceOf(SharedSlab);
    objects.acquire();
    buffers.acquire(100);
    slab.alloc();
    const memory = rt.metrics().memory as { strategy: string; pools: Record<string, { inUse: number }> };
    expect(memory.strategy).toBe('pooled');
    expect(memory.pools.objects!.inUse).toBe(1);
    expect(memory.pools.buffers!.inUse).toBe(1);
    expect(memory.pools['task-records']!.inUse).toBe(1);
    expect(rt.describe()).toMatch(/memory\s+pooled \(long task payloads in a shared slab arena\)/);
    unregister();
    expect(Object.keys((rt.metrics().memory as { pools: object }).pools)).toEqual(['objects', 'task-records']);
    part.register('objects', new ObjectPool(() => ({}), { capacity: 1 }));
    expect(Object.keys((rt.metrics().memory as { pools: object }).pools)).toContain('objects#2');
    await rt.shutdown();
  });

  it("with strategy 'heap' creates no slab", async () => {
    const rt = createRuntime({ memory: { strategy: 'heap' } });
    const part = memoryOf(rt)!;
    expect(part.pooled).toBe(false);
    expect(part.createSlab('task-records', { blockSize: 64, blockCount: 32 })).toBeUndefined();
    expect(rt.metrics().memory).toEqual({ strategy: 'heap', pools: {} });
    expect(rt.describe()).toMatch(/memory\s+heap \(long task payloads in buffers of their own\)/);
    await rt.shutdown();
  });

  it('returns undefined for something that is not a runtime', () => {
    expect(memoryOf({})).toBeUndefined();
  });
});
