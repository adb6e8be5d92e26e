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
 * Arguments that travel as a message (`{ transfer }`, or large binary arguments copied
 * once) pin their record to one worker, which alone receives them (`move.ts`). Past
 * `maxQueue` (tasks beyond one per worker), `exec` waits in a first-come list or rejects
 * with `QueueFullError`. A forced abort terminates the running task's worker; crash
 * recovery (`crash-recovery.ts`) then runs its other tasks again, once. The callers of
 * main records live in `main-records.ts`, the completion step in `completion.ts`, the
 * metrics read-out in `pool-metrics.ts`, worker output in `worker-stdio.ts`.
 *
 * @module
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { SharedSlab, type SharedSlabOptions } from '../../memory/shared-slab.js';
import type { MemoryPart } from '../../memory/runtime-part.js';
import { SharedBufferTable } from './shared-buffers.js';
import { QueueFullError, RuntimeClosedError, TaskAbortedError, WorkerCrashedError } from '../../errors.js';
import { bounded } from '../../runtime/bounded.js';
import { contextStorage } from '../../runtime/context.js';
import type { ExecOptions, MapOptions, ParallelEngine } from '../../runtime/parallel.js';
import type { PartHost } from '../../runtime/part.js';
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
  R_FLAGS,
  R_GEN,
  R_OWNER,
  R_RUNNER,
  R_SPAN_ID,
  R_STATE,
  R_SUBMIT_AT,
  R_TRACE_FLAGS,
  R_TRACE_ID,
  S_CANCELLED,
  S_QUEUED,
  W_ALIVE,
  W_PAYLOAD_BUFFERS,
  W_PINNED,
  W_READY,
  computeLayout,
  recordSlabOptions,
} from './layout.js';
import { waitAsync } from '../wait-async.js';
import { StdioRelay } from './worker-stdio.js';
import { epochMs } from './timing.js';
import { copyTransferPlan, type TransferPlan } from './move.js';
import { MainRecords } from './main-records.js';
import { drainCompletions } from './completion.js';
import { recoverRecords, type RecoveryHooks } from './crash-recovery.js';
import { payloadBufferCounts, readPoolMetrics, readRecordStats, type PoolMetrics, type PoolRecordStats } from './pool-metrics.js';

export type { PoolMetrics, PoolWorkerMetrics, PoolRecordOwnerStats, PoolRecordStats } from './pool-metrics.js';
import { F_FORCE, F_MAP, F_TRACE, PoolCore, type Prepared } from './pool-core.js';
import type { PoolWorkerData } from './pool-worker.js';
import type { TaskTraceContext } from './worker-context.js';

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
  readonly transfer: TransferPlan | undefined;
  cancelled: boolean;
}

/** An `exec` waiting for room in a full queue (`maxQueue`, `onFull: 'wait'`). */
interface RoomWaiter {
  readonly submit: () => void;
  readonly reject: (e: unknown) => void;
  cancelled: boolean;
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

/** @internal The pool behind a runtime (tests and benches use it for placement and metrics). */
export function poolOf(runtime: object): WorkerPool | undefined {
  return pools.get(runtime);
}

/** @internal The work-stealing pool engine of one runtime. */
export class WorkerPool implements ParallelEngine {
  readonly #config: ResolvedConfig;
  readonly #runtime: PartHost;
  #core: PoolCore | undefined;
  #workers: Array<Worker | undefined> = [];
  /** The main thread's in-flight records: callers, hooks, arguments (see `main-records.ts`). */
  readonly #recs = new MainRecords();
  /** What the workers print (see `worker-stdio.ts`), and each worker's stdio port. */
  #stdio: StdioRelay | undefined;
  #stdioPorts: Array<MessagePort | undefined> = [];
  readonly #lastError: unknown[] = [];
  #overflow: Overflowed[] = [];
  #overflowHead = 0;
  #spill: number[] = [];
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
  /** Workers being terminated by a forced abort: their record runs again elsewhere. */
  readonly #forced = new Set<number>();
  /** `exec` calls waiting for room (`maxQueue`), first come first served. */
  #roomWaiters: RoomWaiter[] = [];
  /** What crash recovery (`crash-recovery.ts`) calls back. */
  readonly #recovery: RecoveryHooks = {
    requeue: (idx) => {
      if (!this.#core!.injector.push(idx)) this.#spill.push(idx);
    },
    settled: () => this.#settled(),
  };
  #stamp = -1;
  #stampUses = 0;
  readonly #resetStamp = (): void => {
    this.#stamp = -1;
  };
  readonly #flush = (): void => {
    this.#wakeScheduled = false;
    const n = this.#queued;
    this.#queued = 0;
    this.#core?.wake(Math.min(n, this.#config.workers));
  };

  constructor(config: ResolvedConfig, runtime: PartHost) {
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
    this.#stdio = new StdioRelay(core.i32);
    this.#recs.attach(core);
    for (let w = 0; w < workers; w++) this.#spawn(w);
    return core;
  }

  #spawn(w: number): void {
    const core = this.#core!;
    const { port1, port2 } = new MessageChannel();
    const known = core.buffers.entries();
    const payloads = core.buffers.sentPayloads();
    core.buffers.setPort(w, port1);
    const stdio = new MessageChannel();
    this.#stdio!.add(stdio.port1);
    this.#stdioPorts[w] = stdio.port1;
    const data: PoolWorkerData = {
      stdio: stdio.port2,
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
    Atomics.store(core.i32, core.ctl(w) + W_PINNED, 0); // pinned to the previous incarnation: failed in #onExit
    const worker = new Worker(BOOT_URL, { workerData: data, transferList: [port2, stdio.port2], execArgv: workerExecArgv(), name: `zokio-worker-${w}`, resourceLimits: this.#config.resourceLimits });
    this.#workers[w] = worker;
    worker.on('error', (err) => {
      this.#lastError[w] = err;
    });
    worker.on('exit', (code) => this.#onExit(w, worker, code));
    if (!this.#reffed) worker.unref();
  }

  // ── submission ────────────────────────────────────────────────────────────────

  exec(ref: TaskRef, args: readonly unknown[]): Promise<unknown> {
    return this.#execCall(ref, args, this.#contextSignal(), undefined);
  }

  /**
   * `exec` with its options: the queue limit (`maxQueue`: wait for room or reject),
   * transfers, forced abort.
   */
  #execCall(ref: TaskRef, args: readonly unknown[], signal: AbortSignal | undefined, options: ExecOptions | undefined): Promise<unknown> {
    if (this.#recs.pending - this.#config.workers >= this.#config.maxQueue && !this.#closed) {
      if ((options?.onFull ?? this.#config.queueFull) === 'reject') {
        return Promise.reject(new QueueFullError(`the worker pool queue is full (maxQueue ${this.#config.maxQueue}): task '${ref.name}' was not queued`));
      }
      if (signal?.aborted) return Promise.reject(signal.reason);
      return new Promise((resolve, reject) => {
        const waiter: RoomWaiter = {
          submit: () => resolve(this.#execCall(ref, args, signal, options)),
          reject,
          cancelled: false,
        };
        this.#roomWaiters.push(waiter);
        signal?.addEventListener(
          'abort',
          () => {
            if (waiter.cancelled) return;
            waiter.cancelled = true;
            reject(signal.reason);
          },
          { once: true },
        );
      });
    }
    const force = options?.force ?? this.#config.forceAbort;
    // Moved buffers (`transfer`), or large binary arguments copied once and moved.
    const plan = options?.transfer !== undefined && options.transfer.length > 0 ? { args, list: options.transfer, rerunArgs: undefined } : copyTransferPlan(args);
    return this.#submit(ref, plan?.args ?? args, force ? F_FORCE : 0, signal, -1, plan);
  }

  /** Lets waiting `exec` calls in while the queue has room (called when tasks settle). */
  #admit(): void {
    while (this.#roomWaiters.length > 0 && (this.#recs.pending - this.#config.workers < this.#config.maxQueue || this.#closed)) {
      const waiter = this.#roomWaiters.shift()!;
      if (waiter.cancelled) continue;
      waiter.cancelled = true;
      waiter.submit();
    }
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
  execWithSignal(ref: TaskRef<any, unknown>, args: readonly unknown[], signal: AbortSignal | undefined, options?: ExecOptions): Promise<unknown> {
    const task = currentTask();
    // Inside a local task the task's abort stops the call too (combined with the caller's signal).
    if (task !== undefined) signal = signal === undefined ? task.signal : AbortSignal.any([signal, task.signal]);
    return this.#execCall(ref, args, signal, options);
  }

  #submit(ref: TaskRef, args: readonly unknown[], flags: number, signal: AbortSignal | undefined, target: number, transfer?: TransferPlan): Promise<unknown> {
    if (this.#closed) return Promise.reject(new RuntimeClosedError('runtime is shut down: cannot run worker tasks'));
    if (this.#broken !== undefined) return Promise.reject(this.#broken);
    let core: PoolCore;
    let prepared: Prepared | undefined;
    let nameId: number;
    try {
      core = this.#start();
      if (transfer === undefined) prepared = core.prepareArgs(ref, args);
      else core.checkArgs(ref, args);
      nameId = core.nameId(ref);
    } catch (err) {
      return Promise.reject(err);
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      if (this.#recs.pending++ === 0) this.#onBusy();
      const idx = this.#recs.take();
      if (idx === EMPTY) {
        const entry: Overflowed = { nameId, args, prepared, flags, resolve, reject, signal, target, transfer, cancelled: false };
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
      this.#place(core, idx, nameId, args, prepared, flags, resolve, reject, signal, target, transfer, ref);
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
    transfer?: TransferPlan,
    ref?: TaskRef,
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
    let pinned = -1;
    try {
      if (transfer === undefined) core.writeArgs(r, nameId, args, prepared, flags);
      else {
        // Pinned to one worker: the arguments (and the moved buffers) go to it alone.
        pinned = target >= 0 ? target : this.#robin++ % this.#config.workers;
        core.writeArgsMessage(r, idx, nameId, args, pinned, transfer.list, flags, ref ?? core.nameOf(nameId));
        a[r + R_RUNNER] = pinned + 1; // held by that worker off every queue (see `#onExit`)
      }
    } catch (err) {
      // No memory for the payload, or arguments postMessage cannot send.
      core.freeRecord(idx);
      this.#recs.inUse--;
      this.#settled();
      reject(err);
      return;
    }
    // Kept to run it again after a forced abort: scalars as a copy of their words (no array
    // kept alive per task), payload arguments as the caller's list.
    if (transfer !== undefined) this.#recs.args[idx] = transfer.rerunArgs;
    else if (prepared === undefined) this.#recs.saveScalars(idx);
    else this.#recs.args[idx] = args;
    this.#recs.rerun[idx] = 0;
    core.f64[(r + R_SUBMIT_AT) >> 1] = this.#submitStamp(); // queue wait starts (see `timing.ts`)
    Atomics.store(a, r + R_STATE, S_QUEUED); // publishes everything written above
    this.#recs.resolve[idx] = resolve;
    this.#recs.reject[idx] = reject;
    if (signal !== undefined) {
      const listener = (): void => this.#abort(idx, gen, signal.reason);
      signal.addEventListener('abort', listener, { once: true });
      this.#recs.hooks[idx] = { signal, listener };
    }
    if (pinned >= 0) {
      Atomics.add(a, core.ctl(pinned) + W_PINNED, 1);
      core.wakeWorker(pinned);
    } else this.#enqueue(core, idx, target);
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

  /**
   * The submission time stamped on records: one clock read per synchronous batch (the
   * first submission of a microtask turn, then every 64 submissions), not one per record;
   * a record's queue wait may thus count from up to 63 submissions before its own.
   */
  #submitStamp(): number {
    if (this.#stamp >= 0 && ++this.#stampUses < 64) return this.#stamp;
    if (this.#stamp < 0) queueMicrotask(this.#resetStamp);
    this.#stampUses = 0;
    return (this.#stamp = epochMs());
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
        if (this.#recs.pending === 0 && this.#recs.cancelledOut === 0) break;
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
    if (drainCompletions(core, this.#recs, this.#stdio!) > 0) {
      this.#refill(core);
      if (this.#roomWaiters.length > 0) this.#admit();
      if (this.#recs.pending === 0) this.#onIdle();
    }
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
      const idx = this.#recs.take();
      if (idx === EMPTY) break; // the main thread holds its whole quota
      this.#overflow[this.#overflowHead++] = undefined as never;
      e.cancelled = true; // its overflow abort listener must do nothing from now on
      this.#place(core, idx, e.nameId, e.args, e.prepared, e.flags, e.resolve, e.reject, e.signal, e.target, e.transfer);
    }
    if (this.#overflowHead === this.#overflow.length) {
      this.#overflow = [];
      this.#overflowHead = 0;
    }
  }

  #settled(): void {
    if (--this.#recs.pending === 0) this.#onIdle();
    if (this.#roomWaiters.length > 0) this.#admit();
  }

  #onBusy(): void {
    if (!this.#reffed) {
      this.#reffed = true;
      for (const w of this.#workers) w?.ref();
    }
  }

  #onIdle(): void {
    const core = this.#core;
    if (core?.usesPayloadBuffers === true) {
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
    if (a[r + R_GEN] !== gen || this.#recs.reject[idx] === undefined) return;
    if (Atomics.compareExchange(a, r + R_STATE, S_QUEUED, S_CANCELLED) === S_QUEUED) {
      // Removed from the queue: the record comes back on the completion ring when a
      // worker meets it, and is freed then.
      this.#recs.cancelledOutNow(idx);
      const reject = this.#recs.detach(idx)!;
      this.#settled();
      reject(reason);
      return;
    }
    this.#recs.abortReasons.set(idx, reason);
    Atomics.store(a, r + R_ABORT, 1);
    const runner = Atomics.load(a, r + R_RUNNER);
    if (runner > 0 && (a[r + R_FLAGS]! & F_FORCE) !== 0) this.#forceAbort(idx, runner - 1, reason);
    else if (runner > 0) core.wakeWorker(runner - 1);
  }

  /**
   * Forced abort of running main record `idx`: rejects the call now and terminates worker
   * `w`; `#onExit` replaces it and runs its other tasks again, once.
   */
  #forceAbort(idx: number, w: number, reason: unknown): void {
    const reject = this.#recs.detach(idx)!;
    const worker = this.#workers[w];
    if (worker !== undefined && !this.#forced.has(w)) {
      this.#forced.add(w);
      void worker.terminate();
    }
    this.#settled();
    reject(new TaskAbortedError(`the task was aborted: its worker ${w} was terminated (forced abort)`, { cause: reason }));
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
    const forced = this.#forced.delete(w);
    const stdioPort = this.#stdioPorts[w];
    if (stdioPort !== undefined) this.#stdio!.remove(stdioPort); // what it printed before it died
    this.#stdioPorts[w] = undefined;
    const why = cause instanceof Error ? `: ${cause.message}` : '';
    const freedMain = recoverRecords(core, this.#recs, { w, code, cause, forced }, this.#recovery);
    if (freedMain) this.#refill(core); // submissions waiting for a free record
    // 4. A replacement takes the slot (unless workers cannot even boot).
    this.#bootFailures = booted || forced ? 0 : this.#bootFailures + 1;
    if (this.#bootFailures >= 3) {
      this.#broken = new WorkerCrashedError(`pool workers cannot start (exit code ${code})${why}`, { cause });
      this.#failAll(this.#broken);
      return;
    }
    this.#restarts++;
    if (!this.#closed) this.#spawn(w);
    core.wake(this.#config.workers);
    if (!this.#looping && this.#recs.pending > 0) void this.#loop();
  }

  /**
   * `shutdown({ force: true })`: rejects every submission that has not started (queued
   * records, overflow) with `err`; running tasks go on.
   */
  #dropQueued(core: PoolCore, err: unknown): void {
    const a = core.i32;
    for (let idx = 0; idx < this.#recs.reject.length; idx++) {
      const reject = this.#recs.reject[idx];
      if (reject === undefined) continue;
      const r = core.rec(idx);
      if (Atomics.compareExchange(a, r + R_STATE, S_QUEUED, S_CANCELLED) !== S_QUEUED) continue;
      // As a cancel while queued: a worker hands the record back when it meets it.
      this.#recs.cancelledOutNow(idx);
      this.#recs.detach(idx);
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

  /** Rejects every pending submission with `err`. */
  #failAll(err: unknown): void {
    const core = this.#core;
    for (let idx = 0; idx < this.#recs.reject.length; idx++) {
      const reject = this.#recs.reject[idx];
      if (reject === undefined) continue;
      this.#recs.detach(idx);
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

  metrics(): { pool: PoolMetrics } {
    return {
      pool: readPoolMetrics(this.#core, this.#config.workers, {
        pending: this.#recs.pending,
        overflow: this.#overflow.length - this.#overflowHead,
        restarts: this.#restarts,
      }),
    };
  }

  /**
   * `pool.records` in `rt.metrics().memory.pools`: a snapshot of record usage (see
   * `pool-metrics.ts`).
   */
  recordStats(): PoolRecordStats {
    const core = this.#core;
    return readRecordStats(core, core?.layout ?? computeLayout(this.#config.workers, this.#config.queueCapacity), this.#recs.inUse, this.#config.memory.strategy === 'heap');
  }

  /**
   * @internal Payload buffers (strategy `heap`) held now by the main thread's table (received
   * results not read yet, argument buffers of records not completed yet) and by each
   * worker's table (as each worker last published it).
   */
  payloadBuffers(): { main: number; workers: number[] } {
    return payloadBufferCounts(this.#core, this.#config.workers);
  }

  async shutdown(timeoutMs: number, force = false): Promise<void> {
    this.#closed = true;
    this.#admit(); // calls waiting for room: rejected, the pool takes no new work
    const core = this.#core;
    if (core === undefined) return;
    if (force) this.#dropQueued(core, new RuntimeClosedError('runtime shut down (force): the worker task was dropped before it started'));
    if (this.#recs.pending > 0) {
      await bounded(new Promise<void>((resolve) => this.#idleWaiters.push(resolve)), timeoutMs);
      if (this.#recs.pending > 0) this.#failAll(new RuntimeClosedError(`runtime shut down before the worker task finished (waited ${timeoutMs} ms)`));
    }
    this.#terminating = true;
    Atomics.store(core.i32, H_SHUTDOWN, 1);
    core.wakeAll();
    Atomics.add(core.i32, H_MAIN_WAKE, 1);
    Atomics.notify(core.i32, H_MAIN_WAKE);
    await Promise.all(this.#workers.map((w) => w?.terminate()));
    this.#workers = [];
    this.#stdio?.close(); // everything the workers printed, before shutdown resolves
    core.buffers.close();
  }
}

/** @internal Builds the pool of a runtime (its part `pool` calls it on the first exec). */
export function createWorkerPool(config: ResolvedConfig, runtime: PartHost): ParallelEngine {
  return new WorkerPool(config, runtime);
}
