/**
 * Memory pools against what a user would write instead:
 * - SharedSlab alloc+free, single thread (one op = one `alloc()` and its `free()`), against
 *   the >= 20 M ops/s target; no peer (nothing else in the install is a cross-thread block
 *   allocator over a SharedArrayBuffer), but beside it the same slab with `threadCache: 0`
 *   (every call on the shared lock-free list), the bare cost of the six `Atomics`
 *   operations such a pair performs, and of the two a pair through the thread cache
 *   performs: the floors this machine allows;
 * - SharedSlab in bursts: 64 allocs then their 64 frees (1 op = one alloc + one free), so
 *   that the thread cache (32 blocks by default) refills and flushes in batches, with and
 *   without the cache;
 * - ObjectPool acquire+release vs `new` for a small object (3 numbers) and for a 1 KiB
 *   object, twice: with a Float64Array(128) payload, and with a plain array of 128 numbers
 *   (zeroed by `reset` in both, so both sides hand out zeros);
 * - BufferPool acquire+release vs `Buffer.allocUnsafe` for 64 KiB.
 *
 * Every created or acquired object is written to a module-level sink so that V8 cannot
 * remove the allocation by escape analysis. For small short-lived objects V8's
 * young-generation allocation (a pointer bump, then a scavenge that copies only the few
 * survivors) can beat pooling; the suite reports whichever way it comes out.
 */
import { defineSuite, throughput, type BenchCase, type MeasureOptions } from './harness.js';
import { BufferPool, ObjectPool, SharedSlab } from '../src/memory/index.js';

const PAIRS = 10_000; // per measured call
const BUFFERS = 1_000; // per measured call, 64 KiB each
const PLAIN = 1_000; // per measured call, 1 KiB plain arrays
const KiB64 = 64 * 1024;

let sink: unknown;
let sinkNumber = 0;

// --- SharedSlab ---------------------------------------------------------------------------
// Default options: a thread cache of min(32, 1024 / 16) = 32 blocks.
const slab = new SharedSlab({ blockSize: 64, blockCount: 1024 });
const sharedOnly = new SharedSlab({ blockSize: 64, blockCount: 1024, threadCache: 0 });

function slabPairs(): void {
  let acc = 0;
  for (let i = 0; i < PAIRS; i++) {
    const off = slab.alloc();
    acc += off;
    slab.free(off);
  }
  sinkNumber += acc;
}

// A copy of slabPairs, not a shared helper, so that each case has its own JIT feedback.
function sharedOnlyPairs(): void {
  let acc = 0;
  for (let i = 0; i < PAIRS; i++) {
    const off = sharedOnly.alloc();
    acc += off;
    sharedOnly.free(off);
  }
  sinkNumber += acc;
}

// The same six Atomics operations a pair performs on the shared list (pop: load head, load
// link, CAS head, store state; push: CAS state, CAS head) on fixed words, with no allocator
// logic: the floor any allocator built that way can reach on this machine, for context.
const floorWords = new Int32Array(new SharedArrayBuffer(256));

function atomicsFloor(): void {
  const w = floorWords;
  let acc = 0;
  for (let i = 0; i < PAIRS; i++) {
    const head = Atomics.load(w, 16);
    const link = Atomics.load(w, 32);
    acc += Atomics.compareExchange(w, 16, head, head + 1);
    Atomics.store(w, 32, -1);
    acc += Atomics.compareExchange(w, 32, -1, link);
    acc += Atomics.compareExchange(w, 16, head + 1, head);
  }
  sinkNumber += acc;
}

// The two a pair through the thread cache performs (alloc: store state; free: CAS state).
function atomicsFloorCached(): void {
  const w = floorWords;
  let acc = 0;
  for (let i = 0; i < PAIRS; i++) {
    Atomics.store(w, 32, -1);
    acc += Atomics.compareExchange(w, 32, -1, -2);
  }
  sinkNumber += acc;
}

const BURST = 64;
const BURST_PAIRS = Math.floor(PAIRS / BURST) * BURST; // 9984 pairs per measured call
const burstHeld = new Int32Array(BURST);
const burstSlab = new SharedSlab({ blockSize: 64, blockCount: 1024 });
const burstSharedOnly = new SharedSlab({ blockSize: 64, blockCount: 1024, threadCache: 0 });

function slabBursts(): void {
  const held = burstHeld;
  let acc = 0;
  for (let r = 0; r < BURST_PAIRS / BURST; r++) {
    for (let i = 0; i < BURST; i++) held[i] = burstSlab.alloc();
    for (let i = 0; i < BURST; i++) {
      acc += held[i]!;
      burstSlab.free(held[i]!);
    }
  }
  sinkNumber += acc;
}

// A copy of slabBursts, not a shared helper, for the same reason as sharedOnlyPairs.
function sharedOnlyBursts(): void {
  const held = burstHeld;
  let acc = 0;
  for (let r = 0; r < BURST_PAIRS / BURST; r++) {
    for (let i = 0; i < BURST; i++) held[i] = burstSharedOnly.alloc();
    for (let i = 0; i < BURST; i++) {
      acc += held[i]!;
      burstSharedOnly.free(held[i]!);
    }
  }
  sinkNumber += acc;
}

// --- ObjectPool, small object -------------------------------------------------------------
class Vec3 {
  x = 0;
  y = 0;
  z = 0;
}
const vecPool = new ObjectPool(() => new Vec3(), {
  capacity: 64,
  reset: (v) => {
    v.x = 0;
    v.y = 0;
    v.z = 0;
  },
});

function vecPooled(): void {
  for (let i = 0; i < PAIRS; i++) {
    const v = vecPool.acquire();
    v.x = i;
    sink = v;
    vecPool.release(v);
  }
}

function vecNew(): void {
  for (let i = 0; i < PAIRS; i++) {
    const v = new Vec3();
    v.x = i;
    sink = v;
  }
}

// --- ObjectPool, 1 KiB object -------------------------------------------------------------
class Record1K {
  id = 0;
  readonly values = new Float64Array(128); // 1 KiB
}
const recordPool = new ObjectPool(() => new Record1K(), {
  capacity: 64,
  reset: (r) => {
    r.id = 0;
    r.values.fill(0);
  },
});

function recordPooled(): void {
  for (let i = 0; i < PAIRS; i++) {
    const r = recordPool.acquire();
    r.id = i;
    r.values[i & 127] = i;
    sink = r;
    recordPool.release(r);
  }
}

function recordNew(): void {
  for (let i = 0; i < PAIRS; i++) {
    const r = new Record1K();
    r.id = i;
    r.values[i & 127] = i;
    sink = r;
  }
}

// --- ObjectPool, 1 KiB object without a typed array -----------------------------------
// A Float64Array's backing store lives outside the V8 heap and costs far more to create
// than a plain object; this variant keeps the 1 KiB inside the heap (128 small integers in
// a plain array, 8 bytes each) so that `new` is not penalised by that.
interface PlainRecord {
  id: number;
  readonly values: number[];
}
const makePlain = (): PlainRecord => ({ id: 0, values: new Array<number>(128).fill(0) });
const plainPool = new ObjectPool(makePlain, {
  capacity: 64,
  reset: (r) => {
    r.id = 0;
    r.values.fill(0);
  },
});

function plainPooled(): void {
  for (let i = 0; i < PLAIN; i++) {
    const r = plainPool.acquire();
    r.id = i;
    r.values[i & 127] = i;
    sink = r;
    plainPool.release(r);
  }
}

function plainNew(): void {
  for (let i = 0; i < PLAIN; i++) {
    const r = makePlain();
    r.id = i;
    r.values[i & 127] = i;
    sink = r;
  }
}

// --- BufferPool vs Buffer.allocUnsafe, 64 KiB --------------------------------------------
const buffers = new BufferPool();

function buffersPooled(): void {
  for (let i = 0; i < BUFFERS; i++) {
    const b = buffers.acquire(KiB64);
    b[i & 0xffff] = i;
    sink = b;
    buffers.release(b);
  }
}

function buffersAllocUnsafe(): void {
  for (let i = 0; i < BUFFERS; i++) {
    const b = Buffer.allocUnsafe(KiB64);
    b[i & 0xffff] = i;
    sink = b;
  }
}

function opsCase(group: string, subject: string, fn: () => void, ops: number): BenchCase {
  return { group, subject, unit: 'ops/s', better: 'higher', measure: (o: MeasureOptions) => throughput(fn, ops, o) };
}

const SLAB = 'SharedSlab alloc+free, 1 thread (1 op = alloc + free)';
const SLAB_BURST = 'SharedSlab bursts of 64 allocs then 64 frees, 1 thread (1 op = alloc + free)';
const SMALL = 'ObjectPool vs new: small object (3 numbers)';
const LARGE = 'ObjectPool vs new: 1 KiB object (Float64Array(128), zeroed)';
const PLAIN_GROUP = 'ObjectPool vs new: 1 KiB object (plain array of 128 numbers, zeroed)';
const BUF = 'BufferPool vs Buffer.allocUnsafe: 64 KiB';

export default defineSuite({
  name: 'memory',
  title: 'pools vs plain allocation (for small short-lived objects V8 young-generation `new` can beat pooling; see the ratios)',
  cases: [
    opsCase(SLAB, 'zokio', slabPairs, PAIRS),
    opsCase(SLAB, 'zokio, threadCache: 0 (shared list only)', sharedOnlyPairs, PAIRS),
    opsCase(SLAB, '6 bare Atomics ops (floor, not an allocator)', atomicsFloor, PAIRS),
    opsCase(SLAB, '2 bare Atomics ops (cached-pair floor, not an allocator)', atomicsFloorCached, PAIRS),
    opsCase(SLAB_BURST, 'zokio', slabBursts, BURST_PAIRS),
    opsCase(SLAB_BURST, 'zokio, threadCache: 0 (shared list only)', sharedOnlyBursts, BURST_PAIRS),
    opsCase(SMALL, 'zokio', vecPooled, PAIRS),
    opsCase(SMALL, 'new', vecNew, PAIRS),
    opsCase(LARGE, 'zokio', recordPooled, PAIRS),
    opsCase(LARGE, 'new', recordNew, PAIRS),
    opsCase(PLAIN_GROUP, 'zokio', plainPooled, PLAIN),
    opsCase(PLAIN_GROUP, 'new', plainNew, PLAIN),
    opsCase(BUF, 'zokio', buffersPooled, BUFFERS),
    opsCase(BUF, 'Buffer.allocUnsafe', buffersAllocUnsafe, BUFFERS),
  ],
  targets: [{ group: SLAB, text: '>= 20,000,000 alloc+free pairs/s', check: (z) => z >= 20_000_000 }],
  async teardown(): Promise<void> {
    sink = undefined;
    if (sinkNumber === 0.5) console.log(sink); // keeps sinkNumber observable
  },
});
