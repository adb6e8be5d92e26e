import { describe, expect, it } from 'vitest';
import { ObjectPool, MEMORY_RULES } from '../../src/memory/index.js';
import { ConfigError, PoolError, ZokioError } from '../../src/errors.js';

const make = () => ({ n: 0, xs: [] as number[] });

describe('ObjectPool', () => {
  it('reuses released objects and counts hits and misses', () => {
    const pool = new ObjectPool(make, { capacity: 4, reset: (o) => { o.n = 0; o.xs.length = 0; } });
    const a = pool.acquire();
    a.n = 7;
    a.xs.push(1);
    expect(pool.stats()).toMatchObject({ total: 1, inUse: 1, idle: 0, hits: 0, misses: 1 });
    pool.release(a);
    const b = pool.acquire();
    expect(b).toBe(a);
    expect(b).toEqual({ n: 0, xs: [] });
    expect(pool.stats()).toMatchObject({ total: 1, inUse: 1, hits: 1, misses: 1 });
  });

  it('rejects a double release with a coded PoolError and leaves the pool intact', () => {
    const pool = new ObjectPool(make, { capacity: 2 });
    const a = pool.acquire();
    pool.release(a);
    const before = pool.stats();
    let err: unknown;
    try {
      pool.release(a);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PoolError);
    expect(err).toBeInstanceOf(ZokioError);
    expect((err as PoolError).code).toBe('ZOKIO_ERR_POOL');
    expect((err as Error).message).toMatch(/double release/);
    expect(pool.stats()).toEqual(before);
    // Still usable: the one idle object comes back once.
    expect(pool.acquire()).toBe(a);
    expect(pool.acquire()).not.toBe(a);
  });

  it('rejects a foreign object, and an object of another pool', () => {
    const pool = new ObjectPool(make, { capacity: 2 });
    const other = new ObjectPool(make, { capacity: 2 });
    const mine = pool.acquire();
    const before = pool.stats();
    expect(() => pool.release(make())).toThrow(/foreign object/);
    expect(() => pool.release(other.acquire())).toThrow(PoolError);
    expect(pool.stats()).toEqual(before);
    pool.release(mine);
    expect(pool.stats()).toMatchObject({ inUse: 0, idle: 1 });
  });

  it('keeps at most capacity idle objects; the rest are let go but still detected on a second release', () => {
    const pool = new ObjectPool(make, { capacity: 2 });
    const objs = [pool.acquire(), pool.acquire(), pool.acquire(), pool.acquire()];
    expect(pool.stats()).toMatchObject({ inUse: 4, misses: 4 });
    for (const o of objs) pool.release(o);
    expect(pool.stats()).toMatchObject({ total: 2, inUse: 0, idle: 2, dropped: 2 });
    expect(() => pool.release(objs[0]!)).toThrow(/double release/);
    expect(() => pool.release(objs[3]!)).toThrow(/double release/);
  });

  it('lets an object go when reset throws, and rethrows', () => {
    const pool = new ObjectPool(make, { capacity: 2, reset: (o) => { if (o.n < 0) throw new Error('bad'); } });
    const a = pool.acquire();
    a.n = -1;
    expect(() => pool.release(a)).toThrow('bad');
    expect(pool.stats()).toMatchObject({ inUse: 0, idle: 0, dropped: 1 });
    expect(() => pool.release(a)).toThrow(PoolError);
  });

  it('owns() and clear()', () => {
    const pool = new ObjectPool(make, { capacity: 8 });
    const a = pool.acquire();
    expect(pool.owns(a)).toBe(true);
    pool.release(a);
    expect(pool.owns(a)).toBe(false);
    pool.clear();
    expect(pool.stats()).toMatchObject({ idle: 0, dropped: 1 });
    expect(pool.acquire()).not.toBe(a);
  });

  it('checks a capacity known only at run time with the rule text the compiler uses', () => {
    for (const bad of [0, 3, 1000, 1.5, -2, 2 ** 25, Number.NaN]) {
      const capacity: number = bad;
      let err: unknown;
      try {
        new ObjectPool(make, { capacity });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).code).toBe('ZOKIO_ERR_CONFIG');
      expect((err as ConfigError).field).toBe('capacity');
      expect((err as Error).message).toContain(MEMORY_RULES.capacity);
    }
    for (const good of [1, 2, 1024, 2 ** 24]) {
      const capacity: number = good;
      expect(new ObjectPool(make, { capacity }).capacity).toBe(good);
    }
  });

  it('rejects a factory that returns a primitive', () => {
    const pool = new ObjectPool(() => 5 as unknown as object, { capacity: 1 });
    expect(() => pool.acquire()).toThrow(PoolError);
  });
});
