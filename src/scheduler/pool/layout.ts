/**
 * Layout of the one `SharedArrayBuffer` the work-stealing pool lives in.
 *
 * Implementation note. Every region starts on a 64-byte boundary so that words written
 * by different threads (a deque's `top` and `bottom`, the injector's two cursors, each
 * worker's control block) do not share a cache line. Every shared word is an `Int32`
 * read and written with `Atomics`; the scalar argument and result slots of a record are
 * `Float64` cells read through a second view over the same bytes and published by the
 * atomic `state` word written after them (so a plain read after an `Atomics.load` of
 * `state` is ordered).
 *
 * ```
 *  word 0 ┌─────────────────────────────────────────────────────────────────────┐
 *         │ HEADER (64 words)                                                   │
 *         │  MAGIC  SHUTDOWN  SLEEPERS  MAIN_WAITING  MAIN_WAKE  NEXT_NAME_ID    │
 *         │  NAME_TOP  NEXT_SAB_ID  ROBIN  WORKERS  NEXT_PAYLOAD_ID  ...         │
 *         ├─────────────────────────────────────────────────────────────────────┤
 *         │ WORKER CONTROL × W (32 words each: own cache lines)                 │
 *         │  WAKE (futex)  PARKED  ALIVE  INCARNATION  executed stolen parked    │
 *         │  joins inlinePops stolenSides helpIterations ready payloadBuffers    │
 *         │  records (owned now)                                                │
 *         ├─────────────────────────────────────────────────────────────────────┤
 *         │ DEQUE × W   TOP │pad│ BOTTOM │pad│ slots[queueCapacity]  (Chase-Lev) │
 *         ├─────────────────────────────────────────────────────────────────────┤
 *         │ INBOX × W   ENQ │pad│ DEQ │pad│ cells[queueCapacity]×{seq,value}    │
 *         ├─────────────────────────────────────────────────────────────────────┤
 *         │ INJECTOR    ENQ │pad│ DEQ │pad│ cells[injectorCapacity]×{seq,value} │
 *         ├─────────────────────────────────────────────────────────────────────┤
 *         │ COMPLETIONS ENQ │pad│ DEQ │pad│ cells[mainRecords]×{seq,value}      │
 *         ├─────────────────────────────────────────────────────────────────────┤
 *         │ NAME TABLE  offsets[MAX_NAMES] │ UTF-8 "moduleUrl#taskName" bytes   │
 *         ├─────────────────────────────────────────────────────────────────────┤
 *         │ RECORDS: a SharedSlab laid out in this region (SharedSlab.inside)   │
 *         │  slab header │ control word per block │ blocks of 256 B (64 words)  │
 *         │  blockCount = mainRecords + W × workerRecords; record index = block │
 *         │  index, its words start at recordBase + index × 64                  │
 *         └─────────────────────────────────────────────────────────────────────┘
 * ```
 *
 * A record (see the `R_*` word offsets):
 * ```
 *  0 STATE  1 OWNER  2 RUNNER  3 NAME_ID  4 ARGC  5 TAGS  6 FLAGS  7 ABORT
 *  8 PAYLOAD_KIND  9 PAYLOAD_LEN  10 PAYLOAD_SAB  11 GEN  12 OWNER_INCARNATION
 *  13 TRACE_FLAGS  14..17 TRACE_ID (16 B)  18..19 SPAN_ID (8 B)
 *  20..35 scalar slots: 8 × Float64 (args in, result out in slot 0)
 *  36..37 SUBMIT_AT: Float64, epoch ms when a main-thread record was queued, then when it started
 *  38..63 inline payload bytes (104 B): serialized args / result / error
 * ```
 * A payload longer than the inline bytes goes out of the record (`PAYLOAD_KIND`): into a
 * chain of blocks of the pool's arena slab (`P_SAB`, `PAYLOAD_SAB` = byte offset of the
 * first block), or, for main-thread records under `memory: { strategy: 'heap' }`, into a
 * SharedArrayBuffer of its own (`P_HEAP`, `PAYLOAD_SAB` = the buffer's payload id, see
 * `shared-buffers.ts`; 0 once the payload was read or discarded).
 *
 * Records are blocks of one `SharedSlab` (`threadCache: 0`: every free block is on the
 * shared list, none parked in a thread's cache), allocated by the thread that submits the
 * task, its *owner* (the main thread or one worker). Each owner may hold at most its quota
 * (`mainRecords` for the main thread, `workerRecords` per worker), and the quotas add up
 * to the block count, so an owner under its quota always finds a free block: the main
 * thread's in-flight count bounds the completion ring, and a worker's nested submissions
 * fall back to running inline only when its own quota is used up. The main thread counts
 * its records itself (only it frees them); a worker's count is the `RECORDS` word of its
 * control block, which whoever frees one of its records decrements after the free.
 * Exactly one thread frees each record: the one that holds it at that moment (its owner
 * after reading the outcome, a worker that finds it orphaned, the main thread cleaning up
 * after a dead worker), and the slab's control word rejects a second free.
 *
 * @module
 */
import { SharedSlab, type SharedSlabOptions } from '../../memory/shared-slab.js';

/** Words in the header. */
export const HEADER_WORDS = 64;
export const H_MAGIC = 0;
export const H_SHUTDOWN = 1;
/** Workers currently parked (or about to park); wakers skip `Atomics.notify` when 0. */
export const H_SLEEPERS = 2;
/** 1 while the main thread's completion loop is (about to be) waiting. */
export const H_MAIN_WAITING = 3;
/** Futex word the main thread's `Atomics.waitAsync` waits on. */
export const H_MAIN_WAKE = 4;
export const H_NEXT_NAME_ID = 5;
export const H_NAME_TOP = 6;
export const H_NEXT_SAB_ID = 7;
export const H_ROBIN = 8;
export const H_WORKERS = 9;
/** Counter of payload buffer ids (heap strategy; see `shared-buffers.ts`). */
export const H_NEXT_PAYLOAD_ID = 10;
/**
 * Strategy `pooled`: long payloads of main-thread records that went into a buffer of their
 * own instead of the arena (the arena had no room, or the payload is larger than
 * {@link ARENA_PAYLOAD_MAX}); `rt.metrics().pool.payloadFallbacks`.
 */
export const H_PAYLOAD_FALLBACKS = 11;
/** Chunks workers posted to their stdio ports so far (see `worker-stdio.ts`). */
export const H_LOGS_POSTED = 12;
/** Payloads (of main-thread records) longer than this skip the arena: a buffer of their own. */
export const ARENA_PAYLOAD_MAX = 1 << 20;
export const MAGIC = 0x5a4b5750; // 'ZKWP'

/** Words of one worker's control block. */
export const WORKER_WORDS = 32;
/** Futex word the worker parks on. */
export const W_WAKE = 0;
/** 1 while parked (or about to park), 2 while being woken, 0 while running. */
export const W_PARKED = 1;
/** 1 while the worker thread is alive. */
export const W_ALIVE = 2;
/** Bumped each time a replacement worker takes the slot. */
export const W_INCARNATION = 3;
export const W_EXECUTED = 16;
export const W_STOLEN = 17;
export const W_PARKS = 18;
export const W_JOINS = 19;
export const W_INLINE_POPS = 20;
export const W_STOLEN_SIDES = 21;
export const W_HELP_ITERATIONS = 22;
export const W_READY = 23;
/** Payload buffers in this worker's buffer table now (heap strategy), for metrics. */
export const W_PAYLOAD_BUFFERS = 24;
/** Records this worker slot owns now (allocated and not yet freed; see the file note). */
export const W_RECORDS = 25;
/** Records pinned to this worker (transferred arguments) posted and not taken yet. */
export const W_PINNED = 26;

/** Words of one worker's timing block: two histograms of 128 buckets, then Float64 fields (see `timing.ts`). */
export const STATS_WORDS = 272;

/** Words of one task record. */
export const RECORD_WORDS = 64;
export const RECORD_BYTES = RECORD_WORDS * 4;
export const R_STATE = 0;
export const R_OWNER = 1;
/** 1 + the index of the worker running the record, or holding it off every queue while its task module loads; 0 otherwise. */
export const R_RUNNER = 2;
export const R_NAME_ID = 3;
export const R_ARGC = 4;
export const R_TAGS = 5;
export const R_FLAGS = 6;
export const R_ABORT = 7;
export const R_PAYLOAD_KIND = 8;
export const R_PAYLOAD_LEN = 9;
export const R_PAYLOAD_SAB = 10;
export const R_GEN = 11;
export const R_OWNER_INCARNATION = 12;
/** Trace context slot for the tracing part: flags word, 16-byte trace id, 8-byte span id. */
export const R_TRACE_FLAGS = 13;
export const R_TRACE_ID = 14;
export const R_SPAN_ID = 18;
/** First word of the 8 Float64 scalar slots. */
export const R_SCALARS = 20;
export const SCALAR_SLOTS = 8;
/** First word of the inline payload bytes. */
/** Float64 (words 36..37): epoch ms of submission, then of start (main-thread records; see `timing.ts`). */
export const R_SUBMIT_AT = 36;
export const R_INLINE = 38;
export const INLINE_BYTES = (RECORD_WORDS - R_INLINE) * 4;

/** Record states. */
export const S_FREE = 0;
export const S_QUEUED = 1;
export const S_RUNNING = 2;
export const S_DONE_OK = 3;
export const S_DONE_ERR = 4;
export const S_CANCELLED = 5;

/** Record flags. */
export const F_MAP = 1;
export const F_TRACE = 2;

/** Payload kinds. */
export const P_NONE = 0;
export const P_INLINE = 1;
export const P_SAB = 2;
/** A SharedArrayBuffer of its own (heap strategy, main-thread records only). */
export const P_HEAP = 3;
/** The payload travels as a message to one thread (`PAYLOAD_SAB` = its payload id; transfers). */
export const P_MSG = 4;

/** Owner id of the main thread; worker `w` is `w + 1`. */
export const MAIN_OWNER = 0;

/** Maximum distinct task names the name table holds. */
export const MAX_NAMES = 4096;
/** Bytes of the name table's string area. */
export const NAME_BYTES = 512 * 1024;

/** Where each region starts (Int32 word offsets), computed once from the config. */
export interface PoolLayout {
  readonly workers: number;
  readonly queueCapacity: number;
  readonly injectorCapacity: number;
  readonly mainRecords: number;
  readonly workerRecords: number;
  readonly workerBase: number;
  /** Word offset of worker 0's timing block (`STATS_WORDS` each, see `timing.ts`). */
  readonly statsBase: number;
  readonly dequeBase: number;
  readonly dequeWords: number;
  readonly inboxBase: number;
  readonly inboxWords: number;
  readonly injectorBase: number;
  readonly completionBase: number;
  readonly nameOffsets: number;
  readonly nameBytesByte: number;
  /** Byte offset of the records' SharedSlab (its header). */
  readonly recordSlabByte: number;
  /** Word offset of record 0 (the slab's block 0). */
  readonly recordBase: number;
  readonly totalRecords: number;
  readonly byteLength: number;
}

/** Words a Vyukov ring of `capacity` cells takes: two cursor lines and two words per cell. */
export function ringWords(capacity: number): number {
  return 32 + capacity * 2;
}

/** Words a Chase-Lev deque of `capacity` slots takes. */
export function dequeWords(capacity: number): number {
  return 32 + capacity;
}

function align16(words: number): number {
  return (words + 15) & ~15;
}

/** Computes the layout for `workers` workers with per-worker deques of `queueCapacity`. */
export function computeLayout(workers: number, queueCapacity: number, mainRecords = 32768, workerRecords = 1024): PoolLayout {
  const injectorCapacity = mainRecords;
  let at = HEADER_WORDS;
  const workerBase = at;
  at += workers * WORKER_WORDS;
  const statsBase = at;
  at += workers * STATS_WORDS;
  const dequeBase = at;
  const dw = align16(dequeWords(queueCapacity));
  at += workers * dw;
  const inboxBase = at;
  const iw = align16(ringWords(queueCapacity));
  at += workers * iw;
  const injectorBase = at;
  at += align16(ringWords(injectorCapacity));
  const completionBase = at;
  at += align16(ringWords(mainRecords));
  const nameOffsets = at;
  at += MAX_NAMES;
  const nameBytesByte = at * 4;
  at += NAME_BYTES / 4;
  at = align16(at);
  const recordSlabByte = at * 4;
  const totalRecords = mainRecords + workers * workerRecords;
  const slabBytes = SharedSlab.byteLengthFor(RECORD_BYTES, totalRecords);
  const recordBase = (recordSlabByte + slabBytes - totalRecords * RECORD_BYTES) / 4;
  at += slabBytes / 4;
  return {
    workers,
    queueCapacity,
    injectorCapacity,
    mainRecords,
    workerRecords,
    workerBase,
    statsBase,
    dequeBase,
    dequeWords: dw,
    inboxBase,
    inboxWords: iw,
    injectorBase,
    completionBase,
    nameOffsets,
    nameBytesByte,
    recordSlabByte,
    recordBase,
    totalRecords,
    byteLength: at * 4,
  };
}

/** Word offset of worker `w`'s control block. */
export function workerControl(layout: PoolLayout, w: number): number {
  return layout.workerBase + w * WORKER_WORDS;
}

/** Word offset of worker `w`'s deque. */
export function dequeAt(layout: PoolLayout, w: number): number {
  return layout.dequeBase + w * layout.dequeWords;
}

/** Word offset of worker `w`'s inbox ring. */
export function inboxAt(layout: PoolLayout, w: number): number {
  return layout.inboxBase + w * layout.inboxWords;
}

/** Word offset of record `index`. */
export function recordAt(layout: PoolLayout, index: number): number {
  return layout.recordBase + index * RECORD_WORDS;
}

/** The options of the records' SharedSlab, laid out at `recordSlabByte`. */
export function recordSlabOptions(layout: PoolLayout): SharedSlabOptions {
  return { blockSize: RECORD_BYTES, blockCount: layout.totalRecords, threadCache: 0 };
}
