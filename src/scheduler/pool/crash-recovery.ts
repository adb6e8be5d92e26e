/**
 * What the main thread does with the records of a pool worker that died (crashed, ran
 * out of memory, or was terminated by a forced abort): which fail, which run again, which
 * are freed, which go back on a queue. Replacing the worker is the pool's part.
 *
 * Implementation note. The main thread scans every record for those whose `RUNNER` word
 * names the dead worker (running, or held off every queue while their task module loads
 * or, pinned, with transferred arguments). A forced abort's other tasks did nothing wrong:
 * a main-thread one is queued again with the arguments it was called with, once (a second
 * forced abort fails it; transferred arguments are gone, so those fail). So is a record
 * pinned to the dead worker that had not started, when its arguments were copies. Everything else
 * it was running fails with `WorkerCrashedError`. Its own records (join sides, nested
 * `exec`) become orphans (its incarnation is bumped), its deque (only its own records) is
 * dropped, and its inbox is re-queued, once.
 *
 * @module
 */
import { WorkerCrashedError } from '../../errors.js';
import { EMPTY } from './deque.js';
import {
  MAIN_OWNER,
  R_ABORT,
  R_FLAGS,
  R_NAME_ID,
  R_OWNER,
  R_RUNNER,
  R_STATE,
  R_SUBMIT_AT,
  S_CANCELLED,
  S_DONE_ERR,
  S_QUEUED,
  S_RUNNING,
  W_INCARNATION,
} from './layout.js';
import type { MainRecords } from './main-records.js';
import { F_FORCE, F_MAP, F_MSG, F_TRACE, type PoolCore } from './pool-core.js';
import { epochMs } from './timing.js';

/** A worker that is gone. */
export interface DeadWorker {
  /** Its slot. */
  readonly w: number;
  /** Its exit code. */
  readonly code: number;
  /** The error it reported before it exited, if any. */
  readonly cause: unknown;
  /** True when a forced abort terminated it. */
  readonly forced: boolean;
}

/** What recovery needs from the pool. */
export interface RecoveryHooks {
  /** Queues record `idx` again (injector, or the pool's spill list when full). */
  requeue(idx: number): void;
  /** A caller's promise was settled here (the pool counts it down). */
  settled(): void;
}

/**
 * After a forced abort killed its worker: main record `idx` (another task that was on
 * that worker) is queued again with the arguments it was called with. Returns false when
 * it cannot be (already run again once, or its arguments were transferred).
 */
export function runAgain(core: PoolCore, recs: MainRecords, idx: number, requeue: (idx: number) => void): boolean {
  const args = recs.args[idx];
  const scalars = recs.scalarsSaved[idx] === 1;
  if ((args === undefined && !scalars) || recs.rerun[idx] === 1 || recs.reject[idx] === undefined) return false;
  const a = core.i32;
  const r = core.rec(idx);
  core.discardPayload(r);
  const flags = a[r + R_FLAGS]! & (F_MAP | F_TRACE | F_FORCE);
  if (args === undefined) recs.restoreScalars(idx, flags);
  else {
    const nameId = a[r + R_NAME_ID]!;
    try {
      core.writeArgs(r, nameId, args, core.prepareArgs(core.nameOf(nameId), args), flags);
    } catch {
      return false;
    }
  }
  a[r + R_RUNNER] = 0;
  a[r + R_ABORT] = 0;
  recs.rerun[idx] = 1;
  core.f64[(r + R_SUBMIT_AT) >> 1] = epochMs();
  Atomics.store(a, r + R_STATE, S_QUEUED);
  requeue(idx);
  return true;
}

/**
 * Deals with every record dead worker `dead.w` held (see the module note). Returns true
 * when main-thread records were freed (submissions waiting for one can go now).
 *
 * *Ordering*: callers are rejected in record-index order.
 */
export function recoverRecords(core: PoolCore, recs: MainRecords, dead: DeadWorker, hooks: RecoveryHooks): boolean {
  const a = core.i32;
  const { w, code, cause, forced } = dead;
  const why = cause instanceof Error ? `: ${cause.message}` : '';
  // 1. Everything it was running fails (and only that). RUNNER also names the worker
  //    that holds a record off every queue while its task module loads or with its
  //    transferred arguments (still QUEUED, or CANCELLED meanwhile): those fail too, or,
  //    cancelled, are taken back here, as that worker will never hand them back.
  const total = core.layout.totalRecords;
  let freedMain = false;
  for (let idx = 0; idx < total; idx++) {
    const r = core.rec(idx);
    if (Atomics.load(a, r + R_RUNNER) !== w + 1) continue;
    const state = Atomics.load(a, r + R_STATE);
    const owner = a[r + R_OWNER]!;
    if (state === S_CANCELLED && owner === MAIN_OWNER && recs.cancelledAt[idx] === 1) {
      recs.cancelledBack(idx);
      recs.free(idx);
      freedMain = true;
      continue;
    }
    if (state !== S_RUNNING && state !== S_QUEUED) continue;
    // A forced abort terminated it: its other tasks did nothing wrong, they run again. A
    // record pinned to it that never started, whose caller's arguments were copied for
    // the transfer, runs elsewhere too (as a queued record would).
    const pinnedCopy = state === S_QUEUED && (a[r + R_FLAGS]! & F_MSG) !== 0;
    if ((forced || pinnedCopy) && owner === MAIN_OWNER && runAgain(core, recs, idx, hooks.requeue)) continue;
    const { name, module } = core.nameOf(a[r + R_NAME_ID]!);
    const doing = state === S_RUNNING ? 'running' : (a[r + R_FLAGS]! & F_MSG) !== 0 ? 'holding the transferred arguments of' : 'loading the module of';
    const died = forced ? 'was terminated by a forced abort' : `died (exit code ${code})`;
    const err = new WorkerCrashedError(`worker ${w} ${died} while ${doing} task '${name}' (${module})${why}`, { cause });
    core.discardPayload(r); // a result it may have written before it died
    if (owner === MAIN_OWNER) {
      const reject = recs.detach(idx);
      recs.free(idx);
      freedMain = true;
      if (reject !== undefined) {
        hooks.settled();
        reject(err);
      }
    } else if (owner === w + 1) {
      core.freeRecord(idx);
    } else {
      core.writeError(r, err);
      core.complete(idx, S_DONE_ERR);
    }
  }
  // 2. Its own records (join sides, nested execs) are orphans from now on.
  Atomics.add(a, core.ctl(w) + W_INCARNATION, 1);
  // 3. Its deque holds only its own records: drop them. Its inbox: re-queue, once.
  for (let x = core.deques[w]!.steal(); x !== EMPTY; x = core.deques[w]!.steal()) {
    if (x < 0) continue;
    core.discardPayload(core.rec(x));
    core.freeRecord(x);
  }
  for (let x = core.inboxes[w]!.pop(); x !== EMPTY; x = core.inboxes[w]!.pop()) hooks.requeue(x);
  return freedMain;
}
