/**
 * What the main thread and every worker share: typed views over the pool's
 * `SharedArrayBuffer`, the task-name table, the argument/result codec, parking and
 * waking, and record completion.
 *
 * Implementation note. Scalars (numbers, booleans, null, undefined) travel inline in a
 * record's Float64 slots with a 4-bit tag each; anything else is serialized into the
 * record's inline bytes: as JSON text when JSON carries it exactly (strings, finite
 * numbers, plain objects and arrays of those: see `json-payload.ts`), else with
 * `v8.Serializer`. A payload that does not fit goes, by the runtime's memory strategy:
 * - `pooled`: into a chain of blocks of the pool's arena, a `SharedSlab` created once
 *   (registered as `pool.payloads` in `rt.metrics().memory`);
 * - `heap`: for a main-thread record (arguments of `rt.exec`/`rt.map`, their results and
 *   errors), into a `SharedArrayBuffer` of its own that travels through the buffer table
 *   (see `shared-buffers.ts`) and is garbage-collected once read; a record a worker
 *   creates (`join` side, `exec` inside a task) may be run by any other worker, which the
 *   star of ports cannot reach, so its payloads use a small arena (also `pool.payloads`).
 *
 * Every payload is read exactly once or discarded (`discardPayload`: cancelled, orphaned,
 * a join side run inline, a result nobody waits for), which frees its blocks or lets its
 * buffer go. `SharedArrayBuffer`s inside values are replaced by markers carrying their
 * pool-wide id, so shared objects (SharedSemaphore, SAB-backed typed arrays) reach the
 * worker as the same memory.
 *
 * Parking is an event count per worker: a worker reads its `WAKE` word, raises `PARKED`
 * and the global `SLEEPERS`, re-checks every queue, and only then `Atomics.wait`s on
 * `WAKE`. A producer publishes its work first and then reads `SLEEPERS`; all of these
 * are sequentially consistent, so either the producer sees the sleeper (and bumps its
 * `WAKE` and notifies) or the sleeper's re-check sees the work. Nobody notifies when
 * `SLEEPERS` is 0, and nobody polls or sleeps.
 *
 * @module
 */
import v8 from 'node:v8';
import { TaskArgumentError, errorToWire, errorFromWire, type WireError } from '../../errors.js';
import type { TaskRef } from '../task-ref.js';
import { CONTENDED, EMPTY, WorkDeque } from './deque.js';
import { Injector } from './injector.js';
import { exactJson, V8_VERSION_TAG } from './json-payload.js';
import {
  H_MAIN_WAITING,
  H_MAIN_WAKE,
  H_NAME_TOP,
  H_PAYLOAD_FALLBACKS,
  ARENA_PAYLOAD_MAX,
  H_NEXT_NAME_ID,
  H_SHUTDOWN,
  H_SLEEPERS,
  INLINE_BYTES,
  MAIN_OWNER,
  MAX_NAMES,
  NAME_BYTES,
  P_HEAP,
  P_INLINE,
  P_MSG,
  P_NONE,
  P_SAB,
  R_ARGC,
  R_FLAGS,
  R_INLINE,
  R_NAME_ID,
  R_OWNER,
  R_OWNER_INCARNATION,
  R_PAYLOAD_KIND,
  R_PAYLOAD_LEN,
  R_PAYLOAD_SAB,
  R_SCALARS,
  R_STATE,
  R_TAGS,
  RECORD_BYTES,
  RECORD_WORDS,
  S_DONE_ERR,
  S_DONE_OK,
  S_FREE,
  SCALAR_SLOTS,
  W_INCARNATION,
  W_PARKED,
  W_RECORDS,
  W_WAKE,
  WORKER_WORDS,
  dequeAt,
  inboxAt,
  type PoolLayout,
} from './layout.js';
import { SharedSlab } from '../../memory/shared-slab.js';
import { SharedBufferTable } from './shared-buffers.js';
import { isMoved } from './move.js';
import { setOwnField } from '../../runtime/fields.js';

/** Scalar tags (4 bits each in `R_TAGS`). */
export const T_UNDEFINED = 0;
export const T_NULL = 1;
export const T_NUMBER = 2;
export const T_TRUE = 3;
export const T_FALSE = 4;
/** The value is in the payload. */
export const T_PAYLOAD = 5;

/** Flag: the whole argument list is in the payload. */
export const F_ARGS_PAYLOAD = 4;
/** Flag: the payload holds SharedArrayBuffer markers to revive. */
export const F_SHARED = 8;
/** Flag: the record is a `map` chunk (args payload = inputs array). */
export const F_MAP = 1;
/** Flag: the record carries a trace context. */
export const F_TRACE = 2;
/** Flag: the argument list travels as a message (transfers; payload kind `P_MSG`). */
export const F_MSG = 16;
/** Flag (main thread only): aborting the running task terminates its worker. */
export const F_FORCE = 32;

const SAB_MARK = '__zokioSab';

/** Everything one thread needs to talk to the pool's shared memory. */
export class PoolCore {
  readonly sab: SharedArrayBuffer;
  readonly layout: PoolLayout;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly u8: Uint8Array;
  readonly deques: WorkDeque[];
  readonly inboxes: Injector[];
  readonly injector: Injector;
  readonly completions: Injector;
  readonly buffers: SharedBufferTable;
  /** Blocks for payloads too big for a record's inline bytes (with `heapPayloads`: of worker records only). */
  readonly arena: SharedSlab;
  /** The task records: a slab inside `sab` at `layout.recordSlabByte` (see `layout.ts`). */
  readonly records: SharedSlab;
  /** Memory strategy `heap`: a main-thread record's long payload gets a SharedArrayBuffer of its own. */
  readonly heapPayloads: boolean;
  readonly #nameIds = new Map<string, number>();
  /** The same ids by task reference object (refs are created once, by `defineTasks`). */
  readonly #refIds = new WeakMap<object, number>();
  readonly #names: Array<{ module: string; name: string } | undefined> = [];
  #robin = 0;

  constructor(sab: SharedArrayBuffer, layout: PoolLayout, arena: SharedArrayBuffer, buffers: SharedBufferTable, heapPayloads: boolean) {
    this.sab = sab;
    this.layout = layout;
    this.i32 = new Int32Array(sab);
    this.f64 = new Float64Array(sab);
    this.u8 = new Uint8Array(sab);
    this.deques = [];
    this.inboxes = [];
    for (let w = 0; w < layout.workers; w++) {
      this.deques.push(new WorkDeque(this.i32, dequeAt(layout, w), layout.queueCapacity));
      this.inboxes.push(new Injector(this.i32, inboxAt(layout, w), layout.queueCapacity));
    }
    this.injector = new Injector(this.i32, layout.injectorBase, layout.injectorCapacity);
    this.completions = new Injector(this.i32, layout.completionBase, layout.mainRecords);
    this.buffers = buffers;
    this.arena = SharedSlab.from(arena);
    this.records = SharedSlab.from({ buffer: sab, byteOffset: layout.recordSlabByte });
    this.heapPayloads = heapPayloads;
  }

  /**
   * Takes a free record block, or EMPTY. The caller checked its owner's quota first (see
   * `layout.ts`), so EMPTY does not happen in practice; the record's words are whatever
   * its previous user left, its state word `S_FREE`.
   */
  allocRecord(): number {
    const offset = this.records.alloc();
    return offset < 0 ? EMPTY : (offset - this.records.dataOffset) / RECORD_BYTES;
  }

  /**
   * Frees record `index`, which the calling thread holds alone at this moment (see
   * `layout.ts`), and counts it off its owning worker's quota. Its payload must be gone.
   */
  freeRecord(index: number): void {
    const a = this.i32;
    const r = this.rec(index);
    const owner = a[r + R_OWNER]!;
    Atomics.store(a, r + R_STATE, S_FREE);
    this.records.free(this.records.dataOffset + index * RECORD_BYTES);
    if (owner !== MAIN_OWNER) Atomics.sub(a, this.ctl(owner - 1) + W_RECORDS, 1);
  }

  /** Word offset of record `index`. */
  rec(index: number): number {
    return this.layout.recordBase + index * RECORD_WORDS;
  }

  /** Word offset of worker `w`'s control block. */
  ctl(w: number): number {
    return this.layout.workerBase + w * WORKER_WORDS;
  }

  /**
   * True when this pool ever used payload buffers of their own (strategy `heap`, or a
   * `pooled` fallback): then threads drain their buffer tables before they park or idle.
   */
  get usesPayloadBuffers(): boolean {
    return this.heapPayloads || Atomics.load(this.i32, H_PAYLOAD_FALLBACKS) > 0;
  }

  get shuttingDown(): boolean {
    return Atomics.load(this.i32, H_SHUTDOWN) !== 0;
  }

  // ── task names ──────────────────────────────────────────────────────────────────

  /** The pool-wide id of a task reference, adding it to the shared name table once. */
  nameId(ref: TaskRef): number {
    // By reference first: no key string built per call on the hot path.
    let id = this.#refIds.get(ref);
    if (id !== undefined) return id;
    const key = `${ref.module}#${ref.name}`;
    id = this.#nameIds.get(key);
    if (id !== undefined) {
      this.#refIds.set(ref, id);
      return id;
    }
    const bytes = Buffer.from(key, 'utf8');
    const words = 1 + ((bytes.length + 3) >> 2);
    const at = Atomics.add(this.i32, H_NAME_TOP, words);
    id = Atomics.add(this.i32, H_NEXT_NAME_ID, 1);
    if (id >= MAX_NAMES || (at + words) * 4 > NAME_BYTES) throw new TaskArgumentError(`too many distinct worker tasks (at most ${MAX_NAMES})`);
    const wordBase = (this.layout.nameBytesByte >> 2) + at;
    this.i32[wordBase] = bytes.length;
    this.u8.set(bytes, (wordBase + 1) * 4);
    Atomics.store(this.i32, this.layout.nameOffsets + id, at + 1); // publishes the entry
    this.#nameIds.set(key, id);
    this.#refIds.set(ref, id);
    this.#names[id] = { module: ref.module, name: ref.name };
    return id;
  }

  /** The module URL and task name behind `id`. */
  nameOf(id: number): { module: string; name: string } {
    let entry = this.#names[id];
    if (entry !== undefined) return entry;
    const at = Atomics.load(this.i32, this.layout.nameOffsets + id) - 1;
    if (at < 0) throw new Error(`zokio pool: unknown task name id ${id}`);
    const wordBase = (this.layout.nameBytesByte >> 2) + at;
    const len = this.i32[wordBase]!;
    const key = Buffer.from(this.u8.slice((wordBase + 1) * 4, (wordBase + 1) * 4 + len)).toString('utf8');
    const hash = key.lastIndexOf('#');
    entry = { module: key.slice(0, hash), name: key.slice(hash + 1) };
    this.#names[id] = entry;
    this.#nameIds.set(key, id);
    return entry;
  }

  // ── codec ───────────────────────────────────────────────────────────────────────

  /**
   * Serializes the argument list when it is not all scalars; `undefined` when every
   * argument fits inline. Throws `TaskArgumentError` naming the first argument that
   * cannot be sent, before anything is queued.
   */
  prepareArgs(ref: TaskRef, args: readonly unknown[]): Prepared | undefined {
    if (args.length <= SCALAR_SLOTS && allScalars(args)) return undefined;
    const json = exactJson(args); // plain data only: nothing with methods in it
    if (json !== undefined) return { bytes: Buffer.from(json), shared: false };
    for (let i = 0; i < args.length; i++) {
      const why = methodsIn(args[i]);
      if (why !== undefined) throw badArgument(ref, i, why);
    }
    try {
      return this.#serializeClone(args); // the JSON path declined them above
    } catch (err) {
      for (let i = 0; i < args.length; i++) {
        const a = args[i];
        if (typeof a === 'function' || typeof a === 'symbol') throw badArgument(ref, i, `a ${typeof a}`);
        try {
          this.serialize([a]);
        } catch (inner) {
          throw badArgument(ref, i, inner instanceof Error ? inner.message : String(inner));
        }
      }
      throw badArgument(ref, -1, err instanceof Error ? err.message : String(err));
    }
  }

  /**
   * The checks of {@link prepareArgs} without serializing (arguments that travel as a
   * message): no function, symbol or class instance with methods. Throws
   * `TaskArgumentError` naming the argument.
   */
  checkArgs(ref: TaskRef, args: readonly unknown[]): void {
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (typeof a === 'function' || typeof a === 'symbol') throw badArgument(ref, i, `a ${typeof a}`);
      const why = methodsIn(a);
      if (why !== undefined) throw badArgument(ref, i, why);
    }
  }

  /** Serializes any value (SharedArrayBuffers become markers). */
  serialize(value: unknown): Prepared {
    const json = exactJson(value);
    return json !== undefined ? { bytes: Buffer.from(json), shared: false } : this.#serializeClone(value);
  }

  /** {@link serialize} for a value the JSON path does not take: the structured clone. */
  #serializeClone(value: unknown): Prepared {
    // Shared memory near the top goes straight to the marker path: Node's serializer would
    // first copy every byte of a SAB-backed typed array (megabytes for a sort's data).
    if (hasSharedNearTop(value)) return { bytes: v8.serialize(this.#encodeShared(value, 0)), shared: true };
    const ser = new SabSpotter();
    ser.writeHeader();
    ser.writeValue(value);
    if (!ser.sawSab) return { bytes: ser.releaseBuffer(), shared: false };
    return { bytes: v8.serialize(this.#encodeShared(value, 0)), shared: true };
  }

  /** Reverses {@link serialize}. */
  deserialize(bytes: Uint8Array, shared: boolean): unknown {
    if (bytes[0] !== V8_VERSION_TAG) return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
    const value = v8.deserialize(bytes);
    return shared ? this.#decodeShared(value, 0) : value;
  }

  /** Writes a task's name id and arguments into record `r` (a word offset). */
  writeArgs(r: number, nameId: number, args: readonly unknown[], prepared: Prepared | undefined, flags: number): void {
    const a = this.i32;
    a[r + R_NAME_ID] = nameId;
    a[r + R_ARGC] = args.length;
    if (prepared === undefined) {
      // Hot path: plain loop over the Float64 slots, no allocation.
      let tags = 0;
      const f = (r + R_SCALARS) >> 1;
      for (let i = 0; i < args.length; i++) {
        const v = args[i];
        let t: number;
        if (typeof v === 'number') {
          t = T_NUMBER;
          this.f64[f + i] = v;
        } else t = v === undefined ? T_UNDEFINED : v === null ? T_NULL : v === true ? T_TRUE : T_FALSE;
        tags |= t << (i * 4);
      }
      a[r + R_TAGS] = tags;
      a[r + R_FLAGS] = flags;
      a[r + R_PAYLOAD_KIND] = P_NONE;
      return;
    }
    a[r + R_TAGS] = 0;
    a[r + R_FLAGS] = flags | F_ARGS_PAYLOAD | (prepared.shared ? F_SHARED : 0);
    this.#writePayload(r, prepared.bytes);
  }

  /**
   * Writes a task call whose arguments travel as a message to worker `w` with `transfer`
   * moved (detached here), pinned to that worker (`idx` is the record index). Throws
   * `TaskArgumentError` when `postMessage` cannot send them.
   */
  writeArgsMessage(r: number, idx: number, nameId: number, args: readonly unknown[], w: number, transfer: readonly ArrayBuffer[], flags: number, ref: TaskRef): void {
    const a = this.i32;
    a[r + R_NAME_ID] = nameId;
    a[r + R_ARGC] = args.length;
    a[r + R_TAGS] = 0;
    a[r + R_FLAGS] = flags | F_ARGS_PAYLOAD | F_MSG;
    a[r + R_PAYLOAD_LEN] = 0;
    try {
      this.buffers.sendMessage(w, r, args, transfer, idx);
    } catch (err) {
      a[r + R_PAYLOAD_KIND] = P_NONE;
      throw badArgument(ref, -1, err instanceof Error ? err.message : String(err));
    }
    a[r + R_PAYLOAD_KIND] = P_MSG;
  }

  /** Takes a message payload of record `r` (kind `P_MSG`). */
  #takeMessage(r: number): unknown {
    const a = this.i32;
    a[r + R_PAYLOAD_KIND] = P_NONE;
    const id = Atomics.load(a, r + R_PAYLOAD_SAB);
    try {
      return this.buffers.takeMessage(id);
    } finally {
      Atomics.store(a, r + R_PAYLOAD_SAB, 0);
    }
  }

  /** Reads the argument list of record `r`. */
  readArgs(r: number): unknown[] {
    const a = this.i32;
    const argc = a[r + R_ARGC]!;
    const flags = a[r + R_FLAGS]!;
    if ((flags & F_MSG) !== 0 && a[r + R_PAYLOAD_KIND] === P_MSG) return this.#takeMessage(r) as unknown[];
    if ((flags & F_ARGS_PAYLOAD) !== 0) return this.deserialize(this.#readPayload(r), (flags & F_SHARED) !== 0) as unknown[];
    const tags = a[r + R_TAGS]!;
    const f = (r + R_SCALARS) >> 1;
    const out = new Array<unknown>(argc);
    // Generic elements first: otherwise one fractional argument turns the array into a
    // double array, which hands every element back as a boxed double (see `scalarOf`).
    if (argc > 0) out[0] = undefined;
    for (let i = 0; i < argc; i++) out[i] = scalarOf((tags >>> (i * 4)) & 15, this.f64[f + i]!);
    return out;
  }

  /** Writes a result into record `r` (the state word is written by the caller). */
  writeResult(r: number, value: unknown): void {
    const a = this.i32;
    if (isMoved(value)) {
      if (a[r + R_OWNER] === MAIN_OWNER) {
        // Moved to the main thread: a message on this worker's one port, buffers transferred.
        this.buffers.sendMessage(0, r, value.value, value.transfer);
        a[r + R_TAGS] = T_PAYLOAD;
        a[r + R_FLAGS] = a[r + R_FLAGS]! & ~F_SHARED;
        a[r + R_PAYLOAD_KIND] = P_MSG;
        return;
      }
      value = value.value; // to another worker: copied
    }
    const t = scalarTag(value);
    if (t >= 0) {
      a[r + R_TAGS] = t;
      if (t === T_NUMBER) this.f64[(r + R_SCALARS) >> 1] = value as number;
      a[r + R_PAYLOAD_KIND] = P_NONE;
      return;
    }
    const p = this.serialize(value);
    a[r + R_TAGS] = T_PAYLOAD;
    a[r + R_FLAGS] = (a[r + R_FLAGS]! & ~F_SHARED) | (p.shared ? F_SHARED : 0);
    this.#writePayload(r, p.bytes);
  }

  /** Writes a thrown value into record `r` as a wire error. */
  writeError(r: number, err: unknown): void {
    const a = this.i32;
    a[r + R_TAGS] = T_PAYLOAD;
    a[r + R_FLAGS] = a[r + R_FLAGS]! & ~F_SHARED;
    let bytes: Uint8Array;
    try {
      bytes = v8.serialize(errorToWire(err));
    } catch {
      bytes = v8.serialize({ name: 'Error', message: String(err), zokio: false } satisfies WireError);
    }
    this.#writePayload(r, bytes);
  }

  /** Reads the result of a record in state DONE_OK. */
  readResult(r: number): unknown {
    const tag = this.i32[r + R_TAGS]!;
    if (tag !== T_PAYLOAD) return scalarOf(tag, this.f64[(r + R_SCALARS) >> 1]!);
    if (this.i32[r + R_PAYLOAD_KIND] === P_MSG) return this.#takeMessage(r);
    return this.deserialize(this.#readPayload(r), (this.i32[r + R_FLAGS]! & F_SHARED) !== 0);
  }

  /** Reads the error of a record in state DONE_ERR. */
  readError(r: number): Error {
    return errorFromWire(this.deserialize(this.#readPayload(r), false) as WireError);
  }

  #writePayload(r: number, bytes: Uint8Array): void {
    const a = this.i32;
    const len = bytes.byteLength;
    a[r + R_PAYLOAD_LEN] = len;
    if (len <= INLINE_BYTES) {
      this.u8.set(bytes, (r + R_INLINE) * 4);
      a[r + R_PAYLOAD_KIND] = P_INLINE;
      return;
    }
    const main = a[r + R_OWNER] === MAIN_OWNER;
    if (main && (this.heapPayloads || len > ARENA_PAYLOAD_MAX)) {
      if (!this.heapPayloads) Atomics.add(a, H_PAYLOAD_FALLBACKS, 1);
      this.#writeHeapPayload(r, bytes);
      return;
    }
    // A chain of arena blocks: word 0 of each block = offset + 1 of the next (0 = last).
    const arena = this.arena;
    const room = arena.blockSize - 8;
    const words = arena.int32;
    const out = arena.bytes;
    // Each block is linked into the record's chain before it is filled, so that a thread
    // that dies in the middle (a worker out of memory) leaves a chain `discardPayload`
    // frees whole when the main thread fails its records, not blocks nobody can reach.
    let prev = -1;
    for (let at = 0; at < len; at += room) {
      const block = arena.alloc();
      if (block === SharedSlab.EXHAUSTED) {
        if (prev >= 0) this.discardPayload(r); // the blocks taken so far
        if (main) {
          // The arena is full: a buffer of its own instead (never a failure for size).
          Atomics.add(a, H_PAYLOAD_FALLBACKS, 1);
          this.#writeHeapPayload(r, bytes);
          return;
        }
        throw new TaskArgumentError(`a ${len}-byte payload does not fit in the pool's shared arena (${arena.blockCount} blocks of ${arena.blockSize} bytes)`);
      }
      words[block >> 2] = 0;
      if (prev >= 0) words[prev >> 2] = block + 1;
      else {
        a[r + R_PAYLOAD_SAB] = block;
        a[r + R_PAYLOAD_KIND] = P_SAB;
      }
      prev = block;
      out.set(bytes.subarray(at, Math.min(len, at + room)), block + 8);
    }
  }

  /**
   * A buffer of its own for a main-thread record's payload, posted to the thread(s) that
   * may read it before the record is published; nothing to free: it is collected once no
   * table or view holds it.
   */
  #writeHeapPayload(r: number, bytes: Uint8Array): void {
    const buffer = new SharedArrayBuffer(bytes.byteLength);
    new Uint8Array(buffer).set(bytes);
    this.i32[r + R_PAYLOAD_KIND] = P_HEAP;
    this.buffers.sendPayload(r, buffer);
  }

  /**
   * Frees the payload of a record that will never be read (cancelled, orphaned, a join
   * side run inline, a result nobody waits for). A no-op once the payload was read.
   */
  discardPayload(r: number): void {
    const a = this.i32;
    const kind = a[r + R_PAYLOAD_KIND];
    if (kind === P_SAB) {
      a[r + R_PAYLOAD_KIND] = P_NONE;
      this.#freeChain(a[r + R_PAYLOAD_SAB]!);
    } else if (kind === P_HEAP) {
      a[r + R_PAYLOAD_KIND] = P_NONE;
      this.buffers.dropPayload(Atomics.exchange(a, r + R_PAYLOAD_SAB, 0));
    } else if (kind === P_MSG) {
      a[r + R_PAYLOAD_KIND] = P_NONE;
      this.buffers.dropMessage(Atomics.exchange(a, r + R_PAYLOAD_SAB, 0));
    }
  }

  #freeChain(first: number): void {
    const words = this.arena.int32;
    for (let block = first; block >= 0; ) {
      const next = words[block >> 2]! - 1;
      this.arena.free(block);
      block = next;
    }
  }

  #readPayload(r: number): Uint8Array {
    const a = this.i32;
    const kind = a[r + R_PAYLOAD_KIND];
    const len = a[r + R_PAYLOAD_LEN]!;
    if (kind === P_INLINE) {
      const at = (r + R_INLINE) * 4;
      return this.u8.slice(at, at + len);
    }
    if (kind === P_SAB) {
      a[r + R_PAYLOAD_KIND] = P_NONE;
      const arena = this.arena;
      const room = arena.blockSize - 8;
      const words = arena.int32;
      const src = arena.bytes;
      const bytes = new Uint8Array(len);
      let block = a[r + R_PAYLOAD_SAB]!;
      for (let at = 0; at < len; at += room) {
        bytes.set(src.subarray(block + 8, block + 8 + Math.min(room, len - at)), at);
        const next = words[block >> 2]! - 1;
        arena.free(block);
        block = next;
      }
      return bytes;
    }
    if (kind === P_HEAP) {
      a[r + R_PAYLOAD_KIND] = P_NONE;
      const id = Atomics.load(a, r + R_PAYLOAD_SAB);
      try {
        return new Uint8Array(this.buffers.takePayload(id), 0, len);
      } finally {
        Atomics.store(a, r + R_PAYLOAD_SAB, 0); // after the take: a drain inside it must still see the payload live
      }
    }
    throw new Error('zokio pool: record has no payload');
  }

  #encodeShared(v: unknown, depth: number): unknown {
    if (typeof v !== 'object' || v === null || depth > 64) return v;
    if (v instanceof SharedArrayBuffer) return { [SAB_MARK]: this.buffers.idOf(v) };
    if (ArrayBuffer.isView(v)) {
      if (!(v.buffer instanceof SharedArrayBuffer)) return v;
      const length = v instanceof DataView ? v.byteLength : (v as unknown as { length: number }).length;
      return { [SAB_MARK]: this.buffers.idOf(v.buffer), view: v.constructor.name, byteOffset: v.byteOffset, length };
    }
    if (Array.isArray(v)) return v.map((x) => this.#encodeShared(x, depth + 1));
    if (v instanceof Map) return new Map([...v].map(([k, x]) => [this.#encodeShared(k, depth + 1), this.#encodeShared(x, depth + 1)]));
    if (v instanceof Set) return new Set([...v].map((x) => this.#encodeShared(x, depth + 1)));
    if (v instanceof Date || v instanceof RegExp || v instanceof Error || v instanceof ArrayBuffer) return v;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) setOwnField(out, k, this.#encodeShared((v as Record<string, unknown>)[k], depth + 1));
    return out;
  }

  #decodeShared(v: unknown, depth: number): unknown {
    if (typeof v !== 'object' || v === null || depth > 64) return v;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = this.#decodeShared(v[i], depth + 1);
      return v;
    }
    if (v instanceof Map) return new Map([...v].map(([k, x]) => [this.#decodeShared(k, depth + 1), this.#decodeShared(x, depth + 1)]));
    if (v instanceof Set) return new Set([...v].map((x) => this.#decodeShared(x, depth + 1)));
    if (ArrayBuffer.isView(v) || v instanceof Date || v instanceof RegExp || v instanceof Error || v instanceof ArrayBuffer) return v;
    const o = v as Record<string, unknown>;
    const id = o[SAB_MARK];
    if (typeof id === 'number') {
      const sab = this.buffers.get(id);
      if (o.view === undefined) return sab;
      const Ctor = (globalThis as unknown as Record<string, new (b: SharedArrayBuffer, o: number, l: number) => unknown>)[o.view as string];
      if (Ctor === undefined) throw new Error(`zokio pool: cannot rebuild a ${String(o.view)} over shared memory`);
      return new Ctor(sab, o.byteOffset as number, o.length as number);
    }
    for (const k of Object.keys(o)) o[k] = this.#decodeShared(o[k], depth + 1);
    return o;
  }

  // ── queues, parking, waking ────────────────────────────────────────────────────

  /** True when any queue a worker could take from holds work. */
  anyWork(): boolean {
    if (this.injector.size() > 0) return true;
    for (let w = 0; w < this.layout.workers; w++) if (this.deques[w]!.size() > 0 || this.inboxes[w]!.size() > 0) return true;
    return false;
  }

  /** Wakes one parked worker, if any is parked (no syscall otherwise). */
  wakeOne(): void {
    const a = this.i32;
    if (Atomics.load(a, H_SLEEPERS) === 0) return;
    const n = this.layout.workers;
    const start = this.#robin++ % n;
    for (let k = 0; k < n; k++) {
      const c = this.ctl((start + k) % n);
      if (Atomics.load(a, c + W_PARKED) === 1 && Atomics.compareExchange(a, c + W_PARKED, 1, 2) === 1) {
        Atomics.add(a, c + W_WAKE, 1);
        Atomics.notify(a, c + W_WAKE, 1);
        return;
      }
    }
  }

  /** Wakes up to `count` parked workers. */
  wake(count: number): void {
    for (let i = 0; i < count && Atomics.load(this.i32, H_SLEEPERS) > 0; i++) this.wakeOne();
  }

  /** Wakes worker `w` if it is parked (targeted: join results, aborts, shutdown). */
  wakeWorker(w: number): void {
    const c = this.ctl(w);
    if (Atomics.load(this.i32, c + W_PARKED) !== 0) {
      Atomics.add(this.i32, c + W_WAKE, 1);
      Atomics.notify(this.i32, c + W_WAKE);
    }
  }

  /** Wakes every worker (shutdown). */
  wakeAll(): void {
    for (let w = 0; w < this.layout.workers; w++) {
      const c = this.ctl(w);
      Atomics.add(this.i32, c + W_WAKE, 1);
      Atomics.notify(this.i32, c + W_WAKE);
    }
  }

  /**
   * Publishes the outcome of record `index` (result/error already written) to its owner:
   * the main thread through the completion ring, a worker through the record's state
   * word and a targeted wake. A record whose owning worker died since is just freed.
   */
  complete(index: number, state: typeof S_DONE_OK | typeof S_DONE_ERR | number): void {
    const a = this.i32;
    const r = this.rec(index);
    const owner = a[r + R_OWNER]!;
    if (owner === MAIN_OWNER) {
      Atomics.store(a, r + R_STATE, state);
      this.completions.push(index); // never full: it has a cell per main record
      if (Atomics.load(a, H_MAIN_WAITING) === 1 && Atomics.compareExchange(a, H_MAIN_WAITING, 1, 0) === 1) {
        Atomics.add(a, H_MAIN_WAKE, 1);
        Atomics.notify(a, H_MAIN_WAKE);
      }
      return;
    }
    const w = owner - 1;
    if (Atomics.load(a, r + R_OWNER_INCARNATION) !== Atomics.load(a, this.ctl(w) + W_INCARNATION)) {
      this.discardPayload(r);
      this.freeRecord(index);
      return;
    }
    Atomics.store(a, r + R_STATE, state);
    this.wakeWorker(w);
  }
}

/** Serialized bytes of a value, and whether it holds SharedArrayBuffer markers. */
export interface Prepared {
  readonly bytes: Uint8Array;
  readonly shared: boolean;
}

class SabSpotter extends v8.DefaultSerializer {
  sawSab = false;
  _getSharedArrayBufferId(): number {
    this.sawSab = true;
    return 0;
  }
  // Node writes typed arrays as host objects (copying their bytes), so a view over a
  // SharedArrayBuffer never reaches `_getSharedArrayBufferId`: spot it here.
  _writeHostObject(object: object): void {
    if (ArrayBuffer.isView(object) && object.buffer instanceof SharedArrayBuffer) this.sawSab = true;
    (v8.DefaultSerializer.prototype as unknown as { _writeHostObject(o: object): void })._writeHostObject.call(this, object);
  }
}

function isShared(v: unknown): boolean {
  return v instanceof SharedArrayBuffer || (ArrayBuffer.isView(v) && v.buffer instanceof SharedArrayBuffer);
}

/** True when `value`, or an element/field of it (one level down), is shared memory. */
function hasSharedNearTop(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (isShared(value)) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (isShared(value[i])) return true;
    return false;
  }
  if (ArrayBuffer.isView(value)) return false;
  for (const k in value) if (isShared((value as Record<string, unknown>)[k])) return true;
  return false;
}

/** Objects {@link methodsIn} looks at per argument before it stops looking. */
const METHOD_SCAN_BUDGET = 4096;

/**
 * Why `value` cannot be sent although structured clone would copy it: it is, or holds
 * (within the first {@link METHOD_SCAN_BUDGET} objects, 16 levels deep), an instance of a
 * class with methods, which would arrive as a plain object with its methods gone.
 * `undefined` when there is none. Built-in cloneable classes (Date, Map, typed arrays,
 * errors, ...) are fine; so are class instances without methods.
 */
export function methodsIn(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const budget = { left: METHOD_SCAN_BUDGET };
  return scanMethods(value, 0, budget);
}

function scanMethods(v: object, depth: number, budget: { left: number }): string | undefined {
  if (--budget.left < 0 || depth > 16) return undefined;
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof SharedArrayBuffer || v instanceof Date || v instanceof RegExp || v instanceof Error) return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length && budget.left >= 0; i++) {
      const x = v[i] as unknown;
      if (typeof x === 'object' && x !== null) {
        const why = scanMethods(x, depth + 1, budget);
        if (why !== undefined) return why;
      }
    }
    return undefined;
  }
  if (v instanceof Map) {
    for (const [k, x] of v) {
      for (const y of [k, x] as unknown[]) {
        if (typeof y === 'object' && y !== null) {
          const why = scanMethods(y, depth + 1, budget);
          if (why !== undefined) return why;
        }
      }
    }
    return undefined;
  }
  if (v instanceof Set) {
    for (const x of v as Set<unknown>) {
      if (typeof x === 'object' && x !== null) {
        const why = scanMethods(x, depth + 1, budget);
        if (why !== undefined) return why;
      }
    }
    return undefined;
  }
  const proto = Object.getPrototypeOf(v) as object | null;
  if (proto !== Object.prototype && proto !== null && !(v instanceof Boolean || v instanceof Number || v instanceof String)) {
    for (let p: object | null = proto; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
      for (const key of Object.getOwnPropertyNames(p)) {
        if (key === 'constructor') continue;
        const d = Object.getOwnPropertyDescriptor(p, key)!;
        if (typeof d.value === 'function' || d.get !== undefined) {
          const name = (proto as { constructor?: { name?: string } }).constructor?.name || 'anonymous class';
          return `an instance of ${name}, whose methods would be lost (send plain data and rebuild the instance in the task)`;
        }
      }
    }
  }
  for (const key of Object.keys(v)) {
    const x = (v as Record<string, unknown>)[key];
    if (typeof x === 'object' && x !== null) {
      const why = scanMethods(x, depth + 1, budget);
      if (why !== undefined) return why;
    }
  }
  return undefined;
}

function allScalars(args: readonly unknown[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const v = args[i];
    if (typeof v !== 'number' && typeof v !== 'boolean' && v !== null && v !== undefined) return false;
  }
  return true;
}

/** The inline tag of a scalar, or -1 when the value needs the payload. */
export function scalarTag(v: unknown): number {
  if (typeof v === 'number') return T_NUMBER;
  if (v === undefined) return T_UNDEFINED;
  if (v === null) return T_NULL;
  if (v === true) return T_TRUE;
  if (v === false) return T_FALSE;
  return -1;
}

/**
 * The scalar a tag and slot stand for.
 *
 * A number read from a Float64Array slot comes back as a boxed double even when it is an
 * integer (V8 does not retag it as a small integer in unoptimized code). Handing that to a
 * task makes V8 record double feedback for everything the argument flows into: `fib(n)`
 * called with `n` = 32.0 does all of its arithmetic on heap-allocated doubles, about 1.5×
 * slower than with `n` = 32. So an int32-valued slot is returned as an int32 (`-0` stays
 * `-0`); the value is the same number either way.
 */
export function scalarOf(tag: number, slot: number): unknown {
  switch (tag) {
    case T_NUMBER: {
      const i = slot | 0;
      return i === slot && (i !== 0 || 1 / slot > 0) ? i : slot;
    }
    case T_NULL:
      return null;
    case T_TRUE:
      return true;
    case T_FALSE:
      return false;
    default:
      return undefined;
  }
}

function badArgument(ref: TaskRef, index: number, why: string): TaskArgumentError {
  const which = index >= 0 ? `argument ${index + 1}` : 'an argument';
  return new TaskArgumentError(`${which} of task '${ref.name}' (${ref.module}) cannot be sent to a worker: ${why}`);
}

export { CONTENDED, EMPTY };
