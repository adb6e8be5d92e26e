/**
 * The blocking pool: a few `worker_threads`, separate from the work-stealing workers, for
 * tasks that block (synchronous I/O, native calls, long CPU work that must not hold a
 * stealing worker), and the bridge `blockOn` that lets synchronous code wait for one.
 *
 * Implementation note. Threads start lazily, up to `blockingThreads`, and each runs one
 * job at a time. `spawnBlocking` jobs wait in a FIFO queue on this thread and go to a
 * thread when it is idle. `blockOn` cannot use that queue: its thread sleeps until the
 * result is there, so nothing on this thread could hand the job on later. It posts the
 * job straight to a thread (an idle one, a new one, or else the least loaded, where the
 * job waits behind the running one in the thread's own port) and sleeps on that thread's
 * wake word (see `protocol.ts`). It never depends on this thread's event loop, so it
 * cannot deadlock on it; what it waits for is the jobs ahead of it on that thread, bounded
 * by `timeoutMs` if given.
 *
 * Liveness: an idle thread is `unref`ed; a thread is `ref`ed while it runs a job whose
 * promise someone awaits (or while such jobs wait in the queue), so the process stays
 * alive exactly as long as there is awaited blocking work.
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import {
  RuntimeClosedError,
  TaskArgumentError,
  TimeoutError,
  WorkerCrashedError,
  ZokioError,
  errorFromWire,
  errorToWire,
} from '../../errors.js';
import type { WorkerResourceLimits } from '../../runtime/config.js';
import type { TaskRef } from '../task-ref.js';
import { failedFor } from '../task.js';
import { abortedBeforeWait, settleWait, WaitAbort } from '../wait-abort.js';
import { workerExecArgv } from '../task-registry.js';
import { submitTraceContext } from '../pool/worker-pool.js';
import type { TaskTraceContext } from '../pool/worker-context.js';
import {
  STATUS_CANCELLED,
  STATUS_DONE,
  STATUS_PENDING,
  WAKE_DEAD,
  type BlockingWorkerData,
  type Outcome,
  type RunMessage,
  type WorkerMessage,
} from './protocol.js';

/** Running from TypeScript sources (tests, tsx): the worker entry is `.ts` and needs tsx inside the worker. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_ENTRY = new URL(FROM_SOURCE ? './worker.ts' : './worker.js', import.meta.url);
/** The sync-port id under which `ts-worker-boot.mjs` reports that the entry failed to load. */
const BOOT_FAILURE_ID = -1;
const WORKER_URL = FROM_SOURCE ? new URL('../ts-worker-boot.mjs', import.meta.url) : WORKER_ENTRY;

/**
 * Counters of the blocking pool, under `rt.metrics().blocking` once the pool was first used.
 *
 * @example
 * ```ts
 * import { Runtime, defineTasks, type BlockingMetrics } from 'zokio';
 * export const tasks = defineTasks(import.meta.url, {
 *   square(n: number): number {
 *     return n * n;
 *   },
 * });
 * const rt = Runtime.builder().workers(2).blockingThreads(2).build();
 * await rt.spawnBlocking(tasks.square, 7);
 * const m = rt.metrics().blocking as BlockingMetrics | undefined;
 * console.log(m?.threads, m?.busy, m?.queued, m?.completed);
 * await rt.shutdown();
 * ```
 */
export interface BlockingMetrics {
  /** Threads started and alive (they start lazily, up to `maxThreads`). */
  readonly threads: number;
  /** The configured `blockingThreads`. */
  readonly maxThreads: number;
  /** Threads running a job now. */
  readonly busy: number;
  /** Jobs waiting for a thread: in the pool's queue, or sent to a busy thread behind its job. */
  readonly queued: number;
  /** Jobs finished, with a value or an error. */
  readonly completed: number;
  /** Of `completed`, the jobs that finished with an error. */
  readonly failed: number;
  /** `blockOn` calls that gave up with `TimeoutError`. */
  readonly timedOut: number;
}

/** Options of {@link BlockingPool.blockOn}. */
export interface BlockingWaitOptions {
  /** Give up with `TimeoutError` after this many ms. @default Infinity */
  readonly timeoutMs?: number;
}

interface Job {
  readonly id: number;
  readonly ref: TaskRef;
  readonly args: readonly unknown[];
  /** The caller's trace context, taken when the job was submitted. */
  readonly trace: TaskTraceContext | undefined;
  /** Set for `spawnBlocking` jobs. */
  readonly settle?: (outcome: Outcome) => void;
  /** A `blockOn` job whose caller timed out while it ran: its outcome is dropped. */
  abandoned?: boolean;
}

interface Thread {
  readonly worker: Worker;
  readonly syncPort: MessagePort;
  readonly wake: Int32Array;
  /** Jobs sent to this thread and not finished, in order. */
  readonly jobs: Map<number, Job>;
  /** Of `jobs`, the `spawnBlocking` ones (someone awaits them). */
  awaited: number;
  refed: boolean;
  dead: boolean;
}

/**
 * @internal The blocking pool of one runtime. Get it with `getBlockingPool(runtime)`;
 * users reach it through `rt.spawnBlocking` and `rt.blockOn`.
 *
 * @example
 * Internal use (not importable from `zokio`, so not a checked example):
 * `const pool = new BlockingPool(2); pool.blockOn(tasks.add, [2, 3], { timeoutMs: 1000 });
 * await pool.spawnBlocking(tasks.add, [3, 3]); await pool.shutdown();`
 *
 * Users reach it through the runtime:
 * ```ts
 * import { Runtime, defineTasks } from 'zokio';
 * export const tasks = defineTasks(import.meta.url, {
 *   add(a: number, b: number): number {
 *     return a + b;
 *   },
 * });
 * const rt = Runtime.builder().workers(2).blockingThreads(2).build();
 * const five = rt.blockOn({ timeoutMs: 1000 }, tasks.add, 2, 3);
 * const six = await rt.spawnBlocking(tasks.add, 3, 3);
 * await rt.shutdown();
 * ```
 *
 * *Cancellation*: a running job cannot be interrupted (it is synchronous code on another
 * thread); `blockOn`'s `timeoutMs` drops a job that has not started and abandons one that
 * has; `shutdown()` rejects every `spawnBlocking` job and terminates the threads.
 */
export class BlockingPool {
  readonly #maxThreads: number;
  readonly #resourceLimits: WorkerResourceLimits;
  readonly #threads: Thread[] = [];
  readonly #queue: Job[] = [];
  #nextId = 1;
  #started = 0;
  #completed = 0;
  #failed = 0;
  #timedOut = 0;
  #closed = false;

  constructor(maxThreads: number, resourceLimits: WorkerResourceLimits = {}) {
    this.#maxThreads = maxThreads;
    this.#resourceLimits = resourceLimits;
  }

  /**
   * Runs `ref(...args)` on a blocking thread; the promise settles with its outcome.
   *
   * *Cancellation*: aborting `signal`, or the running task, rejects with its reason. A job
   * still queued is removed and never runs; a job a thread has started runs to its end
   * (synchronous code cannot be interrupted) and its outcome is dropped.
   */
  spawnBlocking(ref: TaskRef, args: readonly unknown[], signal?: AbortSignal): Promise<unknown> {
    if (this.#closed) return Promise.reject(new RuntimeClosedError('runtime is shut down: cannot spawnBlocking'));
    try {
      checkRef(ref, 'spawnBlocking');
    } catch (err) {
      return Promise.reject(err);
    }
    const aborted = abortedBeforeWait(signal);
    if (aborted !== undefined) return failedFor(aborted.reason);
    return new Promise((resolve, reject) => {
      // Set by an abort: the outcome of a job that had started is dropped here, before it
      // could resume the caller's task (which has moved on) as if its wait had ended.
      let dropped = false;
      const job: Job = {
        id: this.#nextId++,
        ref,
        args,
        trace: submitTraceContext(),
        settle: (outcome) => {
          if (dropped) return;
          if (outcome.ok) settleWait(abort, resolve, outcome.value);
          else settleWait(abort, reject, errorFromWire(outcome.error));
        },
      };
      const abort = WaitAbort.start(signal, (reason) => {
        dropped = true;
        const queued = this.#queue.indexOf(job);
        if (queued >= 0) this.#queue.splice(queued, 1);
        reject(reason);
      });
      this.#queue.push(job);
      this.#pump();
    });
  }

  /**
   * Runs `ref(...args)` on a blocking thread and sleeps this thread until it finishes.
   * The caller has already checked that it is not inside the runtime.
   */
  blockOn(ref: TaskRef, args: readonly unknown[], options: BlockingWaitOptions | undefined): unknown {
    const timeoutMs = checkTimeout(options?.timeoutMs);
    if (this.#closed) throw new RuntimeClosedError('runtime is shut down: cannot blockOn');
    checkRef(ref, 'blockOn');
    const thread = this.#threadForBlockOn();
    const id = this.#nextId++;
    const status = new Int32Array(new SharedArrayBuffer(4));
    const job: Job = { id, ref, args, trace: submitTraceContext() };
    try {
      thread.worker.postMessage({ type: 'run', id, module: ref.module, name: ref.name, args, status, trace: job.trace } satisfies RunMessage);
    } catch (err) {
      throw argumentError(ref, err);
    }
    thread.jobs.set(id, job);

    const deadline = performance.now() + timeoutMs;
    for (;;) {
      // Read the wake word before the status: a DONE stored after this read also bumps
      // the word, so the wait below returns at once instead of missing it.
      const seen = Atomics.load(thread.wake, 0);
      if (Atomics.load(status, 0) === STATUS_DONE) break;
      if (seen === WAKE_DEAD) {
        thread.jobs.delete(id);
        // A thread that could not even load its entry left the reason under id -1.
        const boot = takeOutcome(thread.syncPort, BOOT_FAILURE_ID);
        const why = boot === undefined || boot.ok ? '' : `: ${boot.error.message}`;
        this.#lose(thread, new Error(`the thread exited before it received the job${why}`));
        throw new WorkerCrashedError(`blocking worker exited before it ran task '${ref.name}' of ${ref.module}${why}`);
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        const before = Atomics.compareExchange(status, 0, STATUS_PENDING, STATUS_CANCELLED);
        if (before === STATUS_DONE) break;
        this.#timedOut++;
        if (before === STATUS_PENDING) thread.jobs.delete(id);
        else job.abandoned = true;
        throw new TimeoutError(
          `blockOn(${ref.name}) did not finish within ${timeoutMs} ms (task '${ref.name}' of ${ref.module}); ` +
            (before === STATUS_PENDING ? 'it had not started and will not run' : 'it keeps running on its blocking thread, and its result is dropped'),
        );
      }
      Atomics.wait(thread.wake, 0, seen, left);
    }

    const outcome = takeOutcome(thread.syncPort, id) ?? lostOutcome(id);
    thread.jobs.delete(id);
    this.#count(outcome);
    this.#pump();
    if (outcome.ok) return outcome.value;
    throw errorFromWire(outcome.error);
  }

  /** Current counters. */
  metrics(): BlockingMetrics {
    let busy = 0;
    let behind = 0;
    for (const t of this.#threads) {
      if (t.jobs.size > 0) busy++;
      if (t.jobs.size > 1) behind += t.jobs.size - 1;
    }
    return {
      threads: this.#threads.length,
      maxThreads: this.#maxThreads,
      busy,
      queued: this.#queue.length + behind,
      completed: this.#completed,
      failed: this.#failed,
      timedOut: this.#timedOut,
    };
  }

  /**
   * Stops the pool: queued and running `spawnBlocking` jobs reject with
   * `RuntimeClosedError`, every thread is terminated.
   */
  async shutdown(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closed = (what: string): Outcome & { ok: false } => ({
      id: 0,
      ok: false,
      error: errorToWire(new RuntimeClosedError(`runtime shut down ${what}`)),
    });
    for (const job of this.#queue.splice(0)) job.settle?.(closed('before the blocking task started'));
    const threads = this.#threads.splice(0);
    for (const t of threads) {
      t.dead = true;
      for (const job of t.jobs.values()) job.settle?.(closed('while the blocking task ran'));
      t.jobs.clear();
      t.syncPort.close();
    }
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  /** Sends queued jobs to idle threads, starting threads up to the limit. */
  #pump(): void {
    while (this.#queue.length > 0 && !this.#closed) {
      const thread = this.#idleThread() ?? (this.#threads.length < this.#maxThreads ? this.#startThread() : undefined);
      if (thread === undefined) break;
      const job = this.#queue.shift()!;
      try {
        thread.worker.postMessage({ type: 'run', id: job.id, module: job.ref.module, name: job.ref.name, args: job.args, trace: job.trace } satisfies RunMessage);
      } catch (err) {
        job.settle?.({ id: job.id, ok: false, error: errorToWire(argumentError(job.ref, err)) });
        continue;
      }
      thread.jobs.set(job.id, job);
      thread.awaited++;
    }
    this.#refreshRefs();
  }

  #idleThread(): Thread | undefined {
    // A copy: #isGone may drop a dead thread from the list.
    for (const t of [...this.#threads]) if (t.jobs.size === 0 && !this.#isGone(t)) return t;
    return undefined;
  }

  #threadForBlockOn(): Thread {
    const idle = this.#idleThread();
    if (idle !== undefined) return idle;
    if (this.#threads.length < this.#maxThreads) return this.#startThread();
    let best: Thread | undefined;
    for (const t of [...this.#threads]) {
      if (!this.#isGone(t) && (best === undefined || t.jobs.size < best.jobs.size)) best = t;
    }
    return best ?? this.#startThread();
  }

  /** True when the thread has exited, even if its `exit` event has not been handled yet. */
  #isGone(t: Thread): boolean {
    if (!t.dead && Atomics.load(t.wake, 0) === WAKE_DEAD) this.#lose(t, new Error('the thread exited'));
    return t.dead;
  }

  #startThread(): Thread {
    const { port1, port2 } = new MessageChannel();
    const wake = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(WORKER_URL, {
      execArgv: workerExecArgv(),
      workerData: { syncPort: port2, wake, entry: WORKER_ENTRY.href } satisfies BlockingWorkerData,
      transferList: [port2],
      name: `zokio-blocking-${++this.#started}`,
      resourceLimits: this.#resourceLimits,
    });
    const thread: Thread = { worker, syncPort: port1, wake, jobs: new Map(), awaited: 0, refed: false, dead: false };
    worker.on('message', (message: WorkerMessage) => this.#onMessage(thread, message));
    worker.on('error', (err) => this.#lose(thread, err));
    worker.on('exit', (code) => this.#lose(thread, new Error(`the thread exited with code ${code}`)));
    // After the listeners: adding a 'message' listener refs the worker's port again.
    worker.unref();
    // Only ever read with receiveMessageOnPort: it must not keep the process alive.
    port1.unref();
    this.#threads.push(thread);
    return thread;
  }

  #onMessage(thread: Thread, message: WorkerMessage): void {
    const job = thread.jobs.get(message.id);
    if (job === undefined) return; // a blockOn job its caller already took, or cancelled
    thread.jobs.delete(message.id);
    if (message.type === 'result') {
      thread.awaited--;
      this.#count(message);
      job.settle?.(message);
    } else {
      // An abandoned blockOn job finished: drop its result from the sync port.
      this.#count(takeOutcome(thread.syncPort, message.id) ?? lostOutcome(message.id));
    }
    this.#pump();
  }

  /** A thread died: fail what it held and let queued work go to a new thread. */
  #lose(thread: Thread, cause: unknown): void {
    if (thread.dead) return;
    thread.dead = true;
    const index = this.#threads.indexOf(thread);
    if (index >= 0) this.#threads.splice(index, 1);
    for (const job of thread.jobs.values()) {
      const why = cause instanceof Error ? cause.message : String(cause);
      const error = new WorkerCrashedError(`blocking worker crashed while running task '${job.ref.name}' of ${job.ref.module}: ${why}`, { cause });
      this.#count({ id: job.id, ok: false, error: errorToWire(error) });
      job.settle?.({ id: job.id, ok: false, error: errorToWire(error) });
    }
    thread.jobs.clear();
    thread.awaited = 0;
    thread.syncPort.close();
    if (thread.refed) thread.worker.unref();
    if (!this.#closed) this.#pump();
  }

  #count(outcome: Outcome): void {
    this.#completed++;
    if (!outcome.ok) this.#failed++;
  }

  /** Refs the threads whose work someone awaits; unrefs the rest. */
  #refreshRefs(): void {
    const waiting = this.#queue.length > 0;
    for (const t of this.#threads) {
      const want = t.jobs.size > 0 && (t.awaited > 0 || waiting);
      if (want === t.refed) continue;
      t.refed = want;
      if (want) t.worker.ref();
      else t.worker.unref();
    }
  }
}

/** Reads messages off the sync port until the one for `id` (stale ones are from abandoned jobs); undefined if absent. */
function takeOutcome(port: MessagePort, id: number): Outcome | undefined {
  for (let received = receiveMessageOnPort(port); received !== undefined; received = receiveMessageOnPort(port)) {
    const outcome = received.message as Outcome;
    if (outcome.id === id) return outcome;
  }
  return undefined;
}

/** Stands in for an outcome that is not on the sync port (cannot happen while the protocol holds). */
function lostOutcome(id: number): Outcome {
  return { id, ok: false, error: errorToWire(new WorkerCrashedError('blocking worker finished the task but its result was lost')) };
}

function checkRef(ref: unknown, method: string): asserts ref is TaskRef {
  const r = ref as Partial<TaskRef> | null | undefined;
  if (typeof r !== 'object' || r === null || typeof r.module !== 'string' || typeof r.name !== 'string') {
    throw new ZokioError('ZOKIO_ERR_INVALID_ARGUMENT', `${method}: expected a task reference returned by defineTasks(import.meta.url, { ... }), got ${typeof ref}`);
  }
}

function checkTimeout(timeoutMs: unknown): number {
  if (timeoutMs === undefined) return Infinity;
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs < 0) {
    throw new ZokioError('ZOKIO_ERR_INVALID_ARGUMENT', `blockOn: timeoutMs must be a number >= 0 (received ${String(timeoutMs)})`);
  }
  return timeoutMs;
}

function argumentError(ref: TaskRef, err: unknown): TaskArgumentError {
  const reason = err instanceof Error ? err.message : String(err);
  return new TaskArgumentError(`the arguments of task '${ref.name}' of ${ref.module} cannot be sent to a blocking worker: ${reason}`);
}
