/** Shared setup of the blocking-pool tests: runtimes shut down after each test, SAB gates. */
import { afterEach } from 'vitest';
import { createRuntime, type Runtime } from '../../../src/index.js';

export type Rt = Runtime<{ workers: 2; blockingThreads: 2 }>;

const runtimes: Array<{ shutdown(): Promise<void> }> = [];

/** Shuts `rt` down after the test too (for runtimes built by hand). */
export function track<T extends { shutdown(): Promise<void> }>(rt: T): T {
  runtimes.push(rt);
  return rt;
}

/** A runtime with 2 stealing workers and `blockingThreads` blocking threads, shut down after the test. */
export function runtime(blockingThreads: 1 | 2 = 2): Rt {
  const rt = createRuntime({ workers: 2, blockingThreads }) as Rt;
  runtimes.push(rt);
  return rt;
}

afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((rt) => rt.shutdown()));
});

/** A gate a blocking task waits on: word 0 is the flag, word 1 a value passed through. */
export function gate(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(8));
}

/** Opens a gate, handing `value` to the waiting task. */
export function open(g: Int32Array, value = 0): void {
  g[1] = value;
  Atomics.store(g, 0, 1);
  Atomics.notify(g, 0);
}

/** The blocking pool's metrics section. */
export function blocking(rt: Rt): Record<string, number> {
  return rt.metrics().blocking as Record<string, number>;
}
