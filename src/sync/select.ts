/**
 * `select`: wait on several branches (channel receives, promises, a timeout, abort
 * signals) and learn which one fired first (tokio's `select!`).
 *
 * Implementation note. First a synchronous pass polls the branches that can be polled
 * (receivers with a buffered message, signals already aborted), in order when `biased`,
 * from a random start otherwise. If none is ready, a waiter is registered on every
 * receiver and listeners on the other branches. The first branch to fire settles the
 * select and, in the same synchronous step, cancels every other registration; a channel
 * only hands a message to a waiter that is still pending, so losing receivers keep their
 * messages.
 */
import { ChannelClosedError } from '../errors.js';
import { currentTask, failedFor, linkPark, ParkCallback, readyFor, rejectIfAborted, resumeTask, unlinkPark } from '../scheduler/task.js';
import { abortReason, sleep } from '../scheduler/time.js';
import { checkDelay } from '../scheduler/time.js';
import { DRAINED, NOT_READY, SELECT_SOURCE, type Selectable } from './internal/selectable.js';
import { Waiter, type WaiterQueue } from './internal/waiter-queue.js';

/** A timeout branch of {@link select}, made by {@link after}. */
export interface TimeoutBranch {
  /** Marks the branch as a timeout. */
  readonly kind: 'timeout';
  /** Delay in milliseconds from the start of the select, on the runtime's clock. */
  readonly ms: number;
}

/**
 * A timeout branch for {@link select}: fires `ms` milliseconds after the select starts,
 * on the runtime's clock.
 *
 * @example
 * ```ts
 * import { after, channel, select } from 'zokio/sync';
 * const [, rx] = channel<string>(1);
 * const r = await select({ msg: rx, timeout: after(5) });
 * if (r.key === 'timeout') console.log('nothing within 5 ms');
 * ```
 */
export function after(ms: number): TimeoutBranch {
  return { kind: 'timeout', ms: checkDelay(ms, 'ms') };
}

/** Anything {@link select} can wait on. */
export type SelectBranch = Selectable<unknown> | PromiseLike<unknown> | AbortSignal | TimeoutBranch;

/** The value a branch yields when it fires. */
export type SelectBranchValue<B> = B extends Selectable<infer T>
  ? T
  : B extends AbortSignal
    ? unknown
    : B extends TimeoutBranch
      ? undefined
      : B extends PromiseLike<infer T>
        ? T
        : never;

/** Which branch fired, and its value: a union discriminated by `key`. */
export type SelectResult<B extends Record<string, SelectBranch>> = {
  [K in keyof B & string]: {
    /** The key of the branch that fired, as written in the `branches` object. */
    readonly key: K;
    /** What that branch yielded: the message, the promise's value, the abort reason, or `undefined` for a timeout. */
    readonly value: SelectBranchValue<B[K]>;
  };
}[keyof B & string];

/** Options for {@link select}. */
export interface SelectOptions {
  /**
   * Check branches in the order they are written instead of from a random start, so that
   * earlier branches win when several are ready at once.
   * @default false
   */
  readonly biased?: boolean;
  /** Stops the whole select when this signal aborts. */
  readonly signal?: AbortSignal;
}

function isSelectable(value: unknown): value is Selectable<unknown> {
  return typeof value === 'object' && value !== null && SELECT_SOURCE in value;
}

function isTimeout(value: unknown): value is TimeoutBranch {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'timeout' && typeof (value as { ms?: unknown }).ms === 'number';
}

/**
 * Waits until the first of several branches fires and returns `{ key, value }` for it.
 *
 * Branches, by value type:
 * - a channel `Receiver` or `OneshotReceiver`: fires with the next message. A receiver that
 *   is closed and drained is disabled; if every branch is a disabled receiver the select
 *   rejects with `ChannelClosedError`.
 * - a promise: fires with its value; its rejection rejects the select.
 * - `after(ms)`: fires with `undefined` after `ms` milliseconds (the runtime's `sleep`).
 * - an `AbortSignal`: fires with its reason when it aborts (at once if already aborted).
 *
 * Use it for "whichever comes first": a message or a shutdown signal, a reply or a
 * timeout.
 *
 * @example
 * ```ts
 * import { after, channel, select } from 'zokio/sync';
 * const [tx, jobs] = channel<string>(8);
 * const shutdown = new AbortController();
 * await tx.send('job-1');
 * const r = await select({ job: jobs, stop: shutdown.signal, idle: after(1000) }, { biased: true });
 * switch (r.key) {
 *   case 'job': console.log('got', r.value); break;
 *   case 'stop': console.log('stopping'); break;
 *   case 'idle': console.log('idle'); break;
 * }
 * ```
 *
 * *Ordering*: with `biased: true`, branches that are ready when `select` is called are
 * checked in the order written; otherwise from a random start so no branch starves.
 * Promises are only seen once they settle, after that synchronous pass.
 *
 * *Cancellation*: branches that do not fire take nothing: no message is removed from a
 * losing receiver, timers are cancelled and listeners removed. When `options.signal`
 * aborts, the select rejects with its reason and, likewise, takes nothing.
 */
export function select<B extends Record<string, SelectBranch>>(branches: B, options?: SelectOptions): Promise<SelectResult<B>> {
  const keys = Object.keys(branches) as (keyof B & string)[];
  const count = keys.length;
  const abortedTask = rejectIfAborted();
  if (abortedTask !== undefined) return abortedTask;
  const signal = options?.signal;
  if (signal !== undefined && signal.aborted) return failedFor(abortReason(signal));
  const task = currentTask();
  const start = options?.biased === true || count === 0 ? 0 : Math.floor(Math.random() * count);

  // Synchronous pass: a buffered message or an aborted signal wins at once.
  let enabled = 0;
  for (let i = 0; i < count; i++) {
    const key = keys[(start + i) % count]!;
    const branch = branches[key] as SelectBranch;
    if (isSelectable(branch)) {
      const polled = branch[SELECT_SOURCE].poll();
      if (polled === NOT_READY) enabled++;
      else if (polled !== DRAINED) return readyFor({ key, value: polled } as SelectResult<B>);
    } else if (branch instanceof AbortSignal) {
      if (branch.aborted) return readyFor({ key, value: branch.reason } as SelectResult<B>);
      enabled++;
    } else {
      enabled++;
    }
  }
  if (enabled === 0) return failedFor(new ChannelClosedError('every select branch is a closed channel'));

  return new Promise<SelectResult<B>>((resolveOuter, rejectOuter) => {
    // Made by a known task: its abort rejects the select, and the winner resumes it as that task.
    const resolve = task === undefined ? resolveOuter : (result: SelectResult<B>): void => resumeTask(task, resolveOuter, result, true);
    const reject = task === undefined ? rejectOuter : (err: unknown): void => resumeTask(task, rejectOuter, err);
    let done = false;
    const cleanups: (() => void)[] = [];
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      for (const cleanup of cleanups) cleanup();
      return true;
    };
    const win = (key: string, value: unknown): void => {
      if (finish()) resolve({ key, value } as SelectResult<B>);
    };
    const fail = (err: unknown): void => {
      if (finish()) reject(err);
    };

    for (let i = 0; i < count && !done; i++) {
      const key = keys[(start + i) % count]!;
      const branch = branches[key] as SelectBranch;
      if (isSelectable(branch)) {
        const w = new Waiter<unknown>(0, undefined);
        let queue: WaiterQueue | undefined;
        w.resolve = (value) => win(key, value);
        w.reject = () => {
          // Closed and drained: this branch is disabled.
          if (--enabled === 0) fail(new ChannelClosedError('every select branch is a closed channel'));
        };
        queue = branch[SELECT_SOURCE].register(w);
        cleanups.push(() => queue!.cancel(w));
      } else if (branch instanceof AbortSignal) {
        const onAbort = (): void => win(key, branch.reason);
        branch.addEventListener('abort', onAbort, { once: true });
        cleanups.push(() => branch.removeEventListener('abort', onAbort));
      } else if (isTimeout(branch)) {
        const timer = new AbortController();
        sleep(branch.ms, { signal: timer.signal }).then(
          () => win(key, undefined),
          () => {},
        );
        cleanups.push(() => timer.abort());
      } else {
        Promise.resolve(branch).then(
          (value) => win(key, value),
          (err: unknown) => fail(err),
        );
      }
    }
    if (task !== undefined && !done) {
      const park = new ParkCallback(fail);
      linkPark(task, park);
      cleanups.push(() => unlinkPark(park));
    }
    if (signal !== undefined && !done) {
      const onAbort = (): void => fail(abortReason(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => signal.removeEventListener('abort', onAbort));
    }
  });
}
