/**
 * The main thread's completion step: drain the completion ring the workers publish
 * finished main-thread records on, settle each caller's promise from its record, and free
 * the records. The `Atomics.waitAsync` loop around it is in `worker-pool.ts`.
 *
 * @module
 */
import { RuntimeClosedError, TaskAbortedError } from '../../errors.js';
import { EMPTY } from './deque.js';
import { R_STATE, S_DONE_ERR, S_DONE_OK } from './layout.js';
import type { MainRecords } from './main-records.js';
import type { PoolCore } from './pool-core.js';
import type { StdioRelay } from './worker-stdio.js';

/**
 * Settles every completion that arrived (one pass over the ring) and returns how many
 * records came back; `recs.pending` counts down for each caller settled.
 *
 * *Ordering*: what a task printed is written (`stdio.pull()`) before its promise settles;
 * promises settle in ring order.
 */
export function drainCompletions(core: PoolCore, recs: MainRecords, stdio: StdioRelay): number {
  const a = core.i32;
  let n = 0;
  // Plain loop over the ring: one pass settles every completion that arrived.
  for (;;) {
    const idx = core.completions.pop();
    if (idx === EMPTY) break;
    n++;
    stdio.pull(); // what the task printed comes out before its promise settles
    const r = core.rec(idx);
    const state = Atomics.load(a, r + R_STATE);
    if (recs.cancelledAt[idx] === 1) recs.cancelledBack(idx);
    const resolve = recs.resolve[idx];
    const reject = recs.reject[idx];
    if (resolve !== undefined && reject !== undefined) {
      recs.resolve[idx] = undefined;
      recs.reject[idx] = undefined;
      recs.unhook(idx);
      recs.pending--;
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
        const err = core.readError(r);
        if (recs.abortReasons.size > 0 && recs.abortReasons.has(idx)) {
          // The caller aborted the running task: its reason is the cause.
          const reason = recs.abortReasons.get(idx);
          if (err instanceof TaskAbortedError && err.cause === undefined) Object.defineProperty(err, 'cause', { value: reason, configurable: true, writable: true });
        }
        reject(err);
      } else {
        reject(new RuntimeClosedError('the task was dropped'));
      }
    }
    recs.free(idx);
  }
  return n;
}
