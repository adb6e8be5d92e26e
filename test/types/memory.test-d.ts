import { expectTypeOf, test } from 'vitest';
import {
  BufferPool,
  MEMORY_RULES,
  ObjectPool,
  SharedSlab,
  type CheckCapacity,
  type ObjectPoolStats,
  type SharedSlabHandle,
} from '../../src/memory/index.js';

const make = () => ({ x: 0, y: 0 });

test('power-of-two capacity literals compile', () => {
  new ObjectPool(make, { capacity: 1 });
  new ObjectPool(make, { capacity: 64 });
  new ObjectPool(make, { capacity: 1024, reset: (p) => { p.x = 0; } });
  new ObjectPool(make, { capacity: 16777216 });
});

test('other capacity literals are compile errors naming the rule', () => {
  // @ts-expect-error capacity must be a power of two from 1 to 16777216
  new ObjectPool(make, { capacity: 1000 });
  // @ts-expect-error capacity must be a power of two from 1 to 16777216
  new ObjectPool(make, { capacity: 0 });
  // @ts-expect-error capacity must be a power of two from 1 to 16777216
  new ObjectPool(make, { capacity: 3 });
  // @ts-expect-error capacity must be a power of two from 1 to 16777216
  new ObjectPool(make, { capacity: 1.5 });
  // @ts-expect-error capacity must be a power of two from 1 to 16777216
  new ObjectPool(make, { capacity: -2 });
  // @ts-expect-error capacity must be a power of two from 1 to 16777216
  new ObjectPool(make, { capacity: 33554432 });
  // @ts-expect-error capacity is required
  new ObjectPool(make, {});
});

test('the check maps a bad literal to the rule text and lets wide numbers through', () => {
  expectTypeOf<CheckCapacity<1000>>().toEqualTypeOf<typeof MEMORY_RULES.capacity>();
  expectTypeOf<CheckCapacity<1000>>().toEqualTypeOf<'capacity must be a power of two from 1 to 16777216'>();
  expectTypeOf<CheckCapacity<256>>().toEqualTypeOf<256>();
  expectTypeOf<CheckCapacity<number>>().toEqualTypeOf<number>();
  const fromConfig: number = 1000;
  new ObjectPool(make, { capacity: fromConfig }); // checked at run time instead
});

test('the pool is typed by its factory', () => {
  const pool = new ObjectPool(make, { capacity: 8 });
  expectTypeOf(pool.acquire()).toEqualTypeOf<{ x: number; y: number }>();
  expectTypeOf(pool.stats()).toEqualTypeOf<ObjectPoolStats>();
  // A pool built with a literal capacity is usable where the capacity is not known.
  const annotated: ObjectPool<{ x: number; y: number }> = pool;
  void annotated;
  // @ts-expect-error reset receives the pooled type
  new ObjectPool(make, { capacity: 8, reset: (p: { z: string }) => void p });
  // @ts-expect-error only objects can be pooled (identity is how release is checked)
  new ObjectPool(() => 5, { capacity: 8 });
});

test('BufferPool and SharedSlab shapes', () => {
  expectTypeOf(new BufferPool().acquire(10)).toEqualTypeOf<Uint8Array>();
  const slab = new SharedSlab({ blockSize: 64, blockCount: 8 });
  expectTypeOf(slab.alloc()).toEqualTypeOf<number>();
  expectTypeOf(slab.handle).toEqualTypeOf<SharedSlabHandle>();
  expectTypeOf(SharedSlab.from(slab.handle)).toEqualTypeOf<SharedSlab>();
  expectTypeOf(slab.int32).toEqualTypeOf<Int32Array>();
});
