/**
 * The shape every bench suite takes, and helpers to measure with tinybench.
 *
 * A suite is a list of cases. Each case belongs to a *group* (one comparison, e.g.
 * "spawn+join") and has a *subject* (`zokio` or the peer's package name). The runner
 * (`bench/run.ts`) repeats every case, takes the median, and prints for each group the
 * ratio of zokio to each peer (> 1 means zokio is better, whatever the unit's direction).
 */
import { Bench } from 'tinybench';
import { contextStorage } from '../src/runtime/context.js';
import { detachedStorage } from '../src/trace/span.js';

/** Options every measurement receives from the runner. */
export interface MeasureOptions {
  /** `npm run bench -- --quick`: shorter measurements for CI smoke runs. */
  readonly quick: boolean;
}

/** One measured thing. */
export interface BenchCase {
  /** The comparison this case belongs to, e.g. `spawn+join`. */
  readonly group: string;
  /** `zokio` or the peer's name, e.g. `effect`, `piscina`, `node:setTimeout`. */
  readonly subject: string;
  /** Unit of the value `measure` returns, e.g. `ops/s`, `B/task`, `ms`. */
  readonly unit: string;
  /** Whether a higher value is better (throughput) or a lower one (bytes, latency). */
  readonly better: 'higher' | 'lower';
  /** Measures once and returns the value; the runner repeats it and takes the median. */
  measure(options: MeasureOptions): Promise<number>;
}

/** A target from an issue, printed beside the result. */
export interface BenchTarget {
  readonly group: string;
  /** Human text of the target, e.g. `>= 3,000,000 tasks/s`. */
  readonly text: string;
  /** Checks the zokio median (and the peer medians by subject) against the target. */
  check?(zokio: number, peers: Readonly<Record<string, number>>): boolean;
}

/** A bench suite: one file in bench/, one area of Zokio. */
export interface BenchSuite {
  /** Short name, e.g. `tasks`. */
  readonly name: string;
  /** One-line description for the report. */
  readonly title: string;
  readonly cases: readonly BenchCase[];
  readonly targets?: readonly BenchTarget[];
  /**
   * At least this many repeats in a full run, for a suite whose targets are differences of
   * a few percent: on this shared machine one measurement varies by more than that, and the
   * median of five repeats still moves by about as much as the target allows.
   */
  readonly minRepeat?: number;
  /** The reason to skip the suite on this machine (a missing server), or undefined to run it. */
  skip?(): string | undefined;
  /** Called once before the first case (start pools, servers). */
  setup?(): Promise<void>;
  /** Called once after the last case (stop pools, servers). */
  teardown?(): Promise<void>;
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Runs one step of a suite's teardown after naming it on stderr (a step that hangs is then
 * named in the log). With `peerBoundMs` (a peer library's own teardown, which is not ours
 * to fix) the step is given up after that long, said on stderr, and the suite goes on: its
 * process exits after the suite anyway. Zokio's own steps get no bound, so that a hang of
 * theirs fails the run by name (see `heldOpen` in run.ts).
 */
export async function teardownStep(label: string, step: () => Promise<unknown> | undefined, peerBoundMs?: number): Promise<void> {
  process.stderr.write(`  teardown: ${label}\n`);
  if (peerBoundMs === undefined) {
    await step();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<'gave up'>((resolve) => (timer = setTimeout(() => resolve('gave up'), peerBoundMs)));
  try {
    if ((await Promise.race([Promise.resolve(step()).then(() => 'done'), gaveUp])) === 'gave up') {
      process.stderr.write(`  teardown: ${label} did not finish in ${peerBoundMs / 1000} s; left to the suite process's exit\n`);
    }
  } finally {
    clearTimeout(timer);
  }
}

/** Declares a suite (identity function that checks the shape). */
export function defineSuite(suite: BenchSuite): BenchSuite {
  return suite;
}

/**
 * Measures the throughput of `fn`, which performs `opsPerCall` operations per call, with
 * tinybench; returns operations per second from the *median* call latency.
 */
export async function throughput(fn: () => unknown, opsPerCall: number, options: MeasureOptions): Promise<number> {
  const bench = new Bench({
    time: options.quick ? 150 : 600,
    warmupTime: options.quick ? 50 : 200,
    iterations: 5,
    warmupIterations: 2,
  });
  bench.add('case', fn as () => Promise<void>);
  await bench.run();
  const result = bench.tasks[0]!.result as { latency?: { p50: number }; error?: unknown; state?: string };
  if (result.error !== undefined) throw result.error;
  if (result.latency === undefined) throw new Error(`tinybench produced no latency (state ${String(result.state)})`);
  const medianMs = result.latency.p50;
  return opsPerCall / (medianMs / 1000);
}

/**
 * Turns off Zokio's AsyncLocalStorage instances. The runner calls it after every case.
 *
 * Why: on Node 20 the first `AsyncLocalStorage.run()` installs async hooks for the whole
 * process, and they stay installed until every storage is disabled. Once a zokio case has
 * entered `rt.run`, every promise, `Timeout` and `nextTick` created afterwards pays an init
 * hook and carries one more property, so a peer measured after it would run slower and
 * heavier than it does in a process without Zokio (measured here: `clearTimeout` 17 M/s with
 * the hooks against 37 M/s without, a bare async function 4.5 M/s against 9.8 M/s). Each case
 * therefore starts without them; a zokio case that needs the context turns them on again
 * with its own `rt.run`, and pays for that itself.
 */
export function dropContextHooks(): void {
  contextStorage.disable();
  detachedStorage.disable();
}

/** Runs the garbage collector if node was started with --expose-gc. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    gc();
    gc();
  }
}

/**
 * Heap bytes retained per item: builds `count` items with `create` while keeping them
 * alive, and returns (heap after - heap before) / count. Needs --expose-gc for accuracy.
 */
export async function heapBytesPerItem(count: number, create: (count: number) => Promise<() => Promise<void>>): Promise<number> {
  collectGarbage();
  const before = process.memoryUsage().heapUsed;
  const release = await create(count);
  collectGarbage();
  const after = process.memoryUsage().heapUsed;
  await release();
  return (after - before) / count;
}
