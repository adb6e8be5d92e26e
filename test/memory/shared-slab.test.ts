import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SharedSlab, MEMORY_RULES } from '../../src/memory/index.js';
import { ConfigError, PoolError } from '../../src/errors.js';
import { reviveShared, SHARED_KIND_FIELD } from '../../src/sync/shared/revive.js';

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

  it('opens the same memory from a handle, a structured clone, or the buffer', () => {
    const slab = new SharedSlab({ blockSize: 16, blockCount: 8 });
    const fromHandle = SharedSlab.from(structuredClone(slab.handle));
    const revived = reviveShared(structuredClone(slab));
    const fromBuffer = SharedSlab.from(slab.buffer);
    expect(revived).toBeInstanceOf(SharedSlab);
    const clone = structuredClone(slab) as unknown as Record<string, unknown>;
    expect(clone[SHARED_KIND_FIELD]).toBe('SharedSlab');
    expect(Object.keys(clone).sort()).toEqual([SHARED_KIND_FIELD, 'blockCount', 'blockSize', 'buffer', 'dataOffset'].sort());
    const a = fromHandle.alloc();
    const b = (revived as SharedSlab).alloc();
    const c = fromBuffer.alloc();
    expect(new Set([a, b, c]).size).toBe(3);
    expect(slab.stats().inUse).toBe(3);
    slab.free(a);
    expect(() => fromBuffer.free(a)).toThrow(/double free/);
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
        const held = new Set<number>();
        const released: number[] = [];
        let exhausted = 0;
        for (const c of cmds) {
          if (c.kind === 'alloc') {
            const off = slab.alloc();
            if (held.size === blockCount) {
              expect(off).toBe(SharedSlab.EXHAUSTED);
              exhausted++;
            } else {
              expect(off).not.toBe(SharedSlab.EXHAUSTED);
              expect(held.has(off)).toBe(false);
              expect(slab.indexOf(off)).toBeLessThan(blockCount);
              held.add(off);
            }
          } else if (c.kind === 'free' && held.size > 0) {
            const off = [...held][c.pick % held.size]!;
            slab.free(off);
            held.delete(off);
            released.push(off);
          } else if (c.kind === 'doubleFree' && released.length > 0) {
            const off = released[c.pick % released.length]!;
            if (!held.has(off)) expect(() => slab.free(off)).toThrow(/double free/);
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
