/**
 * Entry of a blocking-pool worker thread.
 *
 * Implementation note. Jobs arrive on the parent port in order and run one at a time (an
 * async task is awaited before the next job starts), so a blocking thread is busy with one
 * job or idle, as in tokio's blocking pool. A `spawnBlocking` outcome goes back on the
 * parent port; a `blockOn` outcome goes to the sync port, then its status word turns DONE
 * and the wake word is bumped and notified (see `protocol.ts`). If the thread exits for any
 * reason (a task calls `process.exit`, an uncaught error), the `exit` handler fails every
 * synchronous job it knows of and sets the wake word to DEAD, so no caller waits forever.
 *
 * Each job's trace context (taken from the caller's current span) sits in a slot that
 * `currentWorkerTaskContext()` reads while the job runs, so spans it opens join the
 * caller's trace, as in a stealing worker.
 *
 * This file imports only the protocol, the error helpers, the task registry, the
 * worker-context slots and `SharedSlab` (to flush its thread cache when idle), never
 * `src/index.ts`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { WorkerCrashedError, errorToWire } from '../../errors.js';
import { SharedSlab } from '../../memory/shared-slab.js';
import { reviveShared } from '../../sync/shared/revive.js';
import { loadTask } from '../task-registry.js';
import { setBlockingTraceContext } from '../pool/worker-context.js';
import { installWorkerTracing } from '../../trace/pool-bridge.js';
import { markZokioThread } from './nested.js';
import {
  STATUS_CANCELLED,
  STATUS_DONE,
  STATUS_PENDING,
  STATUS_RUNNING,
  WAKE_DEAD,
  type BlockingWorkerData,
  type Outcome,
  type RunMessage,
  type WorkerMessage,
} from './protocol.js';

markZokioThread('blocking');
// Spans a job opens join the caller's trace (compiled out with tracing off).
if ((globalThis as { __ZOKIO_TRACE__?: boolean }).__ZOKIO_TRACE__ !== false) installWorkerTracing();

const port = parentPort!;
const { syncPort, wake } = workerData as BlockingWorkerData;
const queue: RunMessage[] = [];
/** Synchronous jobs received and not answered yet: the exit handler answers them. */
const unanswered = new Map<number, Int32Array>();
let draining = false;

port.on('message', (job: RunMessage) => {
  if (job.status !== undefined) unanswered.set(job.id, job.status);
  queue.push(job);
  if (!draining) void drain();
});

async function drain(): Promise<void> {
  draining = true;
  for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
    if (job.status === undefined) {
      const outcome = await run(job);
      try {
        port.postMessage({ type: 'result', ...outcome } satisfies WorkerMessage);
      } catch (err) {
        // The result cannot be cloned: answer with the reason instead.
        port.postMessage({ type: 'result', id: job.id, ok: false, error: errorToWire(err) } satisfies WorkerMessage);
      }
      continue;
    }
    // A caller that timed out first has set CANCELLED: skip the job.
    if (Atomics.compareExchange(job.status, 0, STATUS_PENDING, STATUS_RUNNING) !== STATUS_PENDING) {
      unanswered.delete(job.id);
      port.postMessage({ type: 'done', id: job.id, ok: false } satisfies WorkerMessage);
      continue;
    }
    const outcome = await run(job);
    answer(job.id, job.status, outcome);
    port.postMessage({ type: 'done', id: job.id, ok: outcome.ok } satisfies WorkerMessage);
  }
  // Idle now (and perhaps terminated next): keep no free SharedSlab blocks in this
  // thread's cache, out of other threads' reach, as a pool worker does before it parks.
  SharedSlab.flushAll();
  draining = false;
}

async function run(job: RunMessage): Promise<Outcome> {
  // Jobs run one at a time, so the slot holds this job's context until it settles.
  setBlockingTraceContext(job.trace);
  try {
    const fn = (await loadTask(job.module, job.name)) as (...args: unknown[]) => unknown;
    const value = await fn(...job.args.map(reviveShared));
    return { id: job.id, ok: true, value };
  } catch (err) {
    return { id: job.id, ok: false, error: errorToWire(err) };
  } finally {
    setBlockingTraceContext(undefined);
  }
}

/** Posts a synchronous job's outcome, then publishes DONE and wakes the caller. */
function answer(id: number, status: Int32Array, outcome: Outcome): void {
  unanswered.delete(id);
  try {
    syncPort.postMessage(outcome);
  } catch (err) {
    // The result cannot be cloned: answer with the reason instead.
    syncPort.postMessage({ id, ok: false, error: errorToWire(err) } satisfies Outcome);
  }
  Atomics.store(status, 0, STATUS_DONE);
  Atomics.add(wake, 0, 1);
  Atomics.notify(wake, 0);
}

process.on('exit', (code) => {
  const error = errorToWire(new WorkerCrashedError(`blocking worker exited (code ${code}) before the task finished`));
  for (const [id, status] of unanswered) {
    if (Atomics.load(status, 0) === STATUS_CANCELLED) continue;
    syncPort.postMessage({ id, ok: false, error } satisfies Outcome);
    Atomics.store(status, 0, STATUS_DONE);
  }
  Atomics.store(wake, 0, WAKE_DEAD);
  Atomics.notify(wake, 0);
});
