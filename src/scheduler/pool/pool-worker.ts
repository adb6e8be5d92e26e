/**
 * The loop each pool worker runs: find a record (own deque, own inbox, injector, then
 * steal from a random victim), run its task, publish the outcome, park when there is
 * nothing to do. Also the worker half of `join` and of `exec` inside a task.
 *
 * Implementation note. The loop is synchronous while it finds work and only reaches the
 * event loop when it must: to load a task module, when async tasks are in flight (then it
 * parks with `Atomics.waitAsync` so their timers and I/O run), and every 64 tasks while
 * async tasks are in flight. With only synchronous tasks it parks with `Atomics.wait`.
 * Records the worker submits itself (join sides, `exec` inside a task) are blocks of the
 * records `SharedSlab`, within its quota (see `layout.ts`); past the quota such a task
 * runs inline.
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { TaskAbortedError, TaskNotFoundError } from '../../errors.js';
import { abortReason } from '../abort-reason.js';
import { abortableWait } from '../wait-abort.js';
import { SharedSlab } from '../../memory/shared-slab.js';
import { reviveShared } from '../../sync/shared/revive.js';
import type { TaskRef } from '../task-ref.js';
import { loadTask, lookupTask, type TaskFunction } from '../task-registry.js';
import { CONTENDED, EMPTY } from './deque.js';
import { holdLoop, releaseLoop, waitAsync } from '../wait-async.js';
import { F_MAP, F_TRACE, PoolCore, type Prepared } from './pool-core.js';
import {
  H_SLEEPERS,
  MAIN_OWNER,
  R_ABORT,
  R_FLAGS,
  R_GEN,
  R_NAME_ID,
  R_OWNER,
  R_OWNER_INCARNATION,
  R_RUNNER,
  R_SPAN_ID,
  R_STATE,
  R_SUBMIT_AT,
  R_TRACE_FLAGS,
  R_TRACE_ID,
  S_CANCELLED,
  S_DONE_ERR,
  S_DONE_OK,
  S_QUEUED,
  S_RUNNING,
  W_ALIVE,
  W_EXECUTED,
  W_HELP_ITERATIONS,
  W_INCARNATION,
  W_INLINE_POPS,
  W_JOINS,
  W_PARKED,
  W_PARKS,
  W_READY,
  W_STOLEN,
  W_STOLEN_SIDES,
  W_PAYLOAD_BUFFERS,
  W_PINNED,
  W_RECORDS,
  W_WAKE,
  STATS_WORDS,
  workerControl,
  type PoolLayout,
} from './layout.js';
import type { MessagePort } from 'node:worker_threads';
import { workerParkChannel, workerStealChannel, workerUnparkChannel } from '../../trace/channels.js';
import { SharedBufferTable, type PayloadEntry } from './shared-buffers.js';
import { forkTraceContext, setWorkerContext, taskSpanIsolation, type TaskTraceContext, type WorkerContext } from './worker-context.js';
import { isThenable } from '../thenable.js';
import { redirectWorkerStdio } from './worker-stdio.js';
import { WorkerTiming, epochMs } from './timing.js';

/** What the main thread hands each worker. */
export interface PoolWorkerData {
  readonly sab: SharedArrayBuffer;
  readonly layout: PoolLayout;
  readonly arena: SharedArrayBuffer;
  readonly port: MessagePort;
  /** Where the worker's stdout/stderr chunks go (see `worker-stdio.ts`). */
  readonly stdio: MessagePort;
  readonly known: ReadonlyArray<readonly [number, SharedArrayBuffer]>;
  /** Argument payload buffers still unread (a replacement worker was not there when they were posted). */
  readonly payloads: readonly PayloadEntry[];
  /** Memory strategy `heap`: main-thread records carry long payloads in buffers of their own. */
  readonly heapPayloads: boolean;
  readonly index: number;
  readonly strategy: 'local_first' | 'global_first' | 'round_robin';
  readonly workStealing: boolean;
  /** URL of the real worker entry, for the TypeScript boot file (`../ts-worker-boot.mjs`). */
  readonly entry: string;
}

/** How deep help loops may nest on one stack before a waiting join only parks. */
const MAX_HELP_DEPTH = 16;
/** Async tasks a worker keeps in flight before it stops taking new work. */
const MAX_ASYNC_IN_FLIGHT = 256;

interface Nested {
  resolve(value: unknown): void;
  reject(err: unknown): void;
  /** The record whose task called `exec` (-1: none known), and its generation then. */
  readonly parent: number;
  readonly parentGen: number;
  /** Rejected already (its caller or its signal aborted): the record is only released when it ends. */
  abandoned: boolean;
  /** The caller's signal, and the listener this entry added to it. */
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * The record an async task body runs for, carried across its awaits: `#stack` holds a
 * record only while its body runs synchronously, so after the body's first `await` the
 * signal, trace and parent lookups read this instead (see `PoolWorker.#current`).
 */
interface RunningRecord {
  readonly idx: number;
  readonly gen: number;
}

const runningRecord = /* @__PURE__ */ new AsyncLocalStorage<RunningRecord>();
const AsyncFunction = (async () => {}).constructor;

/** One worker thread of the pool. */
export class PoolWorker implements WorkerContext {
  readonly index: number;
  readonly #core: PoolCore;
  readonly #a: Int32Array;
  readonly #ctl: number;
  readonly #owner: number;
  readonly #strategy: PoolWorkerData['strategy'];
  readonly #stealing: boolean;
  readonly #incarnation: number;
  /** Records this worker slot may own at once (see `layout.ts`). */
  readonly #quota: number;
  readonly #fns: Array<TaskFunction | undefined> = [];
  /** Records running on this stack, innermost last (for signal and trace lookups). */
  readonly #stack: number[] = [];
  readonly #controllers = new Map<number, AbortController>();
  readonly #async = new Set<number>();
  readonly #nested = new Map<number, Nested>();
  readonly #deferred: number[] = [];
  #helpDepth = 0;
  readonly #timing: WorkerTiming;
  /** When the last task run from the loop ended (epoch ms), while the loop runs on without a pause; -1 otherwise. */
  #clock = -1;
  #seed: number;
  #robin = 0;
  #sinceYield = 0;

  constructor(data: PoolWorkerData) {
    this.index = data.index;
    const i32 = new Int32Array(data.sab);
    const buffers = new SharedBufferTable(i32, [data.port], { known: data.known, payloads: data.payloads, countWord: workerControl(data.layout, data.index) + W_PAYLOAD_BUFFERS });
    this.#core = new PoolCore(data.sab, data.layout, data.arena, buffers, data.heapPayloads);
    this.#a = this.#core.i32;
    this.#ctl = this.#core.ctl(data.index);
    this.#owner = data.index + 1;
    this.#strategy = data.strategy;
    this.#stealing = data.workStealing && data.layout.workers > 1;
    this.#incarnation = Atomics.load(this.#a, this.#ctl + W_INCARNATION);
    this.#seed = (data.index + 1) * 0x9e3779b1;
    this.#quota = data.layout.workerRecords;
    this.#reclaimStale();
    this.#timing = new WorkerTiming(data.sab, data.layout.statsBase + data.index * STATS_WORDS);
    redirectWorkerStdio(data.stdio, this.#a);
    setWorkerContext(this);
  }

  // ── main loop ──────────────────────────────────────────────────────────────────

  /** Runs until the pool shuts down. */
  async run(): Promise<void> {
    const a = this.#a;
    Atomics.store(a, this.#ctl + W_ALIVE, 1);
    Atomics.store(a, this.#ctl + W_READY, 1);
    const core = this.#core;
    while (!core.shuttingDown) {
      const idx = this.#deferred.length > 0 ? this.#deferred.shift()! : this.#async.size < MAX_ASYNC_IN_FLIGHT ? this.#find() : EMPTY;
      if (idx >= 0) {
        const pending = this.#run(idx, false);
        if (pending !== undefined) {
          this.#clock = -1;
          await pending;
          this.#clock = -1;
        }
        if (this.#async.size > 0 && ++this.#sinceYield >= 64) {
          this.#sinceYield = 0;
          await new Promise<void>((resolve) => setImmediate(resolve));
          this.#clock = -1;
        }
        continue;
      }
      this.#clock = -1; // nothing right away: the next task reads the clock
      this.#settleNested();
      this.#checkAborts();
      if (this.#async.size > 0 || this.#nested.size > 0) await this.#parkAsync();
      else this.#park(undefined);
    }
  }

  #random(): number {
    let x = this.#seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#seed = x;
    return x >>> 0;
  }

  /** Takes the next record to run, or EMPTY. Order: own deque, own inbox, injector, steal. */
  #find(): number {
    const core = this.#core;
    let idx = core.deques[this.index]!.pop();
    if (idx >= 0) return idx;
    if (Atomics.load(this.#a, this.#ctl + W_PINNED) > 0) {
      // A record only this worker may run (its arguments were transferred to it).
      idx = core.buffers.takePinned();
      if (idx >= 0) {
        Atomics.sub(this.#a, this.#ctl + W_PINNED, 1);
        return idx;
      }
    }
    idx = core.inboxes[this.index]!.pop();
    if (idx >= 0) return idx;
    idx = core.injector.pop();
    if (idx >= 0) {
      if (core.injector.size() > 0) core.wakeOne(); // more where that came from: bring help
      return idx;
    }
    return this.#steal();
  }

  /** Steals from a random victim's deque, then its inbox. */
  #steal(): number {
    if (!this.#stealing) return EMPTY;
    const core = this.#core;
    const n = core.layout.workers;
    const start = this.#random() % n;
    for (let k = 0; k < n; k++) {
      const v = (start + k) % n;
      if (v === this.index) continue;
      let idx = core.deques[v]!.steal();
      if (idx === CONTENDED) idx = core.deques[v]!.steal();
      if (idx < 0) idx = core.inboxes[v]!.pop();
      if (idx >= 0) {
        Atomics.add(this.#a, this.#ctl + W_STOLEN, 1);
        if (workerStealChannel.hasSubscribers) workerStealChannel.publish({ worker: this.index, from: v, count: 1 });
        if (core.deques[v]!.size() > 0) core.wakeOne();
        return idx;
      }
    }
    return EMPTY;
  }

  #hasWork(): boolean {
    const core = this.#core;
    if (Atomics.load(this.#a, this.#ctl + W_PINNED) > 0) return true;
    if (this.#stealing) return core.anyWork();
    return core.deques[this.index]!.size() > 0 || core.inboxes[this.index]!.size() > 0 || core.injector.size() > 0;
  }

  #nestedReady(): boolean {
    for (const idx of this.#nested.keys()) {
      const s = Atomics.load(this.#a, this.#core.rec(idx) + R_STATE);
      if (s === S_DONE_OK || s === S_DONE_ERR) return true;
    }
    return false;
  }

  /** Parks with `Atomics.wait` until woken; `done` is re-checked after announcing the park. */
  #park(done: (() => boolean) | undefined): void {
    const a = this.#a;
    const c = this.#ctl;
    const seq = Atomics.load(a, c + W_WAKE);
    Atomics.store(a, c + W_PARKED, 1);
    Atomics.add(a, H_SLEEPERS, 1);
    if (!this.#hasWork() && !(done?.() ?? false) && !this.#nestedReady() && !this.#core.shuttingDown) {
      Atomics.add(a, c + W_PARKS, 1);
      // An idle worker keeps no free SharedSlab blocks out of other threads' reach (and a
      // worker terminated at shutdown is usually parked, so it loses none), and no payload
      // buffer that another worker has read since it was posted.
      SharedSlab.flushAll();
      if (this.#core.usesPayloadBuffers) this.#core.buffers.drain();
      if (workerParkChannel.hasSubscribers) workerParkChannel.publish({ worker: this.index });
      Atomics.wait(a, c + W_WAKE, seq);
      if (workerUnparkChannel.hasSubscribers) workerUnparkChannel.publish({ worker: this.index });
    }
    Atomics.store(a, c + W_PARKED, 0);
    Atomics.sub(a, H_SLEEPERS, 1);
  }

  /** Like `#park`, but lets the event loop run (async tasks in flight). */
  async #parkAsync(): Promise<void> {
    const a = this.#a;
    const c = this.#ctl;
    const seq = Atomics.load(a, c + W_WAKE);
    Atomics.store(a, c + W_PARKED, 1);
    Atomics.add(a, H_SLEEPERS, 1);
    if (!this.#hasWork() && !this.#nestedReady() && !this.#core.shuttingDown) {
      Atomics.add(a, c + W_PARKS, 1);
      SharedSlab.flushAll(); // as in #park
      if (this.#core.usesPayloadBuffers) this.#core.buffers.drain();
      if (workerParkChannel.hasSubscribers) workerParkChannel.publish({ worker: this.index });
      const r = waitAsync(a, c + W_WAKE, seq);
      if (r.async) {
        // Held open: with no timer or I/O of its own (say, awaiting an `exec` another
        // worker runs) the worker would otherwise end here with exit code 13.
        holdLoop();
        await r.value;
        releaseLoop();
      }
      if (workerUnparkChannel.hasSubscribers) workerUnparkChannel.publish({ worker: this.index });
    }
    Atomics.store(a, c + W_PARKED, 0);
    Atomics.sub(a, H_SLEEPERS, 1);
  }

  /** Wakes this worker's own async park (an async task finished). */
  #kick(): void {
    Atomics.add(this.#a, this.#ctl + W_WAKE, 1);
    Atomics.notify(this.#a, this.#ctl + W_WAKE);
  }

  // ── running records ────────────────────────────────────────────────────────────

  /**
   * Claims and runs record `idx`. Returns a promise only when the task's module must be
   * loaded first; in a synchronous context (`sync`) such a record is deferred instead.
   */
  #run(idx: number, sync: boolean): Promise<void> | undefined {
    const a = this.#a;
    const core = this.#core;
    const r = core.rec(idx);
    const owner = a[r + R_OWNER]!;
    if (owner !== MAIN_OWNER && Atomics.load(a, r + R_OWNER_INCARNATION) !== Atomics.load(a, core.ctl(owner - 1) + W_INCARNATION)) {
      core.discardPayload(r); // its owner died: nobody waits for it
      core.freeRecord(idx);
      return undefined;
    }
    const nameId = a[r + R_NAME_ID]!;
    let fn = this.#fns[nameId];
    if (fn === undefined) {
      const { module, name } = core.nameOf(nameId);
      fn = lookupTask(module, name);
      if (fn === undefined) {
        // Held off every queue until its module is loaded: RUNNER names this worker, so
        // that if it dies meanwhile the main thread finds the record (see `#onExit`).
        Atomics.store(a, r + R_RUNNER, this.#owner);
        if (sync) {
          this.#deferred.push(idx);
          return undefined;
        }
        return loadTask(module, name).then(
          (loaded) => {
            this.#fns[nameId] = loaded;
            this.#run(idx, false);
          },
          (err: unknown) => {
            if (Atomics.compareExchange(a, r + R_STATE, S_QUEUED, S_RUNNING) !== S_QUEUED) return this.#dropCancelled(idx);
            this.#finish(idx, false, err);
          },
        );
      }
      this.#fns[nameId] = fn;
    }
    if (Atomics.compareExchange(a, r + R_STATE, S_QUEUED, S_RUNNING) !== S_QUEUED) {
      this.#dropCancelled(idx);
      return undefined;
    }
    Atomics.store(a, r + R_RUNNER, this.#owner);
    Atomics.add(a, this.#ctl + W_EXECUTED, 1);
    if (owner !== MAIN_OWNER && Atomics.load(a, r + R_ABORT) !== 0) {
      // A nested `exec` whose caller was aborted before it started: it does not start.
      this.#finish(idx, false, new TaskAbortedError('the task that called exec was aborted'));
      return undefined;
    }
    this.#invoke(idx, r, fn);
    return undefined;
  }

  /**
   * A main-owned record the caller cancelled while queued: drop its arguments (so that the
   * other workers' tables let a payload buffer go at their next drain) and hand it back
   * so main frees it.
   */
  #dropCancelled(idx: number): void {
    const r = this.#core.rec(idx);
    if (this.#a[r + R_OWNER] !== MAIN_OWNER) return;
    this.#core.discardPayload(r);
    // Handed back: no longer this worker's to answer for if it dies.
    Atomics.store(this.#a, r + R_RUNNER, 0);
    this.#core.complete(idx, S_CANCELLED);
  }

  #invoke(idx: number, r: number, fn: TaskFunction): void {
    // A record run while a span is open here (helping inside a join, an `exec` pushed
    // after a join's own side) must not take that span as its parent.
    const isolation = taskSpanIsolation();
    if (isolation !== undefined && isolation.spanOpen()) {
      isolation.runOutside(() => this.#invoke(idx, r, fn));
      return;
    }
    // Main-thread records (`exec`/`map`) are timed (see `timing.ts`): one clock read at
    // the start and one at the end.
    const timed = this.#a[r + R_OWNER] === MAIN_OWNER;
    let t0 = 0;
    if (timed) {
      // Back to back in the run loop, a task starts when the previous one ended (one clock
      // read per task); nested or after a park, it reads the clock.
      t0 = this.#clock >= 0 && this.#stack.length === 0 ? this.#clock : epochMs();
      this.#clock = -1;
      const at = (r + R_SUBMIT_AT) >> 1;
      const f64 = this.#core.f64;
      const submitted = f64[at]!;
      if (t0 < submitted) t0 = submitted; // queued after the previous task ended
      this.#timing.wait(t0 - submitted);
      f64[at] = t0;
    }
    let result: unknown;
    this.#stack.push(idx);
    try {
      const args = this.#core.readArgs(r);
      if ((this.#a[r + R_FLAGS]! & F_MAP) !== 0) {
        result = mapChunk(fn, args[0] as ArrayLike<unknown>);
      } else {
        for (let i = 0; i < args.length; i++) args[i] = reviveShared(args[i]);
        // An async body keeps knowing its record after its awaits (signal, trace, exec's parent).
        if (fn.constructor === AsyncFunction) result = runningRecord.run({ idx, gen: this.#a[r + R_GEN]! }, fn as (...a: unknown[]) => unknown, ...args);
        else result = (fn as (...a: unknown[]) => unknown)(...args);
      }
    } catch (err) {
      this.#stack.pop();
      if (timed) this.#ran(t0, -1);
      this.#finish(idx, false, err);
      return;
    }
    this.#stack.pop();
    if (!isThenable(result)) {
      if (timed) this.#ran(t0, -1);
      this.#finish(idx, true, result);
      return;
    }
    const busy = timed ? epochMs() - t0 : 0;
    this.#async.add(idx);
    Promise.resolve(result).then(
      (value) => {
        this.#async.delete(idx);
        if (timed) this.#ran(t0, busy);
        this.#finish(idx, true, value);
        this.#kick();
      },
      (err: unknown) => {
        this.#async.delete(idx);
        if (timed) this.#ran(t0, busy);
        this.#finish(idx, false, err);
        this.#kick();
      },
    );
  }

  /** A timed task started at `t0` settled now; `busy` < 0: it ran on the stack the whole time. */
  #ran(t0: number, busy: number): void {
    const now = epochMs();
    const ms = now - t0;
    this.#timing.run(ms, busy < 0 ? ms : busy);
    // The next task of the run loop, if it starts right away, starts now.
    if (busy < 0 && this.#stack.length === 0) this.#clock = now;
  }

  /** Writes the outcome and publishes it to the record's owner. */
  #finish(idx: number, ok: boolean, value: unknown): void {
    const core = this.#core;
    const r = core.rec(idx);
    this.#controllers.delete(idx);
    core.discardPayload(r); // arguments never read (the task module failed to load)
    if (ok) {
      try {
        core.writeResult(r, value);
      } catch (err) {
        ok = false;
        value = new TypeError(`the result of the task cannot be sent back from the worker: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (!ok) core.writeError(r, value);
    core.complete(idx, ok ? S_DONE_OK : S_DONE_ERR);
    if (this.#a[r + R_OWNER] === this.#owner && this.#nested.has(idx)) this.#settle(idx);
  }

  // ── records this worker submits ─────────────────────────────────────────────────

  /**
   * A replacement worker frees the records of this slot that a dead incarnation submitted
   * and that finished after it died: nobody reads their outcome, and no other thread frees
   * a record left in a done state. Returns how many. A first incarnation has none.
   */
  #reclaimStale(): number {
    if (this.#incarnation === 0) return 0;
    const core = this.#core;
    const a = this.#a;
    let n = 0;
    // Plain loop over every record's words: on boot of a replacement and when its quota is
    // used up, never on the hot path.
    for (let i = 0; i < core.layout.totalRecords; i++) {
      const r = core.rec(i);
      if (a[r + R_OWNER] !== this.#owner || a[r + R_OWNER_INCARNATION] === this.#incarnation) continue;
      const s = Atomics.load(a, r + R_STATE);
      // A freed record's state is S_FREE before it goes back to the slab, and a new user
      // writes its own owner before it publishes a state: a done state here is a leftover.
      if (s !== S_DONE_OK && s !== S_DONE_ERR && s !== S_CANCELLED) continue;
      core.discardPayload(r); // a result the previous incarnation never read
      core.freeRecord(i);
      n++;
    }
    return n;
  }

  #alloc(): number {
    const a = this.#a;
    const count = this.#ctl + W_RECORDS;
    if (Atomics.load(a, count) >= this.#quota) {
      this.#reclaimStale();
      if (Atomics.load(a, count) >= this.#quota) return EMPTY;
    }
    // Counted before the block is taken: the count never reads lower than what this slot
    // holds, which is what keeps a block free for every owner under its quota.
    Atomics.add(a, count, 1);
    const idx = this.#core.allocRecord();
    if (idx === EMPTY) {
      Atomics.sub(a, count, 1);
      return EMPTY;
    }
    const r = this.#core.rec(idx);
    Atomics.store(a, r + R_STATE, S_QUEUED);
    a[r + R_OWNER] = this.#owner;
    a[r + R_OWNER_INCARNATION] = this.#incarnation;
    a[r + R_RUNNER] = 0;
    a[r + R_ABORT] = 0;
    a[r + R_GEN] = (a[r + R_GEN]! + 1) | 0;
    return idx;
  }

  /** Frees one of this worker's records; a payload still in it (a join side run inline with its original arguments) goes too. */
  #release(idx: number): void {
    this.#core.discardPayload(this.#core.rec(idx));
    this.#core.freeRecord(idx);
  }

  /** Fills record `idx` with a task call, copying the running task's trace context. */
  #fill(idx: number, ref: TaskRef, args: readonly unknown[], prepared: Prepared | undefined): void {
    const core = this.#core;
    const r = core.rec(idx);
    let flags = 0;
    const running = this.#current();
    const parent = running >= 0 ? core.rec(running) : -1;
    if (parent >= 0 && (this.#a[parent + R_FLAGS]! & F_TRACE) !== 0) {
      flags = F_TRACE;
      for (let k = R_TRACE_FLAGS; k < R_SPAN_ID + 2; k++) this.#a[r + k] = this.#a[parent + k]!;
      // A span open around the fork is the forked task's parent (same trace, traced records only).
      const own = forkTraceContext();
      if (own !== undefined) {
        this.#a[r + R_TRACE_FLAGS] = own.flags;
        core.u8.set(own.spanId.subarray(0, 8), (r + R_SPAN_ID) * 4);
      }
    }
    core.writeArgs(r, core.nameId(ref), args, prepared, flags);
  }

  #settle(idx: number): void {
    const entry = this.#nested.get(idx)!;
    this.#nested.delete(idx);
    const r = this.#core.rec(idx);
    const s = Atomics.load(this.#a, r + R_STATE);
    if (entry.onAbort !== undefined) entry.signal!.removeEventListener('abort', entry.onAbort);
    if (entry.abandoned) {
      this.#release(idx);
      return;
    }
    try {
      if (s === S_DONE_OK) entry.resolve(this.#core.readResult(r));
      else entry.reject(this.#core.readError(r));
    } catch (err) {
      entry.reject(err);
    }
    this.#release(idx);
  }

  #settleNested(): void {
    if (this.#nested.size === 0) return;
    for (const idx of [...this.#nested.keys()]) {
      const s = Atomics.load(this.#a, this.#core.rec(idx) + R_STATE);
      if (s === S_DONE_OK || s === S_DONE_ERR) this.#settle(idx);
    }
  }

  #checkAborts(): void {
    // Nested calls first (a child aborted here may have children here too), then signals.
    while (this.#nested.size > 0 && this.#abortNested()) {}
    for (const [idx, controller] of this.#controllers) {
      if (!controller.signal.aborted && Atomics.load(this.#a, this.#core.rec(idx) + R_ABORT) !== 0) {
        controller.abort(new TaskAbortedError('the caller aborted the task'));
      }
    }
  }

  /**
   * The nested `exec`s of an aborted task: each is aborted too (its record's abort flag
   * set, its runner woken; one not started yet never starts), and its caller's wait
   * rejects now with `TaskAbortedError`, so the task stops at that await. True when it
   * aborted one.
   */
  #abortNested(): boolean {
    let aborted = false;
    const a = this.#a;
    const core = this.#core;
    for (const [idx, entry] of this.#nested) {
      if (entry.abandoned || entry.parent < 0) continue;
      const parent = core.rec(entry.parent);
      if (a[parent + R_GEN] !== entry.parentGen || Atomics.load(a, parent + R_ABORT) === 0) continue;
      this.#abandon(idx, entry, new TaskAbortedError('the task that called exec was aborted'));
      aborted = true;
    }
    return aborted;
  }

  /**
   * Gives up nested call `idx` with `reason`: its record is flagged aborted (its runner
   * woken; not started, it never starts) and its caller's promise rejects now. The record
   * stays this worker's until it ends (`#settle` releases it).
   */
  #abandon(idx: number, entry: Nested, reason: unknown): void {
    if (entry.abandoned) return;
    entry.abandoned = true;
    if (entry.onAbort !== undefined) entry.signal!.removeEventListener('abort', entry.onAbort);
    entry.onAbort = undefined;
    const a = this.#a;
    const r = this.#core.rec(idx);
    Atomics.store(a, r + R_ABORT, 1);
    const runner = Atomics.load(a, r + R_RUNNER);
    if (runner > 0 && runner !== this.#owner) this.#core.wakeWorker(runner - 1);
    entry.reject(reason);
  }

  /**
   * The record whose task runs now on this thread: the innermost one running synchronously,
   * else the async task whose body this code is a continuation of; -1 when none (or that
   * task has ended).
   */
  #current(): number {
    const top = this.#stack[this.#stack.length - 1];
    if (top !== undefined) return top;
    const running = runningRecord.getStore();
    if (running === undefined || !this.#async.has(running.idx) || this.#a[this.#core.rec(running.idx) + R_GEN] !== running.gen) return -1;
    return running.idx;
  }

  // ── WorkerContext ──────────────────────────────────────────────────────────────

  inTask(): boolean {
    return this.#current() >= 0;
  }

  exec(ref: TaskRef, args: readonly unknown[], signal?: AbortSignal): Promise<unknown> {
    if (signal?.aborted === true) return Promise.reject(abortReason(signal));
    let prepared: Prepared | undefined;
    try {
      prepared = this.#core.prepareArgs(ref, args);
    } catch (err) {
      return Promise.reject(err);
    }
    const idx = this.#alloc();
    if (idx < 0) {
      // This worker holds its whole quota of records: run it here, still asynchronously.
      const here = Promise.resolve().then(() => (lookupTask(ref.module, ref.name) ?? loadTaskSync(ref))(...(args as never[])));
      return signal === undefined ? here : abortableWait(here, signal);
    }
    try {
      this.#fill(idx, ref, args, prepared);
    } catch (err) {
      this.#release(idx); // e.g. the payload arena is full
      return Promise.reject(err);
    }
    const core = this.#core;
    let queued = false;
    if (this.#strategy === 'global_first') queued = core.injector.push(idx);
    else if (this.#strategy === 'round_robin') {
      const target = this.#robin++ % core.layout.workers;
      queued = target !== this.index && core.inboxes[target]!.push(idx);
      if (queued) core.wakeWorker(target);
    }
    if (!queued) queued = core.deques[this.index]!.push(idx) || core.injector.push(idx);
    if (!queued) {
      Atomics.store(this.#a, core.rec(idx) + R_RUNNER, this.#owner); // held here: see `#run`
      this.#deferred.push(idx);
    }
    core.wakeOne();
    const parent = this.#current();
    const parentGen = parent >= 0 ? this.#a[core.rec(parent) + R_GEN]! : 0;
    return new Promise((resolve, reject) => {
      const entry: Nested = { resolve, reject, parent, parentGen, abandoned: false, signal, onAbort: undefined };
      this.#nested.set(idx, entry);
      if (signal !== undefined) {
        entry.onAbort = () => this.#abandon(idx, entry, abortReason(signal));
        signal.addEventListener('abort', entry.onAbort, { once: true });
      }
    });
  }

  join(sa: readonly [TaskRef, ...unknown[]], sb: readonly [TaskRef, ...unknown[]]): [unknown, unknown] {
    const a = this.#a;
    const core = this.#core;
    Atomics.add(a, this.#ctl + W_JOINS, 1);
    const refA = sa[0];
    const refB = sb[0];
    const fnA = lookupTask(refA.module, refA.name) ?? loadTaskSync(refA);
    const fnB = lookupTask(refB.module, refB.name) ?? loadTaskSync(refB);
    const argsB = sb.slice(1);
    const prepared = core.prepareArgs(refB, argsB);
    const idx = this.#alloc();
    if (idx < 0) return runBoth(fnA, sa, fnB, sb);
    try {
      this.#fill(idx, refB, argsB, prepared);
    } catch {
      // The payload arena is full: no stealable side, both run here.
      this.#release(idx);
      return runBoth(fnA, sa, fnB, sb);
    }
    const deque = core.deques[this.index]!;
    if (!deque.push(idx)) {
      this.#release(idx);
      return runBoth(fnA, sa, fnB, sb);
    }
    if (this.#stealing) core.wakeOne();

    let ra: unknown;
    let errA: { e: unknown } | undefined;
    try {
      ra = callSync(fnA, sa, refA);
    } catch (e) {
      errA = { e };
    }

    let rb: unknown;
    let errB: { e: unknown } | undefined;
    const r = core.rec(idx);
    for (;;) {
      const x = deque.pop();
      if (x === idx) {
        // Nobody stole it: run it here with the original arguments, no decoding.
        Atomics.add(a, this.#ctl + W_INLINE_POPS, 1);
        try {
          rb = callSync(fnB, sb, refB);
        } catch (e) {
          errB = { e };
        }
        this.#release(idx);
        break;
      }
      if (x >= 0) {
        // Work pushed after our side (an `exec` inside side a): run it, then look again.
        this.#run(x, true);
        continue;
      }
      Atomics.add(a, this.#ctl + W_STOLEN_SIDES, 1);
      this.#help(r);
      if (Atomics.load(a, r + R_STATE) === S_DONE_OK) rb = core.readResult(r);
      else errB = { e: core.readError(r) };
      this.#release(idx);
      break;
    }
    if (errA !== undefined) throw errA.e;
    if (errB !== undefined) throw errB.e;
    return [ra, rb];
  }

  /** Runs other work until record `r` (stolen) is done, parking when there is none. */
  #help(r: number): void {
    const a = this.#a;
    const done = (): boolean => {
      const s = Atomics.load(a, r + R_STATE);
      return s === S_DONE_OK || s === S_DONE_ERR;
    };
    while (!done()) {
      // Bounded nesting: each help level runs a whole stolen subtree on this stack.
      const x = this.#helpDepth < MAX_HELP_DEPTH ? this.#find() : EMPTY;
      if (x >= 0) {
        Atomics.add(a, this.#ctl + W_HELP_ITERATIONS, 1);
        this.#helpDepth++;
        try {
          this.#run(x, true);
        } finally {
          this.#helpDepth--;
        }
        continue;
      }
      if (this.#helpDepth >= MAX_HELP_DEPTH) this.#parkUntil(done);
      else this.#park(done);
    }
  }

  /** Parks until `done()` only (not for new work): used when help may nest no deeper. */
  #parkUntil(done: () => boolean): void {
    const a = this.#a;
    const c = this.#ctl;
    const seq = Atomics.load(a, c + W_WAKE);
    Atomics.store(a, c + W_PARKED, 1);
    if (!done() && !this.#core.shuttingDown) Atomics.wait(a, c + W_WAKE, seq);
    Atomics.store(a, c + W_PARKED, 0);
  }

  signal(): AbortSignal | undefined {
    const idx = this.#current();
    if (idx < 0) return undefined;
    let controller = this.#controllers.get(idx);
    if (controller === undefined) {
      const c = new AbortController();
      controller = c;
      this.#controllers.set(idx, c);
      const flag = this.#core.rec(idx) + R_ABORT;
      const a = this.#a;
      const proto = AbortSignal.prototype;
      const abortedGetter = Object.getOwnPropertyDescriptor(proto, 'aborted')!.get!;
      const poll = (): void => {
        if (!(abortedGetter.call(c.signal) as boolean) && Atomics.load(a, flag) !== 0) c.abort(new TaskAbortedError('the caller aborted the task'));
      };
      Object.defineProperty(c.signal, 'aborted', {
        get(this: AbortSignal): boolean {
          poll();
          return abortedGetter.call(this) as boolean;
        },
      });
      Object.defineProperty(c.signal, 'throwIfAborted', {
        value(this: AbortSignal): void {
          poll();
          proto.throwIfAborted.call(this);
        },
      });
      poll();
    }
    return controller.signal;
  }

  traceContext(): TaskTraceContext | undefined {
    const idx = this.#current();
    if (idx < 0) return undefined;
    const r = this.#core.rec(idx);
    if ((this.#a[r + R_FLAGS]! & F_TRACE) === 0) return undefined;
    const bytes = this.#core.u8;
    return {
      traceId: bytes.slice((r + R_TRACE_ID) * 4, (r + R_TRACE_ID) * 4 + 16),
      spanId: bytes.slice((r + R_SPAN_ID) * 4, (r + R_SPAN_ID) * 4 + 8),
      flags: this.#a[r + R_TRACE_FLAGS]!,
    };
  }
}

function loadTaskSync(ref: TaskRef): never {
  throw new TaskNotFoundError(`task '${ref.name}' of module ${ref.module} is not loaded on this worker; join and exec need the module to be imported by the running task's module`);
}

function callSync(fn: TaskFunction, side: readonly [TaskRef, ...unknown[]], ref: TaskRef): unknown {
  let out: unknown;
  // Arguments start at index 1 of the side tuple; spread only for the rare long lists.
  switch (side.length) {
    case 1:
      out = (fn as () => unknown)();
      break;
    case 2:
      out = (fn as (a: unknown) => unknown)(side[1]);
      break;
    case 3:
      out = (fn as (a: unknown, b: unknown) => unknown)(side[1], side[2]);
      break;
    default:
      out = (fn as (...a: unknown[]) => unknown)(...side.slice(1));
  }
  if (isThenable(out)) throw new TypeError(`join: task '${ref.name}' returned a promise; both sides of a join must be synchronous`);
  return out;
}

function runBoth(fnA: TaskFunction, sa: readonly [TaskRef, ...unknown[]], fnB: TaskFunction, sb: readonly [TaskRef, ...unknown[]]): [unknown, unknown] {
  let ra: unknown;
  let rb: unknown;
  let errA: { e: unknown } | undefined;
  let errB: { e: unknown } | undefined;
  try {
    ra = callSync(fnA, sa, sa[0]);
  } catch (e) {
    errA = { e };
  }
  try {
    rb = callSync(fnB, sb, sb[0]);
  } catch (e) {
    errB = { e };
  }
  if (errA !== undefined) throw errA.e;
  if (errB !== undefined) throw errB.e;
  return [ra, rb];
}

/** Runs `fn` over a `map` chunk; a promise when any call returned one. */
function mapChunk(fn: TaskFunction, inputs: ArrayLike<unknown>): unknown {
  const f = fn as (x: unknown) => unknown;
  const n = inputs.length;
  const out = new Array<unknown>(n);
  let anyAsync = false;
  // Plain indexed loop: the chunk is the hot path of `map`.
  for (let i = 0; i < n; i++) {
    const v = f(reviveShared(inputs[i]));
    if (!anyAsync && isThenable(v)) anyAsync = true;
    out[i] = v;
  }
  return anyAsync ? Promise.all(out) : out;
}
