/**
 * Timing of worker-pool tasks: how long each `exec`/`map` record waited in the queue and
 * how long it ran, as histograms, and how busy each worker was; `rt.metrics().pool.timing`
 * and `rt.metrics().pool.workers[i].utilisation`.
 *
 * Implementation note. The main thread stamps a record with the epoch time when it queues
 * it (`R_SUBMIT_AT`; one clock read per synchronous batch of up to 64 submissions); the
 * worker that claims it reads the stamp, stamps the start over it (a task the run loop
 * starts right after another starts when that one ended: one clock read per task), and
 * when the task settles adds both durations to log-scale
 * histograms in its own block of the pool memory (4 buckets per power of two of
 * microseconds, 128 buckets: ±10 % from 1 µs to half an hour), keeps the maximum of each,
 * and adds the synchronous part of the run to its busy time. Each block has one writer
 * (its worker) and plain stores; the main thread reads a snapshot. Quantiles are the
 * geometric middle of their bucket (never above the maximum). Records workers submit
 * themselves (join sides, `exec` inside a task) are not timed: they run inside a timed task.
 *
 * @module
 */
import { STATS_WORDS } from './layout.js';

const BUCKETS = 128;
/** Float64 fields after the two histograms (word offsets in the block). */
const F_WAIT_MAX = 2 * BUCKETS;
const F_RUN_MAX = F_WAIT_MAX + 2;
const F_BUSY = F_WAIT_MAX + 4;
const F_STARTED = F_WAIT_MAX + 6;

/** Epoch milliseconds, comparable across threads. */
const ORIGIN = performance.timeOrigin;
export function epochMs(): number {
  return ORIGIN + performance.now();
}

function bucketOf(ms: number): number {
  const us = ms * 1000;
  if (!(us >= 1)) return 0;
  const b = 1 + Math.floor(Math.log2(us) * 4);
  return b < BUCKETS ? b : BUCKETS - 1;
}

/** Lower bound of bucket `b`, in ms. */
function lowerOf(b: number): number {
  return b === 0 ? 0 : 2 ** ((b - 1) / 4) / 1000;
}

/** A worker's writer for its own timing block. */
export class WorkerTiming {
  readonly #i32: Int32Array;
  readonly #f64: Float64Array;
  readonly #base: number;

  constructor(sab: SharedArrayBuffer, base: number) {
    this.#i32 = new Int32Array(sab);
    this.#f64 = new Float64Array(sab);
    this.#base = base;
    this.#f64[(base + F_BUSY) >> 1] = 0;
    this.#f64[(base + F_STARTED) >> 1] = epochMs();
  }

  /** A task waited `ms` in the queue. */
  wait(ms: number): void {
    this.#i32[this.#base + bucketOf(ms)]!++;
    const m = (this.#base + F_WAIT_MAX) >> 1;
    if (ms > this.#f64[m]!) this.#f64[m] = ms;
  }

  /** A task ran `ms` (start to settle), `busyMs` of it on this thread's stack. */
  run(ms: number, busyMs: number): void {
    this.#i32[this.#base + BUCKETS + bucketOf(ms)]!++;
    const m = (this.#base + F_RUN_MAX) >> 1;
    if (ms > this.#f64[m]!) this.#f64[m] = ms;
    this.#f64[(this.#base + F_BUSY) >> 1] += busyMs;
  }
}

/** Quantiles of one histogram, in milliseconds. */
export interface DurationStats {
  /** Tasks counted. */
  readonly count: number;
  /** Median: half the tasks took at most this long (to within ±10 %, the bucket width); 0 when none were counted. */
  readonly p50: number;
  /** 90th percentile: 9 tasks in 10 took at most this long (±10 %). */
  readonly p90: number;
  /** 99th percentile: 99 tasks in 100 took at most this long (±10 %). */
  readonly p99: number;
  /** The longest one (exact). */
  readonly max: number;
}

/** `rt.metrics().pool.timing`. */
export interface PoolTiming {
  /** How long tasks ran, from start to settle, in ms. */
  readonly runMs: DurationStats;
  /** How long tasks waited between `exec`/`map` and their start, in ms. */
  readonly queueWaitMs: DurationStats;
}

function stats(counts: number[], max: number): DurationStats {
  let count = 0;
  for (const c of counts) count += c;
  const q = (p: number): number => {
    if (count === 0) return 0;
    const rank = Math.ceil(p * count);
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += counts[b]!;
      if (seen >= rank) return Math.min(max, b === 0 ? 0 : Math.sqrt(lowerOf(b) * lowerOf(b + 1)));
    }
    return max;
  };
  return { count, p50: q(0.5), p90: q(0.9), p99: q(0.99), max };
}

/** Reads every worker's timing block: the pool's histograms and each worker's utilisation (0..1). */
export function readTiming(sab: SharedArrayBuffer, statsBase: number, workers: number): { timing: PoolTiming; utilisation: number[] } {
  const i32 = new Int32Array(sab);
  const f64 = new Float64Array(sab);
  const wait = new Array<number>(BUCKETS).fill(0);
  const run = new Array<number>(BUCKETS).fill(0);
  let waitMax = 0;
  let runMax = 0;
  const utilisation: number[] = [];
  const now = epochMs();
  for (let w = 0; w < workers; w++) {
    const base = statsBase + w * STATS_WORDS;
    for (let b = 0; b < BUCKETS; b++) {
      wait[b] += i32[base + b]!;
      run[b] += i32[base + BUCKETS + b]!;
    }
    waitMax = Math.max(waitMax, f64[(base + F_WAIT_MAX) >> 1]!);
    runMax = Math.max(runMax, f64[(base + F_RUN_MAX) >> 1]!);
    const started = f64[(base + F_STARTED) >> 1]!;
    const busy = f64[(base + F_BUSY) >> 1]!;
    utilisation.push(started > 0 && now > started ? Math.min(1, busy / (now - started)) : 0);
  }
  return { timing: { runMs: stats(run, runMax), queueWaitMs: stats(wait, waitMax) }, utilisation };
}
