/**
 * Fork-join on the work-stealing pool: fib(32) with a sequential cutoff, split across
 * workers by `join`, compared with the plain sequential version.
 *
 *   npx tsx examples/fork-join-fib.ts
 */
import { Runtime } from '../src/index.js';
import { seqFib, tasks } from '../bench/fixtures/scheduler-tasks.js';

await using rt = Runtime.builder().workers(2).build();

const t0 = performance.now();
const parallel = await rt.exec(tasks.fib, 32, 22);
const t1 = performance.now();
const sequential = seqFib(32);
const t2 = performance.now();

console.log(`fib(32) on 2 workers = ${parallel} (${(t1 - t0).toFixed(1)} ms, includes worker start-up)`);
console.log(`fib(32) sequential   = ${sequential} (${(t2 - t1).toFixed(1)} ms)`);
const pool = rt.metrics().pool as { workers: Array<{ joins: number; inlinePops: number; stolenSides: number; helpIterations: number }> };
for (const [i, w] of pool.workers.entries()) {
  console.log(`worker ${i}: joins ${w.joins}, popped back ${w.inlinePops}, stolen ${w.stolenSides}, help iterations ${w.helpIterations}`);
}
