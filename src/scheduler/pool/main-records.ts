/**
 * The main thread's side of its task records: for each main-owned record, the caller's
 * promise (resolve/reject), its abort hook, the arguments it was called with (to run it
 * again after a forced abort), and the bookkeeping of records cancelled while queued.
 * The pool's submission, completion and crash-recovery code all go through this table.
 *
 * Implementation note. Everything is indexed by record index (a main-thread record may be
 * any block of the records slab), in arrays sized once when the pool starts. `pending`
 * counts the promises from `exec`/`map` not settled yet, submissions still waiting for a
 * free record included (`rt.metrics().pool.pending`). Only the main thread touches this.
 *
 * @module
 */
import { EMPTY } from './deque.js';
import { P_NONE, R_ARGC, R_FLAGS, R_PAYLOAD_KIND, R_SCALARS, R_TAGS, SCALAR_SLOTS } from './layout.js';
import type { PoolCore } from './pool-core.js';

/** An abort listener registered for a queued or running main record. */
export interface AbortHook {
  readonly signal: AbortSignal;
  readonly listener: () => void;
}

/** @internal The main thread's table of its in-flight task records. */
export class MainRecords {
  /** Promises from `exec`/`map` not settled yet. */
  pending = 0;
  /** Main-thread records held now (at most `layout.mainRecords`; see `layout.ts`). */
  inUse = 0;
  /**
   * Main records cancelled while queued: their promise has settled, and a worker hands the
   * record back when it meets it. The completion loop keeps draining until they are back,
   * or they would stay in use until the next task woke the loop.
   */
  cancelledOut = 0;
  resolve: Array<((v: unknown) => void) | undefined> = [];
  reject: Array<((e: unknown) => void) | undefined> = [];
  hooks: Array<AbortHook | undefined> = [];
  /** 1 for a record counted in `cancelledOut`. */
  cancelledAt: Uint8Array = new Uint8Array(0);
  /**
   * Arguments of each main record in flight that carries them in a payload, to run it
   * again after a forced abort killed its worker. All-scalar argument lists are kept in
   * `scalars` instead (no array kept alive per task: see {@link saveScalars}).
   */
  args: Array<readonly unknown[] | undefined> = [];
  /** A copy of the inline argument words of all-scalar records (argc, tags, 8 slots), by record. */
  scalars: Float64Array = new Float64Array(0);
  /** 1 when `scalars` holds record `idx`'s arguments. */
  scalarsSaved: Uint8Array = new Uint8Array(0);
  /** 1 for a main record already run again once after a forced abort (see `crash-recovery.ts`). */
  rerun: Uint8Array = new Uint8Array(0);
  /** The caller's abort reason of running main records whose signal fired (the rejection's `cause`). */
  readonly abortReasons = new Map<number, unknown>();
  #core: PoolCore | undefined;

  /** Sizes the table for `core`'s records (when the pool starts). */
  attach(core: PoolCore): void {
    this.#core = core;
    const n = core.layout.totalRecords;
    this.resolve = new Array(n).fill(undefined);
    this.reject = new Array(n).fill(undefined);
    this.hooks = new Array(n).fill(undefined);
    this.cancelledAt = new Uint8Array(n);
    this.args = new Array(n).fill(undefined);
    this.scalars = new Float64Array(n * (SCALAR_SLOTS + 1));
    this.scalarsSaved = new Uint8Array(n);
    this.rerun = new Uint8Array(n);
  }

  /** A record for a main-thread submission, or EMPTY when the main thread holds its quota. */
  take(): number {
    const core = this.#core!;
    if (this.inUse >= core.layout.mainRecords) return EMPTY;
    const idx = core.allocRecord(); // under the quota a block is always free (see layout.ts)
    if (idx !== EMPTY) this.inUse++;
    return idx;
  }

  /**
   * Puts main record `idx` back on the free list. A payload nobody read (cancelled, failed,
   * or a result nobody waits for any more) goes now; after a read this is one plain load.
   */
  free(idx: number): void {
    const core = this.#core!;
    const r = core.rec(idx);
    if (this.abortReasons.size > 0) this.abortReasons.delete(idx);
    this.args[idx] = undefined;
    this.scalarsSaved[idx] = 0;
    core.discardPayload(r);
    core.buffers.forgetSent(r);
    core.freeRecord(idx);
    this.inUse--;
  }

  /**
   * Keeps the inline arguments record `idx` was just written with (all scalars) so that
   * {@link restoreScalars} can write them again; a few word copies, no allocation.
   */
  saveScalars(idx: number): void {
    const core = this.#core!;
    const r = core.rec(idx);
    const argc = core.i32[r + R_ARGC]!;
    const at = idx * (SCALAR_SLOTS + 1);
    // Slot 0: argc and tags, both 32-bit integers, exact in a double.
    this.scalars[at] = argc * 2 ** 32 + (core.i32[r + R_TAGS]! >>> 0);
    const f = (r + R_SCALARS) >> 1;
    for (let i = 0; i < argc; i++) this.scalars[at + 1 + i] = core.f64[f + i]!;
    this.scalarsSaved[idx] = 1;
  }

  /** Writes back the arguments {@link saveScalars} kept, with record flags `flags`. */
  restoreScalars(idx: number, flags: number): void {
    const core = this.#core!;
    const r = core.rec(idx);
    const at = idx * (SCALAR_SLOTS + 1);
    const head = this.scalars[at]!;
    const argc = Math.floor(head / 2 ** 32);
    core.i32[r + R_ARGC] = argc;
    core.i32[r + R_TAGS] = head % 2 ** 32 | 0;
    const f = (r + R_SCALARS) >> 1;
    for (let i = 0; i < argc; i++) core.f64[f + i] = this.scalars[at + 1 + i]!;
    core.i32[r + R_FLAGS] = flags;
    core.i32[r + R_PAYLOAD_KIND] = P_NONE;
  }

  /** A record cancelled while queued is back from the workers (see `cancelledOut`). */
  cancelledBack(idx: number): void {
    this.cancelledAt[idx] = 0;
    this.cancelledOut--;
  }

  /** A record cancelled while queued: counted until a worker hands it back. */
  cancelledOutNow(idx: number): void {
    this.cancelledAt[idx] = 1;
    this.cancelledOut++;
  }

  unhook(idx: number): void {
    const hook = this.hooks[idx];
    if (hook !== undefined) {
      this.hooks[idx] = undefined;
      hook.signal.removeEventListener('abort', hook.listener);
    }
  }

  /**
   * Detaches the caller of record `idx` (its promise will be settled by whoever calls this)
   * and returns its `reject`, or undefined when nobody waits for the record any more.
   */
  detach(idx: number): ((e: unknown) => void) | undefined {
    const reject = this.reject[idx];
    this.resolve[idx] = undefined;
    this.reject[idx] = undefined;
    this.unhook(idx);
    return reject;
  }
}
