/**
 * `SharedSlab`: fixed-size blocks inside a `SharedArrayBuffer`, allocated and freed from
 * any thread at once, without locks.
 *
 * Implementation note. Two levels, as in tcmalloc, jemalloc and mimalloc: a small cache of
 * free blocks per thread (a "magazine", plain memory of this thread) in front of one shared
 * lock-free free list. On this V8 every `Atomics` call costs ~10 ns, so the shared list
 * alone (six of them per alloc + free) cannot pass ~16 M pairs/s; through the cache a pair
 * costs two: `free` claims the block with one CAS and keeps it, `alloc` hands a kept block
 * out with one store. The shared list is touched only in batches of `threadCache / 2`
 * blocks: to refill an empty cache (one CAS pops the whole batch) or to flush a full one
 * (one CAS pushes the batch as a chain). With `threadCache: 0` every call goes to the
 * shared list, as in version 1 of this layout.
 *
 * The shared free list is a Treiber stack: the head word holds the index of the top free
 * block, each free block's control word holds the index of the block under it. The classic
 * ABA hazard of a Treiber stack (a thread reads head = X and next(X) = Y, others pop X and
 * Y and push X back, the stale CAS X → Y succeeds and hands out Y twice) is closed by a
 * generation tag in the high bits of the head word: every successful CAS adds one to it,
 * so a stale CAS fails even when the same block is on top again. The tag has
 * `32 - indexBits` bits (at least 11, since blockCount <= 2^20); a stale CAS could only
 * succeed if its thread slept through an exact multiple of 2^tagBits head changes and
 * found the same block on top. A batch pop walks up to `batch` links from the head it
 * loaded; a link read while other threads move blocks may be stale, but then the head has
 * moved on and the CAS fails (a link that reads "allocated" or "cached" restarts at once).
 *
 * Each block has one control word that is also its state: `-1` while allocated, `-2` while
 * free in some thread's cache, and `next + 1` (>= 0) while free on the shared list. `free`
 * claims a block with one CAS `-1 → …`, so a double free (even of a block sitting in a
 * cache) or a free racing another free of the same block fails that CAS and is rejected
 * before any list is touched. The words are exact at every moment a thread is not in the
 * middle of an operation, so `stats()` counts `inUse` and `cached` from them. The
 * allocator never writes into the data blocks: what the owner stores there is its own.
 * Every shared word is read and written with `Atomics`.
 *
 * Each thread opens a slab once: `new SharedSlab`, `SharedSlab.from` and the worker-side
 * revive all return the instance this thread already has for the same slab (found by the
 * random slab id in the header), so a thread has one cache per slab however often the slab
 * arrives as a task argument. A cache comes back to the shared list on `flush()`, on
 * `SharedSlab.flushAll()` (the pool worker calls it before it parks), when the instance is
 * garbage-collected (a `FinalizationRegistry`), and when the thread ends by itself or calls
 * `process.exit` (an `exit` listener). A thread that is terminated or crashes keeps its
 * cached blocks for good: at most `threadCache` per slab it used, counted in
 * `stats().cached`.
 *
 * Layout of the slab (byte offsets from its start, which is `byteOffset` in its
 * SharedArrayBuffer: 0, unless it lives in a region of a larger buffer, as the pool's task
 * records do; one Int32 word = 4 bytes):
 * ```
 *   0 ┌──────────────────────────────────────────────────────────────────┐
 *     │ w0 MAGIC 'ZKSL' │ w1 version │ w2 blockSize │ w3 blockCount      │
 *     │ w4 indexBits    │ w5 dataOffset │ w6 exhausted (failed allocs)    │
 *     │ w7 threadCache  │ w8 w9 slab id (random; finds this thread's     │
 *     │ w10 reserved …  │       instance of the slab)  (cache line 0)    │
 *  64 ├──────────────────────────────────────────────────────────────────┤
 *     │ w16 HEAD = tag << indexBits | (topIndex + 1)   (0 = stack empty) │
 *     │ … padding so that HEAD has its own cache line    (cache line 1)  │
 * 128 ├──────────────────────────────────────────────────────────────────┤
 *     │ control: 1 word per block  [c0][c1][c2] … [c(n-1)]               │
 *     │ c = -1 while the block is allocated                              │
 *     │ c = -2 while it is free in one thread's cache                    │
 *     │ c = index + 1 of the free block below it while free on the       │
 *     │     shared stack (0 = bottom)                                    │
 *  align64(128 + 4 * blockCount) (dataOffset - byteOffset) ──────────────┤
 *     │ block 0 (blockSize bytes) │ block 1 │ … │ block n-1              │
 *     └──────────────────────────────────────────────────────────────────┘
 *   alloc() returns the byte offset of a block: dataOffset + index * blockSize
 * ```
 *
 * A thread's cache of one slab (an ordinary Int32Array of this thread, not shared):
 * ```
 *   blocks: [ i7 ][ i3 ][ i12 ] … [ iK ][    ] … [    ]
 *             0     1     2        count-1         threadCache-1
 *   alloc: count > 0 → take blocks[count-1], store -1 in its control word
 *          count = 0 → refill: one CAS pops up to `batch` blocks off HEAD (each gets -2)
 *   free:  CAS its control word -1 → -2, put it at blocks[count]
 *          count = threadCache → flush first: one CAS pushes blocks[count-batch .. count)
 *   batch = max(1, threadCache >> 1)
 * ```
 *
 * @module
 */
import { PoolError } from '../errors.js';
import { SHARED_KIND_FIELD } from '../sync/shared/shared-kind.js';
import { check, isIntIn, MEMORY_RULES } from './rules.js';

const MAGIC = 0x5a4b534c; // 'ZKSL'
const VERSION = 2;
const W_MAGIC = 0;
const W_VERSION = 1;
const W_BLOCK_SIZE = 2;
const W_BLOCK_COUNT = 3;
const W_INDEX_BITS = 4;
const W_DATA_OFFSET = 5;
const W_EXHAUSTED = 6;
const W_THREAD_CACHE = 7;
const W_ID_HIGH = 8;
const W_ID_LOW = 9;
const W_HEAD = 16;
const CONTROL_BYTE = 128;
const W_CONTROL = CONTROL_BYTE >> 2;
const ALLOCATED = -1;
const CACHED = -2;

/** Options of a new {@link SharedSlab}. */
export interface SharedSlabOptions {
  /** Bytes per block: a multiple of 8 from 8 to 1048576 (so Int32, Float64 and BigInt64 views of a block are aligned). */
  readonly blockSize: number;
  /** Number of blocks: an integer from 1 to 1048576. */
  readonly blockCount: number;
  /**
   * Free blocks each thread may keep in its own cache in front of the shared free list: an
   * integer from 0 to 1024; 0 sends every `alloc` and `free` to the shared list. The same
   * for every thread that opens the slab. A cached block can be allocated only by the
   * thread that holds it, so with N threads up to `N * threadCache` free blocks may be out
   * of another thread's reach (see {@link SharedSlab.flush}).
   * @default Math.min(32, blockCount >> 4) (a sixteenth of the blocks, at most 32)
   */
  readonly threadCache?: number;
}

/** What to pass to another thread to open the same slab there: `SharedSlab.from(handle)`. */
export interface SharedSlabHandle {
  /** Marks the clone as a shared SharedSlab so the worker side rebuilds it over the same memory. */
  readonly [SHARED_KIND_FIELD]: 'SharedSlab';
  /** The shared memory: header, control words and blocks; cloning keeps it shared. */
  readonly buffer: SharedArrayBuffer;
  /** Where the slab starts in `buffer` (0 unless it lives in a region of a larger buffer). */
  readonly byteOffset: number;
}

/** Counters of a {@link SharedSlab}; a snapshot, other threads may change it meanwhile. */
export interface SharedSlabStats {
  /** Bytes per block, as created. */
  readonly blockSize: number;
  /** Total number of blocks, as created. */
  readonly blockCount: number;
  /** Blocks allocated now (counted from the control words). */
  readonly inUse: number;
  /** `blockCount - inUse`: every block not allocated, including the `cached` ones. */
  readonly free: number;
  /**
   * Free blocks held in a thread's cache (counted from the control words), part of `free`:
   * only the thread holding one can allocate it until that thread flushes its cache.
   */
  readonly cached: number;
  /** `alloc()` calls, from every thread, that found no free block in their cache or on the shared list. */
  readonly exhausted: number;
  /** Bytes of the slab: header, control words and blocks (the whole SharedArrayBuffer, unless the slab lives in a region of a larger one). */
  readonly byteLength: number;
}

function align64(n: number): number {
  return (n + 63) & ~63;
}

/** One thread's cache of free blocks of one slab: plain memory of this thread, never shared. */
interface ThreadCache {
  /** Block indexes; `blocks[0 .. count)` are cached, the top is `blocks[count - 1]`. */
  readonly blocks: Int32Array;
  count: number;
}

/**
 * Links `cache.blocks[from .. count)` into one chain (top = the last one) and pushes it on
 * the shared stack with one CAS, starting from the head `guess` (a push is ABA-safe: if
 * the head still equals it, its top is the block the chain's bottom links to; a wrong
 * guess costs one failed CAS, which returns the real head). Returns the new head.
 */
function pushCached(w: Int32Array, mask: number, tagOne: number, cache: ThreadCache, from: number, guess: number): number {
  const blocks = cache.blocks;
  const top = cache.count - 1;
  // The blocks are this thread's (state CACHED) until the CAS lands: linking them is safe.
  for (let j = top; j > from; j--) Atomics.store(w, W_CONTROL + blocks[j]!, blocks[j - 1]! + 1);
  const bottom = W_CONTROL + blocks[from]!;
  let head = guess;
  for (;;) {
    Atomics.store(w, bottom, head & mask);
    const next = ((head + tagOne) & ~mask) | (blocks[top]! + 1);
    const seen = Atomics.compareExchange(w, W_HEAD, head, next);
    if (seen === head) {
      cache.count = from;
      return next;
    }
    head = seen;
  }
}

/** What the finalizer of a collected instance needs to give its cached blocks back. */
interface Leftover {
  readonly words: Int32Array;
  readonly mask: number;
  readonly tagOne: number;
  readonly cache: ThreadCache;
  readonly id: number;
}

// One instance per slab per thread, by slab id, so that a thread has one cache per slab
// however often the slab arrives (every task argument is revived anew). Weak: a slab this
// thread no longer uses can be collected; its cached blocks then go back via the finalizer.
const opened = new Map<number, WeakRef<SharedSlab>>();
const leftovers = new FinalizationRegistry<Leftover>((left) => {
  if (left.cache.count > 0) pushCached(left.words, left.mask, left.tagOne, left.cache, 0, Atomics.load(left.words, W_HEAD));
  if (opened.get(left.id)?.deref() === undefined) opened.delete(left.id);
});
let exitHooked = false;

/** The slab id in the header as one number: 32 + 21 random bits. */
function slabId(w: Int32Array): number {
  return (Atomics.load(w, W_ID_HIGH) >>> 0) * 0x200000 + (Atomics.load(w, W_ID_LOW) & 0x1fffff);
}

/** Checks the options of a new slab; returns them with the defaults filled in. */
function checkOptions(options: SharedSlabOptions): { blockSize: number; blockCount: number; threadCache: number } {
  const { blockSize, blockCount, threadCache } = options ?? ({} as SharedSlabOptions);
  check(isIntIn(blockSize, 8, 1048576) && blockSize % 8 === 0, 'blockSize', MEMORY_RULES.blockSize, blockSize);
  check(isIntIn(blockCount, 1, 1048576), 'blockCount', MEMORY_RULES.blockCount, blockCount);
  check(threadCache === undefined || isIntIn(threadCache, 0, 1024), 'threadCache', MEMORY_RULES.threadCache, threadCache);
  return { blockSize, blockCount, threadCache: threadCache ?? Math.min(32, blockCount >> 4) };
}

/** Writes the header and the free list of a new slab into `w`, the words of its region. */
function initSlab(w: Int32Array, options: SharedSlabOptions): void {
  const { blockSize, blockCount, threadCache } = checkOptions(options);
  w[W_BLOCK_SIZE] = blockSize;
  w[W_BLOCK_COUNT] = blockCount;
  w[W_INDEX_BITS] = 32 - Math.clz32(blockCount);
  w[W_DATA_OFFSET] = align64(CONTROL_BYTE + 4 * blockCount);
  w[W_THREAD_CACHE] = threadCache;
  const id = crypto.getRandomValues(new Int32Array(2)); // into local memory, then copied
  w[W_ID_HIGH] = id[0]!;
  w[W_ID_LOW] = id[1]!;
  // Every block free: 0 on top, i's next is i + 1 (stored + 1), the last one's is 0.
  for (let i = 0; i < blockCount; i++) w[W_CONTROL + i] = i + 1 < blockCount ? i + 2 : 0;
  w[W_HEAD] = 1; // tag 0, top index 0
  w[W_VERSION] = VERSION;
  Atomics.store(w, W_MAGIC, MAGIC); // published last: from() checks it
}

function doubleFree(offset: number): PoolError {
  return new PoolError(`SharedSlab.free: block at offset ${offset} is not allocated (double free)`);
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
 * Each thread keeps up to `threadCache` free blocks of its own (see
 * {@link SharedSlabOptions.threadCache}): most `alloc`/`free` calls never touch the
 * shared free list. `alloc()` returns `EXHAUSTED` when this thread's cache and the shared
 * list are both empty, even if other threads' caches still hold free blocks; a thread that
 * is done with a slab others still use, or that is about to be terminated, calls
 * {@link SharedSlab.flush} (or {@link SharedSlab.flushAll}) to give its cached blocks back.
 *
 * Read and write the blocks through the views over the whole buffer, `slab.int32`,
 * `slab.bytes`, `slab.float64`, with `slab.word(offset, i)` for the index of a block's
 * Int32 word `i`; use `Atomics` on words other threads touch at the same time.
 *
 * To use the slab in a worker, pass the slab itself as a worker task argument (it follows
 * the shared-object protocol and is revived there), or pass `slab.handle` and call
 * `SharedSlab.from(handle)`. A thread has one instance per slab: opening it again returns
 * the same instance.
 *
 * *Ordering*: the caches and the free list are LIFO; which block `alloc` returns is
 * unspecified.
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
  /** Byte offset in `buffer` of the slab's header: 0, unless the slab lives in a region of a larger buffer. */
  readonly byteOffset: number;
  /** Bytes of the slab (header, control words and blocks) from `byteOffset`. */
  readonly byteLength: number;
  /** Byte offset in `buffer` of block 0; block `i` starts at `dataOffset + i * blockSize`. */
  readonly dataOffset: number;
  // The views and the cache are private fields so that a structured clone of the slab
  // (a worker task argument) carries only the kind, the buffer and three numbers.
  /** The slab's own words (header and control words), from `byteOffset`. */
  readonly #words: Int32Array;
  readonly #int32: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #float64: Float64Array;
  readonly #indexMask: number;
  readonly #tagOne: number;
  /** This thread's cache of free blocks of this slab. */
  readonly #cache: ThreadCache;
  /** Its capacity (`threadCache`, 0 = no cache) and how many blocks a refill or flush moves. */
  readonly #capacity: number;
  readonly #batch: number;
  /** The last head value this instance wrote: the first guess of a push (never of a pop). */
  #lastHead = 0;

  /**
   * Allocates a new slab of `blockCount` blocks of `blockSize` bytes, all free.
   * @throws ConfigError (code `ZOKIO_ERR_CONFIG`) when an option breaks its rule.
   */
  constructor(options: SharedSlabOptions);
  /** @internal Opens an existing slab in `existing` at `byteOffset`; use {@link SharedSlab.from}. */
  constructor(options: SharedSlabOptions, existing: SharedArrayBuffer, byteOffset?: number);
  constructor(options: SharedSlabOptions, existing?: SharedArrayBuffer, byteOffset = 0) {
    let buffer: SharedArrayBuffer;
    if (existing === undefined) {
      const { blockSize, blockCount } = checkOptions(options);
      buffer = new SharedArrayBuffer(SharedSlab.byteLengthFor(blockSize, blockCount));
      initSlab(new Int32Array(buffer), options);
    } else {
      buffer = existing;
    }
    this.buffer = buffer;
    this.byteOffset = byteOffset;
    const head = new Int32Array(buffer, byteOffset, CONTROL_BYTE >> 2);
    this.blockSize = Atomics.load(head, W_BLOCK_SIZE);
    this.blockCount = Atomics.load(head, W_BLOCK_COUNT);
    this.dataOffset = byteOffset + Atomics.load(head, W_DATA_OFFSET);
    this.byteLength = SharedSlab.byteLengthFor(this.blockSize, this.blockCount);
    this.#words = new Int32Array(buffer, byteOffset, this.byteLength >> 2);
    this.#int32 = new Int32Array(buffer);
    this.#bytes = new Uint8Array(buffer);
    this.#float64 = new Float64Array(buffer, 0, buffer.byteLength >> 3);
    const w = this.#words;
    const indexBits = Atomics.load(w, W_INDEX_BITS);
    this.#indexMask = (1 << indexBits) - 1;
    this.#tagOne = 1 << indexBits;
    this.#capacity = Atomics.load(w, W_THREAD_CACHE);
    this.#batch = Math.max(1, this.#capacity >> 1);
    this.#cache = { blocks: new Int32Array(this.#capacity), count: 0 };
    const id = slabId(w);
    opened.set(id, new WeakRef(this));
    // Every instance, cached or not: the finalizer also drops the registry entry.
    leftovers.register(this, { words: w, mask: this.#indexMask, tagOne: this.#tagOne, cache: this.#cache, id });
    if (this.#capacity > 0 && !exitHooked) {
      exitHooked = true;
      // A worker whose script ends, or that calls process.exit, gives its cached blocks back.
      process.once('exit', () => SharedSlab.flushAll());
    }
  }

  /** Bytes a slab of `blockCount` blocks of `blockSize` bytes takes: header, control words and blocks. */
  static byteLengthFor(blockSize: number, blockCount: number): number {
    return align64(CONTROL_BYTE + 4 * blockCount) + blockSize * blockCount;
  }

  /**
   * @internal Creates a new slab, all blocks free, inside `buffer` from `byteOffset` (a
   * multiple of 64) for {@link SharedSlab.byteLengthFor} bytes, for memory laid out by
   * its owner (the work-stealing pool keeps its task records in one). Other threads open
   * it with `SharedSlab.from({ buffer, byteOffset })`.
   * @throws ConfigError when an option breaks its rule; RangeError when the region does not fit.
   */
  static inside(buffer: SharedArrayBuffer, byteOffset: number, options: SharedSlabOptions): SharedSlab {
    const { blockSize, blockCount } = checkOptions(options);
    const byteLength = SharedSlab.byteLengthFor(blockSize, blockCount);
    if (!(Number.isInteger(byteOffset) && byteOffset >= 0 && byteOffset % 64 === 0 && byteOffset + byteLength <= buffer.byteLength)) {
      throw new RangeError(`SharedSlab.inside: ${byteLength} bytes at offset ${byteOffset} do not fit a 64-byte-aligned region of a ${buffer.byteLength}-byte buffer`);
    }
    initSlab(new Int32Array(buffer, byteOffset, byteLength >> 2), options);
    return new SharedSlab(options, buffer, byteOffset);
  }

  /**
   * Opens a slab created elsewhere (another thread, or before a structured clone) over the
   * same memory: from its handle, a structured-clone copy of the slab, or its buffer.
   * Returns the instance this thread already has for that slab, if any (it holds this
   * thread's cache of the slab's blocks).
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
  static from(source: SharedSlabHandle | { readonly buffer: SharedArrayBuffer; readonly byteOffset?: number } | SharedArrayBuffer): SharedSlab {
    if (source instanceof SharedSlab) return source;
    const buffer = source instanceof SharedArrayBuffer ? source : (source as { buffer?: unknown } | null)?.buffer;
    const at = source instanceof SharedArrayBuffer ? 0 : ((source as { byteOffset?: unknown } | null)?.byteOffset ?? 0);
    if (!(buffer instanceof SharedArrayBuffer) || typeof at !== 'number' || !(Number.isInteger(at) && at >= 0 && at % 64 === 0) || buffer.byteLength < at + CONTROL_BYTE) {
      throw new PoolError('SharedSlab.from: expected a SharedSlab handle or its SharedArrayBuffer');
    }
    const w = new Int32Array(buffer, at, CONTROL_BYTE >> 2);
    if (Atomics.load(w, W_MAGIC) !== MAGIC || Atomics.load(w, W_VERSION) !== VERSION) {
      throw new PoolError('SharedSlab.from: this SharedArrayBuffer does not hold a SharedSlab (bad magic or version)');
    }
    const byteLength = SharedSlab.byteLengthFor(Atomics.load(w, W_BLOCK_SIZE), Atomics.load(w, W_BLOCK_COUNT));
    // A slab at offset 0 owns its whole buffer; one inside a larger buffer must fit in it.
    if (at === 0 ? buffer.byteLength !== byteLength : buffer.byteLength < at + byteLength) {
      throw new PoolError('SharedSlab.from: the SharedArrayBuffer size does not match the slab header');
    }
    const known = opened.get(slabId(w))?.deref();
    if (known !== undefined && known.buffer.byteLength === buffer.byteLength && known.byteOffset === at) return known;
    return new SharedSlab({ blockSize: 0, blockCount: 0 }, buffer, at);
  }

  /**
   * Gives the cached blocks of every slab opened on this thread back to their shared free
   * lists (see {@link SharedSlab.flush}); returns how many. For code that runs on a thread
   * about to idle or be terminated: the pool worker calls it before it parks.
   */
  static flushAll(): number {
    let n = 0;
    for (const ref of opened.values()) n += ref.deref()?.flush() ?? 0;
    return n;
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
    return { [SHARED_KIND_FIELD]: 'SharedSlab', buffer: this.buffer, byteOffset: this.byteOffset };
  }

  /** How many free blocks each thread may keep in its own cache (0: none), as created. */
  get threadCache(): number {
    return this.#capacity;
  }

  /** How many free blocks this thread's cache holds now. */
  get cachedHere(): number {
    return this.#cache.count;
  }

  /**
   * Takes a free block and returns its byte offset in `buffer`, or
   * {@link SharedSlab.EXHAUSTED} (-1) when this thread's cache and the shared free list are
   * both empty. Lock-free; never throws. The block's bytes are whatever its previous owner
   * left.
   */
  alloc(): number {
    // Hot path: a block from this thread's cache, one Atomics store to mark it allocated.
    const cache = this.#cache;
    const n = cache.count - 1;
    if (n >= 0) {
      const index = cache.blocks[n]!;
      cache.count = n;
      Atomics.store(this.#words, W_CONTROL + index, ALLOCATED);
      return this.dataOffset + index * this.blockSize;
    }
    return this.#capacity > 0 ? this.#refillAndAlloc() : this.#popShared();
  }

  /** The cache is empty: refill it from the shared list with one batch pop, then take a block. */
  #refillAndAlloc(): number {
    if (this.#refill() === 0) {
      Atomics.add(this.#words, W_EXHAUSTED, 1);
      return -1;
    }
    return this.alloc();
  }

  /**
   * Pops up to `batch` blocks off the shared stack with one CAS into the (empty) cache and
   * marks them CACHED; returns how many (0: the shared stack is empty).
   */
  #refill(): number {
    const w = this.#words;
    const mask = this.#indexMask;
    const cache = this.#cache;
    const blocks = cache.blocks;
    const want = this.#batch;
    for (;;) {
      // A pop always starts from a fresh load of the head: that keeps the ABA window short.
      const head = Atomics.load(w, W_HEAD);
      let link = head & mask;
      if (link === 0) return 0;
      let got = 0;
      do {
        const index = link - 1;
        link = Atomics.load(w, W_CONTROL + index);
        blocks[got++] = index;
      } while (link > 0 && got < want);
      // A negative link: that block was taken since we loaded the head (which has moved
      // on, so the CAS would fail): start again. Stale links >= 0 are caught by the CAS.
      if (link < 0) continue;
      const next = ((head + this.#tagOne) & ~mask) | link;
      if (Atomics.compareExchange(w, W_HEAD, head, next) === head) {
        this.#lastHead = next;
        for (let j = 0; j < got; j++) Atomics.store(w, W_CONTROL + blocks[j]!, CACHED);
        cache.count = got;
        return got;
      }
    }
  }

  /** `threadCache: 0`: one pop off the shared stack. */
  #popShared(): number {
    const w = this.#words;
    const mask = this.#indexMask;
    for (;;) {
      const head = Atomics.load(w, W_HEAD);
      const top = head & mask;
      if (top === 0) {
        Atomics.add(w, W_EXHAUSTED, 1);
        return -1;
      }
      const index = top - 1;
      // If another thread popped this block meanwhile, `below` may be stale (even negative),
      // but then the head's tag has moved on and the CAS below fails.
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
   * Gives a block back (into this thread's cache, or to the shared free list). Lock-free.
   * @throws PoolError (code `ZOKIO_ERR_POOL`) when `offset` is not the offset of a block of
   * this slab, or the block is not allocated (double free, even when the first free left
   * it in a cache); the slab is left unchanged.
   */
  free(offset: number): void {
    const index = this.indexOf(offset);
    const cache = this.#cache;
    const n = cache.count;
    if (n < this.#capacity) {
      // Hot path: one CAS claims the block (and rejects a double free), the cache keeps it.
      if (Atomics.compareExchange(this.#words, W_CONTROL + index, ALLOCATED, CACHED) !== ALLOCATED) throw doubleFree(offset);
      cache.blocks[n] = index;
      cache.count = n + 1;
      return;
    }
    if (this.#capacity > 0) this.#flushAndFree(index, offset);
    else this.#pushShared(index, offset);
  }

  /** The cache is full: claim the block, push the top `batch` cached blocks to the shared list, keep the block. */
  #flushAndFree(index: number, offset: number): void {
    const w = this.#words;
    if (Atomics.compareExchange(w, W_CONTROL + index, ALLOCATED, CACHED) !== ALLOCATED) throw doubleFree(offset);
    const cache = this.#cache;
    this.#lastHead = pushCached(w, this.#indexMask, this.#tagOne, cache, cache.count - this.#batch, this.#lastHead);
    cache.blocks[cache.count++] = index;
  }

  /** `threadCache: 0`: one push on the shared stack. */
  #pushShared(index: number, offset: number): void {
    const w = this.#words;
    const mask = this.#indexMask;
    const slot = W_CONTROL + index;
    // A push is ABA-safe, so it starts from the last head this thread saw (see pushCached).
    let head = this.#lastHead;
    // One CAS marks the block free and links it above the (guessed) top.
    if (Atomics.compareExchange(w, slot, ALLOCATED, head & mask) !== ALLOCATED) throw doubleFree(offset);
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
   * Gives every block in this thread's cache of this slab back to the shared free list,
   * where every thread can allocate it; returns how many. Call it on a thread that is done
   * with a slab other threads still use, or before the thread is terminated (a terminated
   * or crashed thread's cached blocks are lost to the slab). Cheap when the cache is empty.
   */
  flush(): number {
    const cache = this.#cache;
    const n = cache.count;
    if (n > 0) this.#lastHead = pushCached(this.#words, this.#indexMask, this.#tagOne, cache, 0, this.#lastHead);
    return n;
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

  /** True when the block at `offset` is allocated now (a snapshot; a cached block is free). */
  isAllocated(offset: number): boolean {
    return Atomics.load(this.#words, W_CONTROL + this.indexOf(offset)) === ALLOCATED;
  }

  /** A snapshot of the counters; O(blockCount), it reads every control word. */
  stats(): SharedSlabStats {
    const w = this.#words;
    let inUse = 0;
    let cached = 0;
    // A plain loop over the control words: stats() is the only O(n) operation and stays off the hot path.
    for (let i = W_CONTROL, end = W_CONTROL + this.blockCount; i < end; i++) {
      const c = Atomics.load(w, i);
      if (c === ALLOCATED) inUse++;
      else if (c === CACHED) cached++;
    }
    return {
      blockSize: this.blockSize,
      blockCount: this.blockCount,
      inUse,
      free: this.blockCount - inUse,
      cached,
      exhausted: Atomics.load(w, W_EXHAUSTED),
      byteLength: this.byteLength,
    };
  }
}

/** @internal Rebuilds a `SharedSlab` from its structured-clone copy on the worker side. */
export function reviveSharedSlab(data: Record<string, unknown>): SharedSlab {
  return SharedSlab.from(data as { buffer: SharedArrayBuffer; byteOffset?: number });
}
