/**
 * `BufferPool`: `Uint8Array` views in power-of-two size classes, carved out of larger slabs.
 *
 * Implementation note. Each size class owns slabs (`ArrayBuffer`s of `slabSize` bytes, or
 * of one block when the class is larger) cut into equal blocks. A block is named by its
 * id `slab * blocksPerSlab + block`; per class, two growable `Int32Array`s hold the stack of
 * released ids and, per id, the length of the view handed out plus one (0 = not handed
 * out). Release finds the class from `view.buffer` (a `Map` from slab to class and slab
 * number) and the block from `view.byteOffset`, and checks the recorded length before it
 * changes anything, so double releases and foreign views are rejected with the pool intact.
 *
 * ```
 * class 64 B, slabSize 256 KiB → 4096 blocks per slab
 * slab 0: | blk 0 | blk 1 | blk 2 | ... | blk 4095 |      id = slab * 4096 + blk
 * slab 1: | blk 0 | ...                                   byteOffset = blk * 64
 * free:   [ id, id, id, ... ]  ← top (LIFO: the warmest block is reused first)
 * length: [ len+1 | 0, ... ]   one Int32 per id
 * ```
 *
 * @module
 */
import { PoolError } from '../errors.js';
import { check, isIntIn, isPowerOfTwoIn, MEMORY_RULES } from './rules.js';

/** Options of a {@link BufferPool}. */
export interface BufferPoolOptions {
  /**
   * The smallest size class in bytes (a power of two). Smaller requests get a block of this size.
   * @default 64
   */
  readonly minSize?: number;
  /**
   * The largest size class in bytes (a power of two). Larger requests get a fresh, unpooled `Uint8Array`.
   * @default 1048576 (1 MiB)
   */
  readonly maxSize?: number;
  /**
   * Bytes per slab for the classes smaller than it; a class at least this large gets one block per slab.
   * @default 262144 (256 KiB)
   */
  readonly slabSize?: number;
  /**
   * Zero the bytes of a view when it is released, so every view `acquire` returns is all zeros.
   * @default false
   */
  readonly zeroOnRelease?: boolean;
}

/** Counters of one size class of a {@link BufferPool}. */
export interface BufferClassStats {
  /** Block size of this class in bytes. */
  readonly size: number;
  /** Slabs allocated for this class. */
  readonly slabs: number;
  /** Blocks those slabs hold (`slabs * blocksPerSlab`). */
  readonly blocks: number;
  /** Blocks handed out and not yet released. */
  readonly inUse: number;
  /** `acquire` calls served by a released block. */
  readonly hits: number;
  /** `acquire` calls served by a block never used before (carved from a slab, maybe a new one). */
  readonly misses: number;
}

/** Counters of a {@link BufferPool}. */
export interface BufferPoolStats {
  /** One entry per size class, smallest first. */
  readonly classes: readonly BufferClassStats[];
  /** Views handed out and not yet released, over every class. */
  readonly inUse: number;
  /** Bytes of every slab the pool holds. */
  readonly reservedBytes: number;
  /** Requests larger than `maxSize`, served by unpooled arrays. */
  readonly oversize: {
    /** Oversize arrays handed out since the pool was created. */
    readonly allocations: number;
    /** Oversize arrays handed out and not released yet. */
    readonly inUse: number;
  };
}

interface SizeClass {
  readonly size: number;
  readonly blocksPerSlab: number;
  readonly slabs: ArrayBuffer[];
  /** Stack of released block ids; `top` entries are valid. */
  free: Int32Array;
  top: number;
  /** Per block id: length handed out + 1, or 0 when the block is not handed out. */
  lengths: Int32Array;
  /** Blocks carved so far (ids 0..carved-1 have been used at least once). */
  carved: number;
  inUse: number;
  hits: number;
  misses: number;
}

interface SlabOwner {
  readonly cls: SizeClass;
  readonly slab: number;
}

function grow(array: Int32Array, needed: number): Int32Array {
  if (needed <= array.length) return array;
  const next = new Int32Array(Math.max(needed, array.length * 2, 16));
  next.set(array);
  return next;
}

/**
 * A pool of byte buffers in power-of-two size classes (by default 64 B to 1 MiB).
 *
 * When to use it: code that repeatedly needs scratch or I/O buffers of similar sizes
 * (framing, parsing, hashing). `acquire(size)` returns a `Uint8Array` of exactly `size`
 * bytes, a view over a block of the smallest class that fits, carved from a larger slab;
 * `release(view)` returns the block to its class. Requests above `maxSize` get a plain
 * `Uint8Array` (counted as *oversize*; releasing it is allowed and just lets it go).
 *
 * Views are not zeroed on `acquire` unless `zeroOnRelease` is set (like
 * `Buffer.allocUnsafe`). Releasing a view twice, or one the pool never handed out (another
 * array, or a `subarray` of a pooled view), throws `PoolError` (code `ZOKIO_ERR_POOL`) and
 * leaves the pool as it was.
 *
 * @example
 * ```ts
 * import { BufferPool } from 'zokio/memory';
 * const pool = new BufferPool({ zeroOnRelease: true });
 * const buf = pool.acquire(1500); // a 1500-byte view over a 2048-byte block
 * buf[0] = 42;
 * pool.release(buf);
 * console.log(pool.stats().classes.find((c) => c.size === 2048)); // { size: 2048, inUse: 0, ... }
 * ```
 */
export class BufferPool {
  /** The smallest class size in bytes. */
  readonly minSize: number;
  /** The largest class size in bytes. */
  readonly maxSize: number;
  /** Whether released bytes are zeroed. */
  readonly zeroOnRelease: boolean;
  readonly #slabSize: number;
  readonly #minShift: number;
  readonly #classes: SizeClass[] = [];
  readonly #owners = new Map<ArrayBufferLike, SlabOwner>();
  readonly #oversize = new WeakSet<Uint8Array>();
  #oversizeAllocations = 0;
  #oversizeInUse = 0;

  /**
   * @throws ConfigError (code `ZOKIO_ERR_CONFIG`) when a size is not a power of two in range.
   */
  constructor(options: BufferPoolOptions = {}) {
    const { minSize = 64, maxSize = 1048576, slabSize = 262144, zeroOnRelease = false } = options;
    check(isPowerOfTwoIn(minSize, 8, 16777216), 'minSize', MEMORY_RULES.sizeClass, minSize);
    check(isPowerOfTwoIn(maxSize, 8, 16777216) && maxSize >= minSize, 'maxSize', MEMORY_RULES.sizeClass, maxSize);
    check(isPowerOfTwoIn(slabSize, 64, 16777216), 'slabSize', MEMORY_RULES.slabSize, slabSize);
    this.minSize = minSize;
    this.maxSize = maxSize;
    this.zeroOnRelease = zeroOnRelease === true;
    this.#slabSize = slabSize;
    this.#minShift = 31 - Math.clz32(minSize);
    for (let size = minSize; size <= maxSize; size *= 2) {
      this.#classes.push({
        size,
        blocksPerSlab: Math.max(1, slabSize / size),
        slabs: [],
        free: new Int32Array(16),
        top: 0,
        lengths: new Int32Array(16),
        carved: 0,
        inUse: 0,
        hits: 0,
        misses: 0,
      });
    }
  }

  /** The block size that serves a request of `size` bytes, or `undefined` above `maxSize` (unpooled). */
  classSizeFor(size: number): number | undefined {
    if (!isIntIn(size, 0, Number.MAX_SAFE_INTEGER)) throw new RangeError(`BufferPool: size must be a non-negative integer (got ${String(size)})`);
    if (size > this.maxSize) return undefined;
    return this.#classes[this.#classIndex(size)]!.size;
  }

  #classIndex(size: number): number {
    // Smallest power of two >= size, as a shift; sizes <= minSize map to class 0.
    return size <= this.minSize ? 0 : 32 - Math.clz32(size - 1) - this.#minShift;
  }

  /**
   * Returns a view of exactly `size` bytes. Its contents are unspecified (all zeros when
   * `zeroOnRelease` is set).
   * @throws RangeError when `size` is not a non-negative integer.
   */
  acquire(size: number): Uint8Array {
    if (!(size >= 0 && size <= this.maxSize && Number.isInteger(size))) {
      if (!isIntIn(size, 0, Number.MAX_SAFE_INTEGER)) throw new RangeError(`BufferPool: size must be a non-negative integer (got ${String(size)})`);
      const big = new Uint8Array(size);
      this.#oversize.add(big);
      this.#oversizeAllocations++;
      this.#oversizeInUse++;
      return big;
    }
    const cls = this.#classes[this.#classIndex(size)]!;
    let id: number;
    if (cls.top > 0) {
      id = cls.free[--cls.top]!;
      cls.hits++;
    } else {
      id = cls.carved;
      if (id === cls.slabs.length * cls.blocksPerSlab) this.#addSlab(cls);
      cls.carved++;
      cls.misses++;
    }
    cls.lengths[id] = size + 1;
    cls.inUse++;
    const slab = (id / cls.blocksPerSlab) | 0;
    return new Uint8Array(cls.slabs[slab]!, (id - slab * cls.blocksPerSlab) * cls.size, size);
  }

  #addSlab(cls: SizeClass): void {
    const buffer = new ArrayBuffer(cls.size * cls.blocksPerSlab);
    this.#owners.set(buffer, { cls, slab: cls.slabs.length });
    cls.slabs.push(buffer);
    const blocks = cls.slabs.length * cls.blocksPerSlab;
    cls.lengths = grow(cls.lengths, blocks);
    cls.free = grow(cls.free, blocks);
  }

  /**
   * Returns a view to its size class (zeroing it first when `zeroOnRelease` is set).
   * @throws PoolError (code `ZOKIO_ERR_POOL`) when the view was already released or is not one this pool handed out; the pool is left unchanged.
   */
  release(view: Uint8Array): void {
    const owner = view instanceof Uint8Array ? this.#owners.get(view.buffer) : undefined;
    if (owner === undefined) {
      if (view instanceof Uint8Array && this.#oversize.has(view)) {
        this.#oversize.delete(view);
        this.#oversizeInUse--;
        return;
      }
      throw new PoolError('BufferPool.release: this view was not acquired from this pool (foreign buffer), or it was an oversize buffer already released');
    }
    const cls = owner.cls;
    const block = view.byteOffset / cls.size;
    const recorded = Number.isInteger(block) ? cls.lengths[owner.slab * cls.blocksPerSlab + block]! : -1;
    if (recorded === 0) throw new PoolError('BufferPool.release: this view was already released (double release)');
    if (recorded !== view.length + 1) {
      throw new PoolError('BufferPool.release: this view does not match the one the pool handed out (a subarray or a foreign view over a pooled slab)');
    }
    if (this.zeroOnRelease) view.fill(0);
    const id = owner.slab * cls.blocksPerSlab + block;
    cls.lengths[id] = 0;
    cls.free[cls.top++] = id;
    cls.inUse--;
  }

  /** A snapshot of the pool's counters, per class and in total. */
  stats(): BufferPoolStats {
    let inUse = 0;
    let reservedBytes = 0;
    const classes = this.#classes.map((c): BufferClassStats => {
      inUse += c.inUse;
      reservedBytes += c.slabs.length * c.blocksPerSlab * c.size;
      return { size: c.size, slabs: c.slabs.length, blocks: c.slabs.length * c.blocksPerSlab, inUse: c.inUse, hits: c.hits, misses: c.misses };
    });
    return { classes, inUse, reservedBytes, oversize: { allocations: this.#oversizeAllocations, inUse: this.#oversizeInUse } };
  }

  /** Bytes per slab for classes smaller than it. */
  get slabSize(): number {
    return this.#slabSize;
  }
}
