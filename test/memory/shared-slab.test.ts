import fc from 'fast-check';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { SharedSlab, MEMORY_RULES } from '../../src/memory/index.js';
import { ConfigError, PoolError } from '../../src/errors.js';
import { reviveShared, SHARED_KIND_FIELD } from '../../src/sync/shared/revive.js';

/** The model side of the slab model tests: the offsets held now, and every offset freed. */
class HeldOffsets {
  readonly held = new Set<number>();
  readonly released: number[] = [];

  /**
   * Checks what an `alloc` returned: EXHAUSTED exactly when `exhausted`, otherwise an
   * offset nobody holds, which the model then holds. Returns 1 for an exhaustion, else 0.
   */
  took(off: number, exhausted: boolean): number {
    if (exhausted) {
      expect(off).toBe(SharedSlab.EXHAUSTED);
      return 1;
    }
    expect(off).not.toBe(SharedSlab.EXHAUSTED);
    expect(this.held.has(off)).toBe(false);
    this.held.add(off);
    return 0;
  }

  /** Frees one held offset (picked by `pick`), if any, in the slab and the model. */
  freeOne(slab: SharedSlab, pick: number): void {
    if (this.held.size === 0) return;
    const off = [...this.held][pick % this.held.size]!;
    slab.free(off);
    this.held.delete(off);
    this.released.push(off);
  }

  /** Frees a released offset again (unless it was allocated since) and expects a double-free error. */
  checkDoubleFree(slab: SharedSlab, pick: number): void {
    if (this.released.length === 0) return;
    const off = this.released[pick % this.released.length]!;
    if (!this.held.has(off)) expect(() => slab.free(off)).toThrow(/double free/);
  }
}

describe('SharedSlab', () => {
  it('hands out every block once, then reports exhaustion without throwing', () => {
    const slab = new SharedSlab({ blockSize: 64, blockCount: 4 });
    const offsets = [slab.alloc(), slab.alloc(), slab.alloc(), slab.alloc()];
    expect(new Set(offsets).size).toBe(4);
    for (const o of offsets) {
      expect((o - slab.dataOffset) % 64).toBe(0);
      expect(o + 64).toBeLessThanOrEqual(slab.buffer.byteLength);
      expect(slab.isAllocated(o)).toBe(true);
    }
    expect(slab.alloc()).toBe(SharedSlab.EXHAUSTED);
    expect(slab.alloc()).toBe(-1);
    expect(slab.stats()).toMatchObject({ blockSize: 64, blockCount: 4, inUse: 4, free: 0, exhausted: 2 });
    slab.free(offsets[2]!);
    expect(slab.alloc()).toBe(offsets[2]);
  });

  it('rejects a double free and offsets that are not blocks, leaving the slab intact', () => {
    const slab = new SharedSlab({ blockSize: 32, blockCount: 3 });
    const a = slab.alloc();
    const b = slab.alloc();
    slab.free(a);
    const before = slab.stats();
    let err: unknown;
    try {
      slab.free(a);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PoolError);
    expect((err as PoolError).code).toBe('ZOKIO_ERR_POOL');
    expect((err as Error).message).toMatch(/double free/);
    for (const bad of [a + 4, 0, slab.dataOffset - 32, slab.dataOffset + 3 * 32, Number.NaN, 1.5]) {
      expect(() => slab.free(bad)).toThrow(PoolError);
    }
    expect(slab.stats()).toEqual(before);
    // The free list is still whole: exactly two blocks come out (a and the never-used one).
    const got = [slab.alloc(), slab.alloc()];
    expect(got).toContain(a);
    expect(got).not.toContain(b);
    expect(slab.alloc()).toBe(SharedSlab.EXHAUSTED);
  });

  it('gives offset helpers and views that line up with the blocks', () => {
    const slab = new SharedSlab({ blockSize: 128, blockCount: 16 });
    expect(slab.dataOffset % 64).toBe(0);
    const off = slab.alloc();
    const index = slab.indexOf(off);
    expect(slab.offsetOf(index)).toBe(off);
    expect(() => slab.offsetOf(16)).toThrow(PoolError);
    Atomics.store(slab.int32, slab.word(off, 3), 99);
    const view = slab.int32View(off);
    expect(view.length).toBe(32);
    expect(view[3]).toBe(99);
    expect(slab.bytesView(off).length).toBe(128);
    slab.float64[(off >> 3) + 2] = 1.25;
    expect(new Float64Array(slab.buffer, off, 16)[2]).toBe(1.25);
  });

  it('validates its options with the rule text and a coded error', () => {
    for (const [options, rule] of [
      [{ blockSize: 12, blockCount: 4 }, MEMORY_RULES.blockSize],
      [{ blockSize: 0, blockCount: 4 }, MEMORY_RULES.blockSize],
      [{ blockSize: 8, blockCount: 0 }, MEMORY_RULES.blockCount],
      [{ blockSize: 8, blockCount: 2 ** 20 + 1 }, MEMORY_RULES.blockCount],
      [{ blockSize: 8, blockCount: 4, threadCache: -1 }, MEMORY_RULES.threadCache],
      [{ blockSize: 8, blockCount: 4, threadCache: 1025 }, MEMORY_RULES.threadCache],
      [{ blockSize: 8, blockCount: 4, threadCache: 1.5 }, MEMORY_RULES.threadCache],
    ] as const) {
      let err: unknown;
      try {
        new SharedSlab(options);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain(rule);
    }
  });

  it('lives inside a region of a larger buffer: blocks only there, opened from its handle, bad regions refused', () => {
    const size = SharedSlab.byteLengthFor(16, 8);
    const buffer = new SharedArrayBuffer(128 + size + 64);
    const outside = new Uint8Array(buffer);
    outside.fill(0xee, 0, 128);
    outside.fill(0xee, 128 + size);
    const slab = SharedSlab.inside(buffer, 128, { blockSize: 16, blockCount: 8, threadCache: 0 });
    expect(slab.byteOffset).toBe(128);
    expect(slab.stats()).toMatchObject({ blockCount: 8, inUse: 0, byteLength: size });
    const blocks = Array.from({ length: 8 }, () => slab.alloc());
    expect(slab.alloc()).toBe(SharedSlab.EXHAUSTED);
    for (const b of blocks) {
      expect(b).toBeGreaterThanOrEqual(slab.dataOffset);
      expect(b + 16).toBeLessThanOrEqual(128 + size);
      slab.bytesView(b).fill(b & 0xff); // offsets are into the whole buffer
    }
    expect(outside.subarray(0, 128).every((x) => x === 0xee)).toBe(true);
    expect(outside.subarray(128 + size).every((x) => x === 0xee)).toBe(true);
    expect(SharedSlab.from(structuredClone(slab.handle))).toBe(slab);
    expect(reviveShared(structuredClone(slab))).toBe(slab);
    for (const b of blocks) slab.free(b);
    expect(slab.stats().inUse).toBe(0);
    expect(() => slab.free(blocks[0]!)).toThrow(PoolError);
    // A region that is unaligned or does not fit; the buffer itself is not a slab at 0.
    expect(() => SharedSlab.inside(buffer, 100, { blockSize: 16, blockCount: 8 })).toThrow(RangeError);
    expect(() => SharedSlab.inside(buffer, 256, { blockSize: 16, blockCount: 8 })).toThrow(RangeError);
    expect(() => SharedSlab.from(buffer)).toThrow(PoolError);
    expect(() => SharedSlab.from({ buffer, byteOffset: 64 })).toThrow(PoolError);
    expect(slab.stats().inUse).toBe(0);
  });

  it('opens the same memory from a handle, a structured clone, or the buffer: one instance per thread', () => {
    const slab = new SharedSlab({ blockSize: 16, blockCount: 8 });
    const clone = structuredClone(slab) as unknown as Record<string, unknown>;
    expect(clone[SHARED_KIND_FIELD]).toBe('SharedSlab');
    expect(Object.keys(clone).sort()).toEqual([SHARED_KIND_FIELD, 'blockCount', 'blockSize', 'buffer', 'byteLength', 'byteOffset', 'dataOffset'].sort());
    // The thread's cache of a slab lives in its instance, so every open on this thread
    // (a task argument is revived anew for every task) returns the same one.
    expect(SharedSlab.from(structuredClone(slab.handle))).toBe(slab);
    expect(reviveShared(structuredClone(slab))).toBe(slab);
    expect(SharedSlab.from(slab.buffer)).toBe(slab);
    expect(SharedSlab.from(slab)).toBe(slab);
    const other = new SharedSlab({ blockSize: 16, blockCount: 8 });
    expect(SharedSlab.from(structuredClone(other.handle))).toBe(other);
    const a = slab.alloc();
    slab.free(a);
    expect(() => SharedSlab.from(slab.handle).free(a)).toThrow(/double free/);
    expect(() => SharedSlab.from(new SharedArrayBuffer(256))).toThrow(PoolError);
    expect(() => SharedSlab.from({} as never)).toThrow(PoolError);
  });

  it('behaves like a set of offsets (fast-check model test)', () => {
    type Cmd = { kind: 'alloc' } | { kind: 'free'; pick: number } | { kind: 'doubleFree'; pick: number } | { kind: 'badFree'; delta: number };
    const cmd = fc.oneof(
      fc.constant<Cmd>({ kind: 'alloc' }),
      fc.nat().map<Cmd>((pick) => ({ kind: 'free', pick })),
      fc.nat().map<Cmd>((pick) => ({ kind: 'doubleFree', pick })),
      fc.integer({ min: 1, max: 7 }).map<Cmd>((delta) => ({ kind: 'badFree', delta })),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(cmd, { maxLength: 200 }), (blockCount, cmds) => {
        const slab = new SharedSlab({ blockSize: 8, blockCount });
        const model = new HeldOffsets();
        const held = model.held;
        let exhausted = 0;
        for (const c of cmds) {
          if (c.kind === 'alloc') {
            const off = slab.alloc();
            exhausted += model.took(off, held.size === blockCount);
            if (off !== SharedSlab.EXHAUSTED) expect(slab.indexOf(off)).toBeLessThan(blockCount);
          } else if (c.kind === 'free') {
            model.freeOne(slab, c.pick);
          } else if (c.kind === 'doubleFree') {
            model.checkDoubleFree(slab, c.pick);
          } else if (c.kind === 'badFree' && held.size > 0) {
            expect(() => slab.free([...held][0]! + c.delta)).toThrow(PoolError);
          }
          const stats = slab.stats();
          expect(stats.inUse).toBe(held.size);
          expect(stats.exhausted).toBe(exhausted);
        }
        for (const off of held) expect(slab.isAllocated(off)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

// A thread has one instance (one cache) per slab. The internal two-argument constructor
// opens a second instance over the same buffer on this thread: two instances stand in for
// two threads, each with its own cache, so the cross-thread rules can be checked
// deterministically here (test/memory/shared-slab-stress.test.ts runs real threads).
function secondThread(slab: SharedSlab): SharedSlab {
  return new SharedSlab({ blockSize: 0, blockCount: 0 }, slab.buffer);
}

describe('SharedSlab thread cache', () => {
  it('defaults to a sixteenth of the blocks, at most 32, the same for every opener', () => {
    expect(new SharedSlab({ blockSize: 8, blockCount: 8 }).threadCache).toBe(0);
    expect(new SharedSlab({ blockSize: 8, blockCount: 64 }).threadCache).toBe(4);
    expect(new SharedSlab({ blockSize: 8, blockCount: 4096 }).threadCache).toBe(32);
    const slab = new SharedSlab({ blockSize: 8, blockCount: 4096, threadCache: 5 });
    expect(slab.threadCache).toBe(5);
    expect(secondThread(slab).threadCache).toBe(5);
  });

  it('refills an empty cache with one batch of threadCache / 2 blocks and serves allocs from it', () => {
    const slab = new SharedSlab({ blockSize: 8, blockCount: 64, threadCache: 8 });
    const first = slab.alloc();
    // One refill took 4 blocks off the shared list: one is allocated, 3 wait in the cache.
    expect(slab.cachedHere).toBe(3);
    expect(slab.stats()).toMatchObject({ inUse: 1, cached: 3, free: 63 });
    const next = [slab.alloc(), slab.alloc(), slab.alloc()];
    expect(slab.cachedHere).toBe(0);
    expect(new Set([first, ...next]).size).toBe(4);
    slab.alloc(); // the cache is empty: another batch of 4
    expect(slab.cachedHere).toBe(3);
    expect(slab.stats()).toMatchObject({ inUse: 5, cached: 3, free: 59 });
  });

  it('keeps freed blocks in the cache and flushes the top half to the shared list when it is full', () => {
    const slab = new SharedSlab({ blockSize: 8, blockCount: 64, threadCache: 8 });
    const held = Array.from({ length: 20 }, () => slab.alloc());
    expect(slab.stats()).toMatchObject({ inUse: 20, cached: 0 });
    for (let i = 0; i < 8; i++) slab.free(held[i]!);
    expect(slab.cachedHere).toBe(8); // full, nothing flushed yet
    expect(slab.stats()).toMatchObject({ inUse: 12, cached: 8, free: 52 });
    slab.free(held[8]!); // full: 4 go to the shared list, then the block is kept
    expect(slab.cachedHere).toBe(5);
    expect(slab.stats()).toMatchObject({ inUse: 11, cached: 5, free: 53 });
    // LIFO: the block just freed comes back first.
    expect(slab.alloc()).toBe(held[8]);
    for (const o of held.slice(9)) slab.free(o);
    const stats = slab.stats();
    expect(stats.inUse).toBe(1);
    expect(stats.cached).toBe(slab.cachedHere);
    expect(slab.cachedHere).toBeLessThanOrEqual(8);
  });

  it('returns EXHAUSTED only when its own cache and the shared list are both empty', () => {
    const slab = new SharedSlab({ blockSize: 8, blockCount: 16, threadCache: 8 });
    const held = Array.from({ length: 16 }, () => slab.alloc());
    expect(new Set(held).size).toBe(16);
    expect(slab.alloc()).toBe(SharedSlab.EXHAUSTED);
    slab.free(held[3]!);
    slab.free(held[7]!);
    expect(slab.stats()).toMatchObject({ inUse: 14, cached: 2, free: 2, exhausted: 1 });
    // Blocks in this thread's own cache are always reachable.
    expect([slab.alloc(), slab.alloc()].sort()).toEqual([held[3], held[7]].sort());
    expect(slab.alloc()).toBe(SharedSlab.EXHAUSTED);
    expect(slab.stats()).toMatchObject({ inUse: 16, cached: 0, exhausted: 2 });
  });

  it('rejects a double free of a block that sits in the cache, leaving cache and slab unchanged', () => {
    const slab = new SharedSlab({ blockSize: 8, blockCount: 64, threadCache: 8 });
    const a = slab.alloc();
    const b = slab.alloc();
    slab.free(a);
    expect(slab.isAllocated(a)).toBe(false);
    const before = slab.stats();
    const cached = slab.cachedHere;
    expect(() => slab.free(a)).toThrow(/double free/);
    // The same from another thread's instance, whose cache has room.
    const other = secondThread(slab);
    expect(() => other.free(a)).toThrow(/double free/);
    expect(slab.stats()).toEqual(before);
    expect(slab.cachedHere).toBe(cached);
    expect(other.cachedHere).toBe(0);
    // The block comes out once, then is allocated; b was never freed.
    expect(slab.alloc()).toBe(a);
    expect(slab.isAllocated(b)).toBe(true);
    // A double free that finds the cache full (the slow path) is rejected before the flush.
    const tight = new SharedSlab({ blockSize: 8, blockCount: 64, threadCache: 2 });
    const [x, y, z] = [tight.alloc(), tight.alloc(), tight.alloc()];
    tight.free(x);
    tight.free(y);
    expect(tight.cachedHere).toBe(2);
    expect(() => tight.free(x)).toThrow(/double free/);
    expect(tight.cachedHere).toBe(2);
    expect(tight.stats()).toMatchObject({ inUse: 1, cached: 2 });
    tight.free(z);
    expect(tight.stats()).toMatchObject({ inUse: 0, cached: tight.cachedHere });
  });

  it('does not see blocks cached by another thread until that thread flushes them', () => {
    const slab = new SharedSlab({ blockSize: 8, blockCount: 16, threadCache: 8 });
    const other = secondThread(slab);
    const held = Array.from({ length: 16 }, () => slab.alloc());
    for (let i = 0; i < 6; i++) other.free(held[i]!); // freed on "the other thread": kept in its cache
    expect(other.cachedHere).toBe(6);
    expect(slab.stats()).toMatchObject({ inUse: 10, free: 6, cached: 6 });
    expect(slab.alloc()).toBe(SharedSlab.EXHAUSTED); // the documented limitation
    expect(other.flush()).toBe(6);
    expect(other.flush()).toBe(0);
    expect(slab.stats()).toMatchObject({ inUse: 10, free: 6, cached: 0 });
    const again = Array.from({ length: 6 }, () => slab.alloc());
    expect(again.sort()).toEqual(held.slice(0, 6).sort());
    expect(slab.alloc()).toBe(SharedSlab.EXHAUSTED);
  });

  it('flushAll() gives back the caches of every slab opened on this thread', () => {
    const one = new SharedSlab({ blockSize: 8, blockCount: 64, threadCache: 8 });
    const two = new SharedSlab({ blockSize: 16, blockCount: 64, threadCache: 4 });
    one.free(one.alloc());
    two.free(two.alloc());
    const cached = one.cachedHere + two.cachedHere;
    expect(cached).toBeGreaterThan(0);
    expect(SharedSlab.flushAll()).toBeGreaterThanOrEqual(cached);
    expect(one.stats()).toMatchObject({ inUse: 0, cached: 0, free: 64 });
    expect(two.stats()).toMatchObject({ inUse: 0, cached: 0, free: 64 });
    expect(Array.from({ length: 64 }, () => one.alloc()).every((o) => o !== SharedSlab.EXHAUSTED)).toBe(true);
  });

  it('gives back the cache of an instance that is garbage-collected', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const slab = new SharedSlab({ blockSize: 8, blockCount: 64, threadCache: 8 });
    const held = Array.from({ length: 6 }, () => slab.alloc());
    // Freed through an instance nobody keeps: its cache holds the 6 blocks.
    ((): void => {
      const other = secondThread(slab);
      for (const o of held) other.free(o);
    })();
    expect(slab.stats()).toMatchObject({ inUse: 0, cached: 6 + slab.cachedHere });
    for (let i = 0; i < 100 && slab.stats().cached > slab.cachedHere; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    expect(slab.stats()).toMatchObject({ inUse: 0, cached: slab.cachedHere });
    // Back on the shared list: this thread can allocate all 64.
    const all = Array.from({ length: 64 }, () => slab.alloc());
    expect(new Set(all).size).toBe(64);
  });

  it('behaves like a set of offsets shared by two caches (fast-check model test)', () => {
    type Cmd =
      | { kind: 'alloc'; t: number }
      | { kind: 'free'; t: number; pick: number }
      | { kind: 'doubleFree'; t: number; pick: number }
      | { kind: 'flush'; t: number };
    const t = fc.integer({ min: 0, max: 1 });
    const cmd = fc.oneof(
      t.map<Cmd>((t) => ({ kind: 'alloc', t })),
      fc.tuple(t, fc.nat()).map<Cmd>(([t, pick]) => ({ kind: 'free', t, pick })),
      fc.tuple(t, fc.nat()).map<Cmd>(([t, pick]) => ({ kind: 'doubleFree', t, pick })),
      t.map<Cmd>((t) => ({ kind: 'flush', t })),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 24 }), fc.integer({ min: 0, max: 6 }), fc.array(cmd, { maxLength: 200 }), (blockCount, threadCache, cmds) => {
        const first = new SharedSlab({ blockSize: 8, blockCount, threadCache });
        const threads = [first, secondThread(first)];
        const model = new HeldOffsets();
        const held = model.held;
        let exhausted = 0;
        for (const c of cmds) {
          const slab = threads[c.t]!;
          if (c.kind === 'alloc') {
            const before = slab.stats();
            // Exhausted exactly when this thread's cache and the shared list are both empty.
            const empty = slab.cachedHere === 0 && before.free - before.cached === 0;
            exhausted += model.took(slab.alloc(), empty);
          } else if (c.kind === 'free') {
            model.freeOne(slab, c.pick);
          } else if (c.kind === 'doubleFree') {
            model.checkDoubleFree(slab, c.pick);
          } else if (c.kind === 'flush') {
            const n = slab.cachedHere;
            expect(slab.flush()).toBe(n);
            expect(slab.cachedHere).toBe(0);
          }
          const stats = first.stats();
          expect(stats.inUse).toBe(held.size);
          expect(stats.free).toBe(blockCount - held.size);
          expect(stats.cached).toBe(threads[0]!.cachedHere + threads[1]!.cachedHere);
          expect(stats.exhausted).toBe(exhausted);
          for (const s of threads) expect(s.cachedHere).toBeLessThanOrEqual(threadCache);
        }
        for (const s of threads) s.flush();
        const all = Array.from({ length: blockCount - held.size }, () => first.alloc());
        expect(new Set([...all, ...held]).size).toBe(blockCount);
        expect(first.alloc()).toBe(SharedSlab.EXHAUSTED);
      }),
      { numRuns: 300 },
    );
  });
});
