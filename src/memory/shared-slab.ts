/**
 * `SharedSlab`: fixed-size blocks inside a `SharedArrayBuffer`, allocated and freed from
 * any thread at once, without locks.
 *
 * Implementation note. Free blocks form a Treiber stack: the head word holds the index of
 * the top free block, each free block's control word holds the index of the block under it.
 * `alloc` pops with one `Atomics.compareExchange` on the head, `free` pushes with one.
 * The classic ABA hazard of a Treiber stack (a thread reads head = X and next(X) = Y,
 * others pop X and Y and push X back, the stale CAS X → Y succeeds and hands out Y twice)
 * is closed by a generation tag in the high bits of the head word: every successful CAS
 * adds one to it, so a stale CAS fails even when the same block is on top again.
 * The tag has `32 - indexBits` bits (at least 11, since blockCount <= 2^20); a stale CAS
 * could only succeed if its thread slept through an exact multiple of 2^tagBits head
 * changes and found the same block on top.
 *
 * Each block has one control word that is also its state: `-1` while allocated, and
 * `next + 1` (>= 0) while free. `free` claims it with one CAS `-1 → next + 1`, so a double
 * free (or a free racing another free of the same block) fails that CAS and is rejected
 * before the free list is touched; `alloc` stores `-1` after its pop. One word for both
 * keeps a pair at four locked instructions (two CAS on the head, one CAS and one store on
 * the block), plus two loads (the head and the popped block's link) in `alloc`; `free`
 * starts its push from the last head this thread saw, since a push is ABA-safe. The
 * allocator never writes into the data blocks: what the owner stores there is its own.
 * Every shared word is read and written with `Atomics`.
 *
 * Layout of the SharedArrayBuffer (byte offsets; one Int32 word = 4 bytes):
 * ```
 *   0 ┌──────────────────────────────────────────────────────────────────┐
 *     │ w0 MAGIC 'ZKSL' │ w1 version │ w2 blockSize │ w3 blockCount      │
 *     │ w4 indexBits    │ w5 dataOffset │ w6 exhausted (failed allocs)    │
 *     │ w7 reserved …                                   (cache line 0)   │
 *  64 ├──────────────────────────────────────────────────────────────────┤
 *     │ w16 HEAD = tag << indexBits | (topIndex + 1)   (0 = stack empty) │
 *     │ … padding so that HEAD has its own cache line    (cache line 1)  │
 * 128 ├──────────────────────────────────────────────────────────────────┤
 *     │ control: 1 word per block  [c0][c1][c2] … [c(n-1)]               │
 *     │ c = -1 while the block is allocated                              │
 *     │ c = index + 1 of the free block below it while free (0 = bottom) │
 *  dataOffset = align64(128 + 4 * blockCount) ───────────────────────────┤
 *     │ block 0 (blockSize bytes) │ block 1 │ … │ block n-1              │
 *     └──────────────────────────────────────────────────────────────────┘
 *   alloc() returns the byte offset of a block: dataOffset + index * blockSize
 * ```
 *
 * @module
 */
import { PoolError } from '../errors.js';
import { registerShared, SHARED_KIND_FIELD } from '../sync/shared/revive.js';
import { check, isIntIn, MEMORY_RULES } from './rules.js';

const MAGIC = 0x5a4b534c; // 'ZKSL'
const VERSION = 1;
const W_MAGIC = 0;
const W_VERSION = 1;
const W_BLOCK_SIZE = 2;
const W_BLOCK_COUNT = 3;
const W_INDEX_BITS = 4;
const W_DATA_OFFSET = 5;
const W_EXHAUSTED = 6;
const W_HEAD = 16;
const CONTROL_BYTE = 128;
const W_CONTROL = CONTROL_BYTE >> 2;
const ALLOCATED = -1;

/** Options of a new {@link SharedSlab}. */
export interface SharedSlabOptions {
  /** Bytes per block: a multiple of 8 from 8 to 1048576 (so Int32, Float64 and BigInt64 views of a block are aligned). */
  readonly blockSize: number;
  /** Number of blocks: an integer from 1 to 1048576. */
  readonly blockCount: number;
}

/** What to pass to another thread to open the same slab there: `SharedSlab.from(handle)`. */
export interface SharedSlabHandle {
  /** Marks the clone as a shared SharedSlab so the worker side rebuilds it over the same memory. */
  readonly [SHARED_KIND_FIELD]: 'SharedSlab';
  /** The shared memory: header, control words and blocks; cloning keeps it shared. */
  readonly buffer: SharedArrayBuffer;
}

/** Counters of a {@link SharedSlab}; a snapshot, other threads may change it meanwhile. */
export interface SharedSlabStats {
  /** Bytes per block, as created. */
  readonly blockSize: number;
  /** Total number of blocks, as created. */
  readonly blockCount: number;
  /** Blocks allocated now (counted from the control words). */
  readonly inUse: number;
  /** `blockCount - inUse`. */
  readonly free: number;
  /** `alloc()` calls, from every thread, that found no free block. */
  readonly exhausted: number;
  /** Bytes of the whole SharedArrayBuffer (header, control words and blocks). */
  readonly byteLength: number;
}

function align64(n: number): number {
  return (n + 63) & ~63;
}

/**
 * A lock-free allocator of fixed-size blocks inside a `SharedArrayBuffer`, usable from the
 * main thread and every worker at once.
 *
 * When to use it: records that several threads read and write (task records, message
 * slots, per-request scratch) and that must not move or be copied. `alloc()` returns the
 * byte offset of a free block, or {@link SharedSlab.EXHAUSTED} (-1) when none is left (no
 * throw, no wait: the caller decides whether to back off, fall back to the heap or fail).
 * `free(offset)` gives it back; a double free or an offset that is not a block throws
 * `PoolError` (code `ZOKIO_ERR_POOL`) and changes nothing.
 *
 * Read and write the blocks through the views over the whole buffer, `slab.int32`,
 * `slab.bytes`, `slab.float64`, with `slab.word(offset, i)` for the index of a block's
 * Int32 word `i`; use `Atomics` on words other threads touch at the same time.
 *
 * To use the slab in a worker, pass the slab itself as a worker task argument (it follows
 * the shared-object protocol and is revived there), or pass `slab.handle` and call
 * `SharedSlab.from(handle)`.
 *
 * *Ordering*: the free list is LIFO; which block `alloc` returns is unspecified.
 *
 * @example
 * ```ts
 * import { SharedSlab } from 'zokio/memory';
 * const slab = new SharedSlab({ blockSize: 64, blockCount: 1024 });
 * const rec = slab.alloc();
 * if (rec === SharedSlab.EXHAUSTED) throw new Error('no free record');
 * Atomics.store(slab.int32, slab.word(rec, 0), 42); // word 0 of the block
 * slab.free(rec);
 * console.log(slab.stats().inUse); // 0
 * ```
 */
export class SharedSlab {
  /** What `alloc()` returns when every block is taken. */
  static readonly EXHAUSTED = -1;

  /** Marks the instance as a shared object so it can be a worker task argument (see `src/sync/shared/revive.ts`). */
  readonly [SHARED_KIND_FIELD] = 'SharedSlab' as const;
  /** The memory of the slab: header, control words and blocks. */
  readonly buffer: SharedArrayBuffer;
  /** Bytes per block (a multiple of 8). */
  readonly blockSize: number;
  /** Number of blocks. */
  readonly blockCount: number;
  /** Byte offset of block 0; block `i` starts at `dataOffset + i * blockSize`. */
  readonly dataOffset: number;
  // The views are private fields behind getters so that a structured clone of the slab
  // (a worker task argument) carries only the kind, the buffer and three numbers.
  readonly #int32: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #float64: Float64Array;
  readonly #indexMask: number;
  readonly #tagOne: number;
  /** The last head value this instance wrote: the first guess of `free`'s push (never of a pop). */
  #lastHead = 0;

  /**
   * Allocates a new slab of `blockCount` blocks of `blockSize` bytes, all free.
   * @throws ConfigError (code `ZOKIO_ERR_CONFIG`) when an option breaks its rule.
   */
  constructor(options: SharedSlabOptions);
  /** @internal Opens an existing slab buffer; use {@link SharedSlab.from}. */
  constructor(options: SharedSlabOptions, existing: SharedArrayBuffer);
  constructor(options: SharedSlabOptions, existing?: SharedArrayBuffer) {
    let buffer: SharedArrayBuffer;
    if (existing === undefined) {
      const { blockSize, blockCount } = options ?? ({} as SharedSlabOptions);
      check(isIntIn(blockSize, 8, 1048576) && blockSize % 8 === 0, 'blockSize', MEMORY_RULES.blockSize, blockSize);
      check(isIntIn(blockCount, 1, 1048576), 'blockCount', MEMORY_RULES.blockCount, blockCount);
      const dataOffset = align64(CONTROL_BYTE + 4 * blockCount);
      buffer = new SharedArrayBuffer(dataOffset + blockSize * blockCount);
      const w = new Int32Array(buffer);
      const indexBits = 32 - Math.clz32(blockCount);
      w[W_BLOCK_SIZE] = blockSize;
      w[W_BLOCK_COUNT] = blockCount;
      w[W_INDEX_BITS] = indexBits;
      w[W_DATA_OFFSET] = dataOffset;
      // Every block free: 0 on top, i's next is i + 1 (stored + 1), the last one's is 0.
      for (let i = 0; i < blockCount; i++) w[W_CONTROL + i] = i + 1 < blockCount ? i + 2 : 0;
      w[W_HEAD] = 1; // tag 0, top index 0
      w[W_VERSION] = VERSION;
      Atomics.store(w, W_MAGIC, MAGIC); // published last: from() checks it
    } else {
      buffer = existing;
    }
    this.buffer = buffer;
    this.#int32 = new Int32Array(buffer);
    this.#bytes = new Uint8Array(buffer);
    this.#float64 = new Float64Array(buffer, 0, buffer.byteLength >> 3);
    const w = this.#int32;
    this.blockSize = Atomics.load(w, W_BLOCK_SIZE);
    this.blockCount = Atomics.load(w, W_BLOCK_COUNT);
    this.dataOffset = Atomics.load(w, W_DATA_OFFSET);
    const indexBits = Atomics.load(w, W_INDEX_BITS);
    this.#indexMask = (1 << indexBits) - 1;
    this.#tagOne = 1 << indexBits;
  }

  /**
   * Opens a slab created elsewhere (another thread, or before a structured clone) over the
   * same memory: from its handle, a structured-clone copy of the slab, or its buffer.
   *
   * @example
   * ```ts
   * // worker.ts
   * import { workerData } from 'node:worker_threads';
   * import { SharedSlab } from 'zokio/memory';
   * const slab = SharedSlab.from(workerData.slab);
   * ```
   * @throws PoolError (code `ZOKIO_ERR_POOL`) when the memory does not hold a slab.
   */
  static from(source: SharedSlabHandle | { readonly buffer: SharedArrayBuffer } | SharedArrayBuffer): SharedSlab {
    if (source instanceof SharedSlab) return source;
    const buffer = source instanceof SharedArrayBuffer ? source : (source as { buffer?: unknown } | null)?.buffer;
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < CONTROL_BYTE) {
      throw new PoolError('SharedSlab.from: expected a SharedSlab handle or its SharedArrayBuffer');
    }
    const w = new Int32Array(buffer, 0, CONTROL_BYTE >> 2);
    if (Atomics.load(w, W_MAGIC) !== MAGIC || Atomics.load(w, W_VERSION) !== VERSION) {
      throw new PoolError('SharedSlab.from: this SharedArrayBuffer does not hold a SharedSlab (bad magic or version)');
    }
    const dataOffset = Atomics.load(w, W_DATA_OFFSET);
    if (buffer.byteLength !== dataOffset + Atomics.load(w, W_BLOCK_SIZE) * Atomics.load(w, W_BLOCK_COUNT)) {
      throw new PoolError('SharedSlab.from: the SharedArrayBuffer size does not match the slab header');
    }
    return new SharedSlab({ blockSize: 0, blockCount: 0 }, buffer);
  }

  /** Int32 view of the whole buffer; Int32 word `i` of the block at `offset` is `int32[slab.word(offset, i)]`. */
  get int32(): Int32Array {
    return this.#int32;
  }

  /** Byte view of the whole buffer; a block's bytes are `bytes[offset .. offset + blockSize)`. */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  /** Float64 view of the whole buffer; Float64 `i` of the block at `offset` is `float64[(offset >> 3) + i]`. */
  get float64(): Float64Array {
    return this.#float64;
  }

  /** A small cloneable object that opens the same slab in another thread with `SharedSlab.from(handle)`. */
  get handle(): SharedSlabHandle {
    return { [SHARED_KIND_FIELD]: 'SharedSlab', buffer: this.buffer };
  }

  /**
   * Takes a free block and returns its byte offset in `buffer`, or
   * {@link SharedSlab.EXHAUSTED} (-1) when every block is taken. Lock-free; never throws.
   * The block's bytes are whatever its previous owner left.
   */
  alloc(): number {
    // Hot path: a CAS loop over one Int32Array, no allocation, no calls. A pop always
    // starts from a fresh load of the head: that keeps the ABA window to a few instructions.
    const w = this.#int32;
    const mask = this.#indexMask;
    for (;;) {
      const head = Atomics.load(w, W_HEAD);
      const top = head & mask;
      if (top === 0) {
        Atomics.add(w, W_EXHAUSTED, 1);
        return -1;
      }
      const index = top - 1;
      // If another thread popped this block meanwhile, `below` may be stale (even -1), but
      // then the head's tag has moved on and the CAS below fails.
      const below = Atomics.load(w, W_CONTROL + index);
      // New head: tag + 1 (wrapping inside the high bits), index of the block below.
      const next = ((head + this.#tagOne) & ~mask) | (below & mask);
      if (Atomics.compareExchange(w, W_HEAD, head, next) === head) {
        this.#lastHead = next;
        Atomics.store(w, W_CONTROL + index, ALLOCATED);
        return this.dataOffset + index * this.blockSize;
      }
    }
  }

  /**
   * Gives a block back. Lock-free.
   * @throws PoolError (code `ZOKIO_ERR_POOL`) when `offset` is not the offset of a block of
   * this slab, or the block is not allocated (double free); the slab is left unchanged.
   */
  free(offset: number): void {
    const index = this.indexOf(offset);
    const w = this.#int32;
    const mask = this.#indexMask;
    const slot = W_CONTROL + index;
    // A push is ABA-safe (if the head still equals `head`, its top is the block we linked
    // to), so it may start from the last head this thread saw instead of a fresh load; a
    // wrong guess only costs a failed CAS, which returns the real head.
    let head = this.#lastHead;
    // One CAS marks the block free and links it above the (guessed) top.
    if (Atomics.compareExchange(w, slot, ALLOCATED, head & mask) !== ALLOCATED) {
      throw new PoolError(`SharedSlab.free: block at offset ${offset} is not allocated (double free)`);
    }
    for (;;) {
      const next = ((head + this.#tagOne) & ~mask) | (index + 1);
      const seen = Atomics.compareExchange(w, W_HEAD, head, next);
      if (seen === head) {
        this.#lastHead = next;
        return;
      }
      head = seen;
      Atomics.store(w, slot, head & mask); // the block is ours until the push lands: relink it
    }
  }

  /**
   * The index (0..blockCount-1) of the block at byte `offset`.
   * @throws PoolError (code `ZOKIO_ERR_POOL`) when `offset` is not the start of a block.
   */
  indexOf(offset: number): number {
    const rel = offset - this.dataOffset;
    const index = rel / this.blockSize;
    if (!(index >= 0 && index < this.blockCount && (index | 0) === index)) {
      throw new PoolError(`SharedSlab: offset ${String(offset)} is not the start of a block of this slab`);
    }
    return index;
  }

  /** The byte offset of block `index` (0..blockCount-1), the inverse of {@link indexOf}. */
  offsetOf(index: number): number {
    if (!isIntIn(index, 0, this.blockCount - 1)) throw new PoolError(`SharedSlab: block index ${String(index)} is out of range 0..${this.blockCount - 1}`);
    return this.dataOffset + index * this.blockSize;
  }

  /** The index in {@link int32} of Int32 word `i` of the block at byte `offset`: `(offset >> 2) + i`. */
  word(offset: number, i: number): number {
    return (offset >> 2) + i;
  }

  /** An Int32Array over just the block at `offset` (allocates a view; on hot paths use {@link int32} with {@link word}). */
  int32View(offset: number): Int32Array {
    this.indexOf(offset);
    return new Int32Array(this.buffer, offset, this.blockSize >> 2);
  }

  /** A Uint8Array over just the block at `offset`. */
  bytesView(offset: number): Uint8Array {
    this.indexOf(offset);
    return new Uint8Array(this.buffer, offset, this.blockSize);
  }

  /** True when the block at `offset` is allocated now (a snapshot). */
  isAllocated(offset: number): boolean {
    return Atomics.load(this.#int32, W_CONTROL + this.indexOf(offset)) === ALLOCATED;
  }

  /** A snapshot of the counters; O(blockCount), it reads every control word. */
  stats(): SharedSlabStats {
    const w = this.#int32;
    let inUse = 0;
    // A plain loop over the control words: stats() is the only O(n) operation and stays off the hot path.
    for (let i = W_CONTROL, end = W_CONTROL + this.blockCount; i < end; i++) if (Atomics.load(w, i) === ALLOCATED) inUse++;
    return {
      blockSize: this.blockSize,
      blockCount: this.blockCount,
      inUse,
      free: this.blockCount - inUse,
      exhausted: Atomics.load(w, W_EXHAUSTED),
      byteLength: this.buffer.byteLength,
    };
  }
}

/** @internal Rebuilds a `SharedSlab` from its structured-clone copy on the worker side. */
export function reviveSharedSlab(data: Record<string, unknown>): SharedSlab {
  return SharedSlab.from(data as { buffer: SharedArrayBuffer });
}

registerShared('SharedSlab', reviveSharedSlab);
