import { describe, expect, it } from 'vitest';
import { BufferPool, MEMORY_RULES } from '../../src/memory/index.js';
import { ConfigError, PoolError } from '../../src/errors.js';

const MiB = 1024 * 1024;

describe('BufferPool', () => {
  it('picks the size class at the boundaries', () => {
    const pool = new BufferPool();
    expect(pool.classSizeFor(0)).toBe(64);
    expect(pool.classSizeFor(1)).toBe(64);
    expect(pool.classSizeFor(63)).toBe(64);
    expect(pool.classSizeFor(64)).toBe(64);
    expect(pool.classSizeFor(65)).toBe(128);
    expect(pool.classSizeFor(MiB - 1)).toBe(MiB);
    expect(pool.classSizeFor(MiB)).toBe(MiB);
    expect(pool.classSizeFor(MiB + 1)).toBeUndefined();
    expect(pool.stats().classes.map((c) => c.size)).toEqual(Array.from({ length: 15 }, (_, i) => 64 * 2 ** i));
  });

  it('hands out views of the exact size over a block of the right class', () => {
    const pool = new BufferPool();
    for (const [size, cls] of [[63, 64], [64, 64], [65, 128], [MiB, MiB]] as const) {
      const view = pool.acquire(size);
      expect(view).toBeInstanceOf(Uint8Array);
      expect(view.length).toBe(size);
      expect(view.byteOffset % cls).toBe(0);
      const stats = pool.stats().classes.find((c) => c.size === cls)!;
      expect(stats.inUse).toBe(1);
      pool.release(view);
      expect(pool.stats().classes.find((c) => c.size === cls)!.inUse).toBe(0);
    }
    // 63 and 64 share a class, so the second acquire of class 64 was a hit.
    expect(pool.stats().classes[0]).toMatchObject({ size: 64, hits: 1, misses: 1, slabs: 1, blocks: 4096 });
  });

  it('serves requests above the largest class with unpooled arrays', () => {
    const pool = new BufferPool();
    const big = pool.acquire(MiB + 1);
    expect(big.length).toBe(MiB + 1);
    expect(big.buffer.byteLength).toBe(MiB + 1);
    expect(pool.stats().oversize).toEqual({ allocations: 1, inUse: 1 });
    pool.release(big);
    expect(pool.stats().oversize).toEqual({ allocations: 1, inUse: 0 });
    expect(() => pool.release(big)).toThrow(PoolError);
  });

  it('carves many views from one slab and reuses released blocks LIFO', () => {
    const pool = new BufferPool({ slabSize: 1024 });
    const views = Array.from({ length: 20 }, () => pool.acquire(100)); // class 128, 8 per slab
    expect(new Set(views.map((v) => v.buffer)).size).toBe(3);
    expect(pool.stats().classes[1]).toMatchObject({ size: 128, slabs: 3, blocks: 24, inUse: 20, misses: 20 });
    const released = views[5]!;
    pool.release(released);
    const again = pool.acquire(128);
    expect(again.buffer).toBe(released.buffer);
    expect(again.byteOffset).toBe(released.byteOffset);
    // Distinct views never overlap.
    const slabs = [...new Set(views.map((v) => v.buffer))];
    const live = views.filter((v) => v !== released).concat([again]);
    expect(new Set(live.map((v) => `${slabs.indexOf(v.buffer)}:${v.byteOffset}`)).size).toBe(20);
  });

  it('rejects double release, foreign arrays and subarrays, leaving the pool intact', () => {
    const pool = new BufferPool();
    const a = pool.acquire(100);
    const b = pool.acquire(100);
    pool.release(a);
    const before = JSON.stringify(pool.stats());
    expect(() => pool.release(a)).toThrow(/double release/);
    expect(() => pool.release(new Uint8Array(100))).toThrow(/foreign/);
    expect(() => pool.release(b.subarray(1))).toThrow(PoolError);
    expect(() => pool.release(b.subarray(0, 50))).toThrow(/does not match/);
    expect(() => pool.release(new BufferPool().acquire(100))).toThrow(PoolError);
    let code: string | undefined;
    try {
      pool.release(a);
    } catch (e) {
      code = (e as PoolError).code;
    }
    expect(code).toBe('ZOKIO_ERR_POOL');
    expect(JSON.stringify(pool.stats())).toBe(before);
    pool.release(b);
    expect(pool.stats().inUse).toBe(0);
  });

  it('accepts a Buffer over the same bytes as the pooled view', () => {
    const pool = new BufferPool();
    const a = pool.acquire(300);
    pool.release(Buffer.from(a.buffer, a.byteOffset, a.length));
    expect(pool.stats().inUse).toBe(0);
  });

  it('zeroes on release when asked, and only then', () => {
    const zeroing = new BufferPool({ zeroOnRelease: true });
    const a = zeroing.acquire(64);
    a.fill(7);
    zeroing.release(a);
    const b = zeroing.acquire(64);
    expect(b.byteOffset).toBe(a.byteOffset);
    expect(b.every((x) => x === 0)).toBe(true);

    const plain = new BufferPool();
    const c = plain.acquire(64);
    c.fill(7);
    plain.release(c);
    expect(plain.acquire(64)[0]).toBe(7);
  });

  it('validates its options and sizes with coded errors', () => {
    expect(() => new BufferPool({ minSize: 100 })).toThrow(ConfigError);
    expect(() => new BufferPool({ minSize: 1024, maxSize: 512 })).toThrow(MEMORY_RULES.sizeClass);
    expect(() => new BufferPool({ slabSize: 1000 })).toThrow(MEMORY_RULES.slabSize);
    const pool = new BufferPool({ minSize: 16, maxSize: 256 });
    expect(pool.stats().classes.map((c) => c.size)).toEqual([16, 32, 64, 128, 256]);
    expect(() => pool.acquire(-1)).toThrow(RangeError);
    expect(() => pool.acquire(1.5)).toThrow(RangeError);
    expect(pool.acquire(257).buffer.byteLength).toBe(257);
  });
});
