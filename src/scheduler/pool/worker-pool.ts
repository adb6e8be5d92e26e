/**
 * The main-thread half of the work-stealing pool: the `ParallelEngine` behind `rt.exec`
 * and `rt.map`.
 *
 * Implementation note. Nothing starts until the first `exec`: then one
 * `SharedArrayBuffer` is laid out (see `layout.ts`) and the workers boot. A submission
 * takes a record, a block of the records `SharedSlab`, within the main thread's quota
 * (only this thread frees main records, so it counts them itself), writes the call into
 * it, pushes the record index to the injector (or a worker's inbox for `round_robin`)
 * and, once per microtask turn, wakes as many parked workers as records were queued,
 * only if any is parked. When the main thread's whole quota is in flight, further
 * submissions wait in an overflow list that completions refill from. Workers publish
 * finished main records on the completion ring; one `Atomics.waitAsync` loop here drains
 * the ring and settles promises in batches. The loop exists only while promises are
 * pending, and the workers are `ref`'d only then, so a script whose work is done exits by
 * itself.
 *
 * @module
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { SharedSlab, type SharedSlabOptions } from '../../memory/shared-slab.js';
// Type only: `runtime.ts` imports this module, and `runtime-part.ts` imports `runtime.ts`
// and registers itself at load; a value import here would close that cycle.
import type { MemoryPart } from '../../memory/runtime-part.js';
import { SharedBufferTable } from './shared-buffers.js';
import { RuntimeClosedError, WorkerCrashedError } from '../../errors.js';
import { contextStorage } from '../../runtime/context.js';
import type { MapOptions, ParallelEngine, ZokioRuntime, BlockOnOptions } from '../../runtime/runtime.js';
import type { ResolvedConfig } from '../../runtime/config.js';
import type { TaskRef } from '../task-ref.js';
import { workerExecArgv } from '../task-registry.js';
import { currentTask } from '../task.js';
import { EMPTY } from './deque.js';
import {
  H_MAGIC,
  H_MAIN_WAITING,
  H_MAIN_WAKE,
  H_SHUTDOWN,
  H_WORKERS,
  MAGIC,
  MAIN_OWNER,
  R_ABORT,
  R_GEN,
  R_NAME_ID,
  R_OWNER,
  R_RUNNER,
  R_SPAN_ID,
  R_STATE,
  INLINE_BYTES,
  RECORD_WORDS,
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
  W_PARKS,
  W_PAYLOAD_BUFFERS,
  W_READY,
  W_RECORDS,
  W_STOLEN,
  W_STOLEN_SIDES,
  computeLayout,
  recordSlabOptions,
} from './layout.js';
import { waitAsync } from '../wait-async.js';
import { F_MAP, F_TRACE, PoolCore, type Prepared } from './pool-core.js';
import type { PoolWorkerData } from './pool-worker.js';
import type { TaskTraceContext } from './worker-context.js';

/** Counters of one stealing worker. */
export interface PoolWorkerMetrics {
  /** Records this worker ran (tasks and map chunks). */
  readonly executed: number;
  /** Records it took from another worker's deque or inbox. */
  readonly stolen: number;
  /** Times it parked for lack of work. */
  readonly parked: number;
  /** Items in its deque now. */
  readonly dequeDepth: number;
  /** Items in its inbox now. */
  readonly inboxDepth: number;
  /** `join` calls it made. */
  readonly joins: number;
  /** Join sides it popped back and ran itself. */
  readonly inlinePops: number;
  /** Join sides a thief took. */
  readonly stolenSides: number;
  /** Records it ran while waiting for a stolen side. */
  readonly helpIterations: number;
  /** Whether the thread is alive. */
  readonly alive: boolean;
}

/** `rt.metrics().pool`. */
export interface PoolMetrics {
  /** Counters of each stealing worker, by worker index. */
  readonly workers: readonly PoolWorkerMetrics[];
  /** Records in the global injector now. */
  readonly injectorDepth: number;
  /** Promises from `exec`/`map` not settled yet. */
  readonly pending: number;
  /** Submissions waiting for a free record. */
  readonly overflow: number;
  /** Workers replaced after a crash. */
  readonly restarts: number;
  /** Whether the workers were started. */
  readonly started: boolean;
}

let taskContextProvider: (() => TaskTraceContext | undefined) | undefined;

/**
 * @internal Lets the tracing part attach the caller's trace context to every task record
 * submitted from this thread; `currentWorkerTaskContext()` reads it back in the worker.
 */
export function setTaskContextProvider(provider: (() => TaskTraceContext | undefined) | undefined): void {
  taskContextProvider = provider;
}

/** @internal The trace context a task submitted now from this thread carries (pool records, blocking jobs). */
export function submitTraceContext(): TaskTraceContext | undefined {
  return taskContextProvider?.();
}

/**
 * The worker entry: `worker-entry.js` beside the bundled library in `dist/`; from source,
 * the shared `../ts-worker-boot.mjs`, which imports
 * `worker-entry.ts` and reports a failure to load it.
 */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const ENTRY_URL = new URL(FROM_SOURCE ? './worker-entry.ts' : './worker-entry.js', import.meta.url);
const BOOT_URL = FROM_SOURCE ? new URL('../ts-worker-boot.mjs', import.meta.url) : ENTRY_URL;

interface Overflowed {
  readonly nameId: number;
  readonly args: readonly unknown[];
  readonly prepared: Prepared | undefined;
  readonly flags: number;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly target: number;
  cancelled: boolean;
}

interface AbortHook {
  readonly signal: AbortSignal;
  readonly listener: () => void;
}

const pools = new WeakMap<object, WorkerPool>();

/**
 * Payload arena geometry. Memory strategy `pooled`: 4096 blocks of 8 KiB (32 MiB of
 * address space, touched lazily) for every payload longer than a record's inline bytes.
 * No thread cache: payload blocks are allocated on one thread and freed on another, and a
 * crashed worker's cached blocks would be lost to the arena for good.
 */
const ARENA: SharedSlabOptions = { blockSize: 8192, blockCount: 4096, threadCache: 0 };
/**
 * Strategy `heap`: main-thread records carry long payloads in buffers of their own; the
 * arena serves only the records workers create (join sides, `exec` inside a task), which
 * another worker may run: 512 blocks of 8 KiB (4 MiB, touched lazily).
 */
const WORKER_ARENA: SharedSlabOptions = { blockSize: 8192, blockCount: 512, threadCache: 0 };

/** Records of one owner (the main thread or one worker), in `rt.metrics().memory.pools['pool.records']`. */
export interface PoolRecordOwnerStats {
  /** `'main'` or `'worker N'`. */
  readonly owner: string;
  /** Records it may hold at once (its quota of the records slab). */
  readonly capacity: number;
  /** Records it holds now (queued, running, or done and not yet read back or freed). */
  readonly inUse: number;
}

/**
 * `rt.metrics().memory.pools['pool.records']`: the pool's task records (blocks of one
 * SharedSlab inside the pool's shared memory, each owner with a quota) and where long
 * payloads go. A snapshot.
 */
export interface PoolRecordStats {
  /** Bytes of one record (its inline payload area is {@link PoolRecordStats.inlineBytes}). */
  readonly recordBytes: number;
  /** Payload bytes a record holds inline; longer payloads go out of the record. */
  readonly inlineBytes: number;
  /** Blocks of the records slab: the owners' quotas added up. */
  readonly capacity: number;
  /** Blocks of the records slab allocated now (counted from its control words). */
  readonly inUse: number;
  /** By owner: the main thread first, then worker 0, 1, ... */
  readonly owners: readonly PoolRecordOwnerStats[];
  /**
   * Where longer payloads go: `'arena'` (strategy `pooled`: blocks of `pool.payloads`) or
   * `'heap'` (a buffer of its own per payload of a main-thread record; worker-created
   * records still use the `pool.payloads` arena).
   */
  readonly payloads: 'arena' | 'heap';
  /** Payload buffers (`heap`) the pool's buffer tables hold now, on every thread. */
  readonly payloadBuffers: number;
}

/** @internal The pool behind a runtime (tests and benches use it for placement and metrics). */
export function poolOf(runtime: object): WorkerPool | undefined {
  return pools.get(runtime);
}

/** @internal The work-stealing pool engine of one runtime. */
export class WorkerPool implements ParallelEngine {
  readonly #config: ResolvedConfig;
  readonly #runtime: ZokioRuntime;
  #core: PoolCore | undefined;
  #workers: Array<Worker | undefined> = [];
  readonly #lastError: unknown[] = [];
  /** Main-thread records held now (at most `layout.mainRecords`; see `layout.ts`). */
  #inUse = 0;
  #resolve: Array<((v: unknown) => void) | undefined> = [];
  #reject: Array<((e: unknown) => void) | undefined> = [];
  #hooks: Array<AbortHook | undefined> = [];
  #overflow: Overflowed[] = [];
  #overflowHead = 0;
  #spill: number[] = [];
  #pending = 0;
  /**
   * Main records cancelled while queued: their promise has settled, and a worker hands the
   * record back when it meets it. The completion loop keeps draining until they are back,
   * or they would stay in use until the next task woke the loop.
   */
  #cancelledOut = 0;
  /** 1 for a record counted in `#cancelledOut`. */
  #cancelledAt: Uint8Array = new Uint8Array(0);
  #looping = false;
  #reffed = true;
  #wakeScheduled = false;
  #queued = 0;
  #robin = 0;
  #closed = false;
  #terminating = false;
  #restarts = 0;
  #bootFailures = 0;
  #broken: Error | undefined;
  #idleWaiters: Array<() => void> = [];
  readonly #flush = (): void => {
    this.#wakeScheduled = false;
    const n = this.#queued;
    this.#queued = 0;
    this.#core?.wake(Math.min(n, this.#config.workers));
  };

  constructor(config: ResolvedConfig, runtime: ZokioRuntime) {
    this.#config = config;
    this.#runtime = runtime;
    pools.set(runtime, this);
  }

  // ── start-up ───────────────────────────────────────────────────────────────────

  #start(): PoolCore {
    if (this.#core !== undefined) return this.#core;
    const workers = this.#config.workers;
    const layout = computeLayout(workers, this.#config.queueCapacity);
    const sab = new SharedArrayBuffer(layout.byteLength);
    const heap = this.#config.memory.strategy === 'heap';
    // The runtime's memory part creates (strategy `pooled`) and reports the arena; without
    // the part (a runtime built before it was loaded) the pool makes its own.
    const memory = this.#runtime.part<MemoryPart>('memory');
    let arena = heap ? undefined : memory?.createSlab('pool.payloads', ARENA);
    if (arena === undefined) {
      arena = new SharedSlab(heap ? WORKER_ARENA : ARENA);
      memory?.register('pool.payloads', arena);
    }
    memory?.register('pool.records', { stats: () => this.recordStats() });
    SharedSlab.inside(sab, layout.recordSlabByte, recordSlabOptions(layout)); // the task records (layout.ts)
    const buffers = new SharedBufferTable(new Int32Array(sab), new Array(workers).fill(undefined), { main: true });
    const core = new PoolCore(sab, layout, arena.buffer, buffers, heap);
    core.injector.init();
    core.completions.init();
    for (const inbox of core.inboxes) inbox.init();
    Atomics.store(core.i32, H_WORKERS, workers);
    Atomics.store(core.i32, H_MAGIC, MAGIC);
    this.#core = core;
    // Indexed by record: a main-thread record may be any block of the records slab.
    const n = layout.totalRecords;
    this.#resolve = new Array(n).fill(undefined);
    this.#reject = new Array(n).fill(undefined);
    this.#hooks = new Array(n).fill(undefined);
    this.#cancelledAt = new Uint8Array(n);
    for (let w = 0; w < workers; w++) this.#spawn(w);
    return core;
  }

  #spawn(w: number): void {
    const core = this.#core!;
    const { port1, port2 } = new MessageChannel();
    const known = core.buffers.entries();
    const payloads = core.buffers.sentPayloads();
    core.buffers.setPort(w, port1);
    const data: PoolWorkerData = {
      sab: core.sab,
      layout: core.layout,
      arena: core.arena.buffer,
      port: port2,
      known,
      payloads,
      heapPayloads: core.heapPayloads,
      index: w,
      strategy: this.#config.strategy,
      workStealing: this.#config.workStealing,
      entry: ENTRY_URL.href,
    };
    Atomics.store(core.i32, core.ctl(w) + W_READY, 0);
    const worker = new Worker(BOOT_URL, { workerData: data, transferList: [port2], execArgv: workerExecArgv(), name: `zokio-worker-${w}`, resourceLimits: this.#config.resourceLimits });
    this.#workers[w] = worker;
    worker.on('error', (err) => {
      this.#lastError[w] = err;
    });
    worker.on('exit', (code) => this.#onExit(w, worker, code));
    if (!this.#reffed) worker.unref();
  }

  // ── submission ────────────────────────────────────────────────────────────────

  exec(ref: TaskRef, args: readonly unknown[]): Promise<unknown> {
    return this.#submit(ref, args, 0, this.#contextSignal(), -1);
  }

  /**
   * The signal of the task or scope that calls `exec`/`map` (so aborting it aborts the
   * worker task); not the runtime's own signal, which shutdown handles as a whole.
   */
  #contextSignal(): AbortSignal | undefined {
    const task = currentTask();
    if (task !== undefined) return task.signal; // a local task's own signal (its scope's abort reaches it)
    const signal = (contextStorage.getStore() as { signal?: AbortSignal } | undefined)?.signal;
    return signal === undefined || signal === this.#runtime.signal ? undefined : signal;
  }

  /** @internal `exec` that places the record in worker `w`'s inbox (tests: random placement). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  execOn(w: number, ref: TaskRef<any, unknown>, args: readonly unknown[]): Promise<unknown> {
    return this.#submit(ref, args, 0, undefined, w % this.#config.workers);
  }

  /** @internal `exec` with an explicit abort signal. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  execWithSignal(ref: TaskRef<any, unknown>, args: readonly unknown[], signal: AbortSignal | undefined): Promise<unknown> {
    const task = currentTask();
    // Inside a local task the task's abort stops the call too (combined with the caller's signal).
    if (task !== undefined) signal = signal === undefined ? task.signal : AbortSignal.any([signal, task.signal]);
    return this.#submit(ref, args, 0, signal, -1);
  }

  #submit(ref: TaskRef, args: readonly unknown[], flags: number, signal: AbortSignal | undefined, target: number): Promise<unknown> {
    if (this.#closed) return Promise.reject(new RuntimeClosedError('runtime is shut down: cannot run worker tasks'));
    if (this.#broken !== undefined) return Promise.reject(this.#broken);
    let core: PoolCore;
    let prepared: Prepared | undefined;
    let nameId: number;
    try {
      core = this.#start();
      prepared = core.prepareArgs(ref, args);
      nameId = core.nameId(ref);
    } catch (err) {
      return Promise.reject(err);
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      if (this.#pending++ === 0) this.#onBusy();
      const idx = this.#takeMainRecord(core);
      if (idx === EMPTY) {
        const entry: Overflowed = { nameId, args, prepared, flags, resolve, reject, signal, target, cancelled: false };
        this.#overflow.push(entry);
        if (signal !== undefined) {
          signal.addEventListener(
            'abort',
            () => {
              if (entry.cancelled) return;
              entry.cancelled = true;
              this.#settled();
              reject(signal.reason);
            },
            { once: true },
          );
        }
        return;
      }
      this.#place(core, idx, nameId, args, prepared, flags, resolve, reject, signal, target);
    });
  }

  #place(
    core: PoolCore,
    idx: number,
    nameId: number,
    args: readonly unknown[],
    prepared: Prepared | undefined,
    flags: number,
    resolve: (v: unknown) => void,
    reject: (e: unknown) => void,
    signal: AbortSignal | undefined,
    target: number,
  ): void {
    const a = core.i32;
    const r = core.rec(idx);
    a[r + R_OWNER] = MAIN_OWNER;
    a[r + R_RUNNER] = 0;
    a[r + R_ABORT] = 0;
    const gen = (a[r + R_GEN] = (a[r + R_GEN]! + 1) | 0);
    {
      const ctx = submitTraceContext();
      if (ctx !== undefined) {
        flags |= F_TRACE;
        a[r + R_TRACE_FLAGS] = ctx.flags;
        core.u8.set(ctx.traceId.subarray(0, 16), (r + R_TRACE_ID) * 4);
        core.u8.set(ctx.spanId.subarray(0, 8), (r + R_SPAN_ID) * 4);
      }
    }
    try {
      core.writeArgs(r, nameId, args, prepared, flags);
    } catch (err) {
      // No room for the payload (the arena is full, or no memory for a buffer of its own).
      core.freeRecord(idx);
      this.#inUse--;
      this.#settled();
      reject(err);
      return;
    }
    Atomics.store(a, r + R_STATE, S_QUEUED); // publishes everything written above
    this.#resolve[idx] = resolve;
    this.#reject[idx] = reject;
    if (signal !== undefined) {
      const listener = (): void => this.#abort(idx, gen, signal.reason);
      signal.addEventListener('abort', listener, { once: true });
      this.#hooks[idx] = { signal, listener };
    }
    this.#enqueue(core, idx, target);
    if (!this.#looping) void this.#loop();
  }

  #enqueue(core: PoolCore, idx: number, target: number): void {
    const workers = this.#config.workers;
    if (target < 0 && this.#config.strategy === 'round_robin') target = this.#robin++ % workers;
    if (target >= 0) {
      if (core.inboxes[target]!.push(idx)) {
        core.wakeWorker(target);
        if (this.#config.workStealing) this.#scheduleWake();
        return;
      }
    }
    if (core.injector.push(idx)) {
      this.#scheduleWake();
      return;
    }
    this.#spill.push(idx); // the injector is shared with workers' global_first submissions
  }

  #scheduleWake(): void {
    // Wake once per microtask turn for everything queued in it; a long synchronous
    // submission loop also wakes a worker every 256 records so that work starts early.
    if (++this.#queued >= 256) this.#flush();
    else if (!this.#wakeScheduled) {
      this.#wakeScheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  map(ref: TaskRef, inputs: Iterable<unknown>, options: MapOptions<unknown> | undefined): Promise<unknown[]> {
    const items = Array.isArray(inputs) ? (inputs as unknown[]) : Array.from(inputs);
    const n = items.length;
    if (n === 0) return Promise.resolve([]);
    const workers = this.#config.workers;
    const chunk = Math.max(1, Math.floor(options?.chunkSize ?? Math.min(8192, Math.ceil(n / (workers * 8)))));
    const signal = options?.signal ?? this.#contextSignal();
    const out = new Array<unknown>(n);
    let done = 0;
    const parts: Promise<void>[] = [];
    for (let start = 0; start < n; start += chunk) {
      const slice = items.slice(start, start + chunk);
      const at = start;
      parts.push(
        this.#submit(ref, [slice], F_MAP, signal, -1).then((results) => {
          const rs = results as unknown[];
          for (let i = 0; i < rs.length; i++) out[at + i] = rs[i];
          done += rs.length;
          options?.onProgress?.(done, n);
        }),
      );
    }
    return Promise.all(parts).then(() => out);
  }

  // ── completion ─────────────────────────────────────────────────────────────────

  async #loop(): Promise<void> {
    const core = this.#core!;
    const a = core.i32;
    this.#looping = true;
    try {
      for (;;) {
        this.#drain(core);
        if (this.#pending === 0 && this.#cancelledOut === 0) break;
        const seq = Atomics.load(a, H_MAIN_WAKE);
        Atomics.store(a, H_MAIN_WAITING, 1);
        if (core.completions.size() > 0) {
          Atomics.store(a, H_MAIN_WAITING, 0);
          continue;
        }
        const r = waitAsync(a, H_MAIN_WAKE, seq);
        if (r.async) await r.value;
        Atomics.store(a, H_MAIN_WAITING, 0);
        if (this.#terminating) break;
      }
    } finally {
      this.#looping = false;
    }
  }

  #drain(core: PoolCore): void {
    const a = core.i32;
    let n = 0;
    // Plain loop over the ring: one pass settles every completion that arrived.
    for (;;) {
      const idx = core.completions.pop();
      if (idx === EMPTY) break;
      n++;
      const r = core.rec(idx);
      const state = Atomics.load(a, r + R_STATE);
      if (this.#cancelledAt[idx] === 1) this.#cancelledBack(idx);
      const resolve = this.#resolve[idx];
      const reject = this.#reject[idx];
      if (resolve !== undefined && reject !== undefined) {
        this.#resolve[idx] = undefined;
        this.#reject[idx] = undefined;
        this.#unhook(idx);
        this.#pending--;
        if (state === S_DONE_OK) {
          let value: unknown;
          let failed = false;
          try {
            value = core.readResult(r);
          } catch (err) {
            failed = true;
            value = err;
          }
          if (failed) reject(value);
          else resolve(value);
        } else if (state === S_DONE_ERR) {
          reject(core.readError(r));
        } else {
          reject(new RuntimeClosedError('the task was dropped'));
        }
      }
      this.#freeMainRecord(core, idx);
    }
    if (n > 0) {
      this.#refill(core);
      if (this.#pending === 0) this.#onIdle();
    }
  }

  /**
   * Puts main record `idx` back on the free list. A payload nobody read (cancelled, failed,
   * or a result nobody waits for any more) goes now; after a read this is one plain load.
   */
  #freeMainRecord(core: PoolCore, idx: number): void {
    const r = core.rec(idx);
    core.discardPayload(r);
    core.buffers.forgetSent(r);
    core.freeRecord(idx);
    this.#inUse--;
  }

  /** A record for a main-thread submission, or EMPTY when the main thread holds its quota. */
  #takeMainRecord(core: PoolCore): number {
    if (this.#inUse >= core.layout.mainRecords) return EMPTY;
    const idx = core.allocRecord(); // under the quota a block is always free (see layout.ts)
    if (idx !== EMPTY) this.#inUse++;
    return idx;
  }

  /** A record cancelled while queued is back from the workers (see `#cancelledOut`). */
  #cancelledBack(idx: number): void {
    this.#cancelledAt[idx] = 0;
    this.#cancelledOut--;
  }

  #refill(core: PoolCore): void {
    while (this.#spill.length > 0 && core.injector.push(this.#spill[0]!)) {
      this.#spill.shift();
      this.#scheduleWake();
    }
    while (this.#overflowHead < this.#overflow.length) {
      const e = this.#overflow[this.#overflowHead]!;
      if (e.cancelled) {
        this.#overflow[this.#overflowHead++] = undefined as never;
        continue;
      }
      const idx = this.#takeMainRecord(core);
      if (idx === EMPTY) break; // the main thread holds its whole quota
      this.#overflow[this.#overflowHead++] = undefined as never;
      e.cancelled = true; // its overflow abort listener must do nothing from now on
      this.#place(core, idx, e.nameId, e.args, e.prepared, e.flags, e.resolve, e.reject, e.signal, e.target);
    }
    if (this.#overflowHead === this.#overflow.length) {
      this.#overflow = [];
      this.#overflowHead = 0;
    }
  }

  #unhook(idx: number): void {
    const hook = this.#hooks[idx];
    if (hook !== undefined) {
      this.#hooks[idx] = undefined;
      hook.signal.removeEventListener('abort', hook.listener);
    }
  }

  #settled(): void {
    if (--this.#pending === 0) this.#onIdle();
  }

  #onBusy(): void {
    if (!this.#reffed) {
      this.#reffed = true;
      for (const w of this.#workers) w?.ref();
    }
  }

  #onIdle(): void {
    const core = this.#core;
    if (core?.heapPayloads === true) {
      // Strategy `heap`: receive what the workers posted and let go of the result buffers
      // discarded unread (a result nobody waits for, a crashed worker's) while their
      // messages were still in the ports; wake a parked worker whose table still holds
      // payload buffers, so that it drains again (it drains before it parks) and lets go
      // of the ones other workers read since.
      core.buffers.drain();
      for (let w = 0; w < this.#config.workers; w++) if (Atomics.load(core.i32, core.ctl(w) + W_PAYLOAD_BUFFERS) > 0) core.wakeWorker(w);
    }
    if (this.#reffed) {
      this.#reffed = false;
      for (const w of this.#workers) w?.unref();
    }
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #abort(idx: number, gen: number, reason: unknown): void {
    const core = this.#core!;
    const a = core.i32;
    const r = core.rec(idx);
    if (a[r + R_GEN] !== gen || this.#reject[idx] === undefined) return;
    if (Atomics.compareExchange(a, r + R_STATE, S_QUEUED, S_CANCELLED) === S_QUEUED) {
      // Removed from the queue: the record comes back on the completion ring when a
      // worker meets it, and is freed then.
      this.#cancelledAt[idx] = 1;
      this.#cancelledOut++;
      const reject = this.#reject[idx]!;
      this.#resolve[idx] = undefined;
      this.#reject[idx] = undefined;
      this.#hooks[idx] = undefined;
      this.#settled();
      reject(reason);
      return;
    }
    Atomics.store(a, r + R_ABORT, 1);
    const runner = Atomics.load(a, r + R_RUNNER);
    if (runner > 0) core.wakeWorker(runner - 1);
  }

  // ── failure ────────────────────────────────────────────────────────────────────

  #onExit(w: number, worker: Worker, code: number): void {
    if (this.#workers[w] !== worker || this.#terminating) return;
    const core = this.#core!;
    const a = core.i32;
    const ctl = core.ctl(w);
    const booted = Atomics.load(a, ctl + W_READY) === 1;
    Atomics.store(a, ctl + W_ALIVE, 0);
    const cause = this.#lastError[w];
    this.#lastError[w] = undefined;
    const why = cause instanceof Error ? `: ${cause.message}` : '';
    // 1. Everything it was running fails (and only that). RUNNER also names the worker
    //    that holds a record off every queue while its task module loads (still QUEUED,
    //    or CANCELLED meanwhile): those fail too, or, cancelled, are taken back here, as
    //    that worker will never hand them back.
    const total = core.layout.totalRecords;
    let freedMain = false;
    for (let idx = 0; idx < total; idx++) {
      const r = core.rec(idx);
      if (Atomics.load(a, r + R_RUNNER) !== w + 1) continue;
      const state = Atomics.load(a, r + R_STATE);
      const owner = a[r + R_OWNER]!;
      if (state === S_CANCELLED && owner === MAIN_OWNER && this.#cancelledAt[idx] === 1) {
        this.#cancelledBack(idx);
        this.#freeMainRecord(core, idx);
        freedMain = true;
        continue;
      }
      if (state !== S_RUNNING && state !== S_QUEUED) continue;
      const { name, module } = core.nameOf(a[r + R_NAME_ID]!);
      const doing = state === S_RUNNING ? 'running' : 'loading the module of';
      const err = new WorkerCrashedError(`worker ${w} died (exit code ${code}) while ${doing} task '${name}' (${module})${why}`, { cause });
      core.discardPayload(r); // a result it may have written before it died
      if (owner === MAIN_OWNER) {
        const reject = this.#reject[idx];
        this.#resolve[idx] = undefined;
        this.#reject[idx] = undefined;
        this.#unhook(idx);
        this.#freeMainRecord(core, idx);
        freedMain = true;
        if (reject !== undefined) {
          this.#settled();
          reject(err);
        }
      } else if (owner === w + 1) {
        core.freeRecord(idx);
      } else {
        core.writeError(r, err);
        core.complete(idx, S_DONE_ERR);
      }
    }
    if (freedMain) this.#refill(core); // submissions waiting for a free record
    // 2. Its own records (join sides, nested execs) are orphans from now on.
    Atomics.add(a, ctl + W_INCARNATION, 1);
    // 3. Its deque holds only its own records: drop them. Its inbox: re-queue, once.
    for (let x = core.deques[w]!.steal(); x !== EMPTY; x = core.deques[w]!.steal()) {
      if (x < 0) continue;
      core.discardPayload(core.rec(x));
      core.freeRecord(x);
    }
    for (let x = core.inboxes[w]!.pop(); x !== EMPTY; x = core.inboxes[w]!.pop()) {
      if (!core.injector.push(x)) this.#spill.push(x);
    }
    // 4. A replacement takes the slot (unless workers cannot even boot).
    this.#bootFailures = booted ? 0 : this.#bootFailures + 1;
    if (this.#bootFailures >= 3) {
      this.#broken = new WorkerCrashedError(`pool workers cannot start (exit code ${code})${why}`, { cause });
      this.#failAll(this.#broken);
      return;
    }
    this.#restarts++;
    if (!this.#closed) this.#spawn(w);
    core.wake(this.#config.workers);
    if (!this.#looping && this.#pending > 0) void this.#loop();
  }

  /** Rejects every pending submission with `err`. */
  #failAll(err: unknown): void {
    const core = this.#core;
    for (let idx = 0; idx < this.#reject.length; idx++) {
      const reject = this.#reject[idx];
      if (reject === undefined) continue;
      this.#resolve[idx] = undefined;
      this.#reject[idx] = undefined;
      this.#unhook(idx);
      if (core !== undefined) {
        const r = core.rec(idx);
        if (Atomics.compareExchange(core.i32, r + R_STATE, S_QUEUED, S_CANCELLED) !== S_QUEUED) Atomics.store(core.i32, r + R_ABORT, 1);
      }
      this.#settled();
      reject(err);
    }
    for (let i = this.#overflowHead; i < this.#overflow.length; i++) {
      const e = this.#overflow[i]!;
      if (e.cancelled) continue;
      e.cancelled = true;
      this.#settled();
      e.reject(err);
    }
    this.#overflow = [];
    this.#overflowHead = 0;
  }

  // ── the rest of ParallelEngine ───────────────────────────────────────────────────

  spawnBlocking(ref: TaskRef, args: readonly unknown[]): Promise<unknown> {
    return import('../blocking/index.js').then((m) => m.getBlockingPool(this.#runtime).spawnBlocking(ref, args));
  }

  blockOn(ref: TaskRef, args: readonly unknown[], options: BlockOnOptions | undefined): unknown {
    void ref;
    void args;
    void options;
    throw new RuntimeClosedError('blockOn goes through the runtime (rt.blockOn), not the stealing pool');
  }

  metrics(): { pool: PoolMetrics } {
    const core = this.#core;
    const workers: PoolWorkerMetrics[] = [];
    if (core !== undefined) {
      const a = core.i32;
      for (let w = 0; w < this.#config.workers; w++) {
        const c = core.ctl(w);
        workers.push({
          executed: Atomics.load(a, c + W_EXECUTED),
          stolen: Atomics.load(a, c + W_STOLEN),
          parked: Atomics.load(a, c + W_PARKS),
          dequeDepth: core.deques[w]!.size(),
          inboxDepth: core.inboxes[w]!.size(),
          joins: Atomics.load(a, c + W_JOINS),
          inlinePops: Atomics.load(a, c + W_INLINE_POPS),
          stolenSides: Atomics.load(a, c + W_STOLEN_SIDES),
          helpIterations: Atomics.load(a, c + W_HELP_ITERATIONS),
          alive: Atomics.load(a, c + W_ALIVE) === 1,
        });
      }
    }
    return {
      pool: {
        workers,
        injectorDepth: core?.injector.size() ?? 0,
        pending: this.#pending,
        overflow: this.#overflow.length - this.#overflowHead,
        restarts: this.#restarts,
        started: core !== undefined,
      },
    };
  }

  /**
   * `pool.records` in `rt.metrics().memory.pools`: a snapshot of record usage. Each
   * owner's count is its own (the main thread's field, a worker's `RECORDS` word); the
   * block counts come from the records slab.
   */
  recordStats(): PoolRecordStats {
    const core = this.#core;
    const layout = core?.layout ?? computeLayout(this.#config.workers, this.#config.queueCapacity);
    const owners: PoolRecordOwnerStats[] = [];
    owners.push({ owner: 'main', capacity: layout.mainRecords, inUse: this.#inUse });
    for (let w = 0; w < layout.workers; w++) {
      owners.push({ owner: `worker ${w}`, capacity: layout.workerRecords, inUse: core === undefined ? 0 : Atomics.load(core.i32, core.ctl(w) + W_RECORDS) });
    }
    const blocks = core?.records.stats();
    let payloadBuffers = 0;
    if (core !== undefined) {
      const counts = this.payloadBuffers();
      payloadBuffers = counts.main + counts.workers.reduce((sum, n) => sum + n, 0);
    }
    return {
      recordBytes: RECORD_WORDS * 4,
      inlineBytes: INLINE_BYTES,
      capacity: layout.totalRecords,
      inUse: blocks?.inUse ?? 0,
      owners,
      payloads: this.#config.memory.strategy === 'heap' ? 'heap' : 'arena',
      payloadBuffers,
    };
  }

  /**
   * @internal Payload buffers (strategy `heap`) held now by the main thread's table (received
   * results not read yet, argument buffers of records not completed yet) and by each
   * worker's table (as each worker last published it).
   */
  payloadBuffers(): { main: number; workers: number[] } {
    const core = this.#core;
    if (core === undefined) return { main: 0, workers: [] };
    const workers: number[] = [];
    for (let w = 0; w < this.#config.workers; w++) workers.push(Atomics.load(core.i32, core.ctl(w) + W_PAYLOAD_BUFFERS));
    return { main: core.buffers.payloadCount, workers };
  }

  async shutdown(timeoutMs: number): Promise<void> {
    this.#closed = true;
    const core = this.#core;
    if (core === undefined) return;
    if (this.#pending > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.#idleWaiters.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, timeoutMs)))),
      ]);
      clearTimeout(timer);
      if (this.#pending > 0) this.#failAll(new RuntimeClosedError(`runtime shut down before the worker task finished (waited ${timeoutMs} ms)`));
    }
    this.#terminating = true;
    Atomics.store(core.i32, H_SHUTDOWN, 1);
    core.wakeAll();
    Atomics.add(core.i32, H_MAIN_WAKE, 1);
    Atomics.notify(core.i32, H_MAIN_WAKE);
    await Promise.all(this.#workers.map((w) => w?.terminate()));
    this.#workers = [];
    core.buffers.close();
  }
}

/** @internal The factory `runtime.ts` registers. */
export function createWorkerPool(config: ResolvedConfig, runtime: ZokioRuntime): ParallelEngine {
  return new WorkerPool(config, runtime);
}
