/**
 * Messages and shared words between the blocking pool (main thread) and its workers.
 *
 * Implementation note. Every job travels to its worker over the worker's own port, in
 * order; the worker runs its jobs one at a time. Results of `spawnBlocking` come back on
 * the same port. `blockOn` cannot receive messages (its thread sleeps in `Atomics.wait`),
 * so a synchronous job carries a one-word status in a SharedArrayBuffer and its result
 * goes to a second port that the caller drains with `receiveMessageOnPort`:
 *
 * ```
 *  per call  status: Int32Array(1)   PENDING ─► RUNNING ─► DONE
 *                                      │
 *                                      └─► CANCELLED   (caller timed out before it ran)
 *
 *  per worker wake:  Int32Array(1)   a counter the worker bumps (and notifies) after every
 *                                    synchronous job, or sets to DEAD when it exits; the
 *                                    caller sleeps on it, so a worker that dies can never
 *                                    leave a caller waiting.
 * ```
 *
 * The worker posts the result on the sync port *before* it stores DONE, so a caller that
 * sees DONE always finds the message.
 */
import type { MessagePort } from 'node:worker_threads';
import type { WireError } from '../../errors.js';
import type { TaskTraceContext } from '../pool/worker-context.js';

/** Status word of a synchronous job: queued on its worker, not started. */
export const STATUS_PENDING = 0;
/** Status word of a synchronous job: the worker runs it. */
export const STATUS_RUNNING = 1;
/** Status word of a synchronous job: the result is on the sync port. */
export const STATUS_DONE = 2;
/** Status word of a synchronous job: the caller gave up before it started; skip it. */
export const STATUS_CANCELLED = 3;

/** Value of the per-worker wake word once the worker has exited. */
export const WAKE_DEAD = -1;

/** What a blocking worker receives in `workerData`. */
export interface BlockingWorkerData {
  /** Where results of synchronous jobs go. */
  readonly syncPort: MessagePort;
  /** The per-worker wake word (Int32Array(1) over a SharedArrayBuffer). */
  readonly wake: Int32Array;
  /** URL of the real worker entry, for the TypeScript boot entry (`../ts-worker-boot.mjs`). */
  readonly entry: string;
}

/** A job sent to a blocking worker. */
export interface RunMessage {
  readonly type: 'run';
  readonly id: number;
  readonly module: string;
  readonly name: string;
  readonly args: readonly unknown[];
  /** Present for `blockOn` jobs: the per-call status word. */
  readonly status?: Int32Array;
  /** The caller's trace context (when a span was current and tracing is on). */
  readonly trace?: TaskTraceContext;
}

/** The outcome of a job. */
export type Outcome = { readonly id: number; readonly ok: true; readonly value: unknown } | { readonly id: number; readonly ok: false; readonly error: WireError };

/** What a blocking worker posts on its parent port. */
export type WorkerMessage =
  /** The outcome of a `spawnBlocking` job. */
  | ({ readonly type: 'result' } & Outcome)
  /** A `blockOn` job finished or was skipped (its outcome went to the sync port). */
  | { readonly type: 'done'; readonly id: number; readonly ok: boolean };
