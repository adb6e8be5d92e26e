/**
 * The waiter-queue engine every local primitive (channel, Semaphore, Mutex, RwLock,
 * Notify, Barrier, broadcast, watch, oneshot) parks its callers in.
 *
 * Implementation note. A waiter is one small object holding the resolve/reject pair of the
 * caller's promise plus what it waits for (`n` permits, a message `payload` to hand over).
 * The queue is a {@link Ring} of waiters in arrival order (FIFO service). A waiter that
 * is cancelled (its signal aborted, or a `select` branch that lost) is not spliced out:
 * its `pending` flag drops to false and `live` drops by one, and the waker skips it when it
 * reaches the head. When dead waiters outnumber live ones the ring is compacted, so a loop
 * of aborted waits cannot grow memory without bound.
 *
 * Waking is synchronous: the waker takes the head waiter, marks it settled and resolves it
 * in the same turn, so by the time any other code runs the waiter owns what it was given
 * (a permit, a message); an abort that fires later finds `pending === false` and does
 * nothing. This is what makes every wait cancel-safe.
 */
import { abortReason } from '../../scheduler/abort-reason.js';
import { ABORTED, currentTask, linkPark, resumeTask, unlinkPark, type TaskPark, type TaskRecord } from '../../scheduler/task.js';
import { Ring } from './ring.js';

/**
 * @internal What the queue reads and writes on a parked caller. {@link Waiter} is the
 * general record; a primitive whose result is a per-caller object (a semaphore permit) may
 * give that object these fields instead, so that the waiter *is* the result.
 */
export interface Parked<T> {
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
  /** False once woken, rejected or cancelled. */
  pending: boolean;
  /** The abort listener, when the wait was given a signal. */
  abort: AbortHook | undefined;
}

/**
 * @internal One parked caller. Primitives whose result is a per-caller object (a mutex
 * guard) may subclass it, so that the waiter *is* the result and a contended wait
 * allocates one object besides its promise.
 */
export class Waiter<T = unknown> implements Parked<T> {
  resolve: (value: T) => void = noop;
  reject: (reason: unknown) => void = noop;
  /** False once woken, rejected or cancelled. */
  pending = true;
  /** Permits wanted (semaphore), or a mode flag chosen by the primitive. */
  n: number;
  /** The message a waiting sender hands over, or the receiver a broadcast waiter reads for. */
  payload: unknown;
  abort: AbortHook | undefined = undefined;

  constructor(n: number, payload: unknown) {
    this.n = n;
    this.payload = payload;
  }
}

/** @internal Placeholder resolve/reject of a record that is not parked yet. */
export function noop(): void {}

/**
 * @internal The abort wiring of a waiter: the listener of its signal (`handleEvent`) and/or
 * its link in the park list of the task that made the wait (`cancelForTask`), one object
 * that is also what removing them needs, so a waiter spends one field on abort support,
 * `undefined` when it has neither.
 */
export class AbortHook implements TaskPark {
  parkTask: TaskRecord | undefined = undefined;
  parkPrev: TaskPark | undefined = undefined;
  parkNext: TaskPark | undefined = undefined;
  /** The task the wait belongs to (kept after unlinking, to resume it). */
  task: TaskRecord | undefined = undefined;
  /** The real settle functions of the waiter's promise, when `task` is set. */
  resolve: (value: unknown) => void = noop;
  reject: (reason: unknown) => void = noop;

  constructor(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    private readonly queue: WaiterQueue<any>,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    private readonly w: Parked<any>,
    private readonly signal: AbortSignal | undefined,
    private readonly onCancel: (() => void) | undefined,
  ) {
    if (signal !== undefined) signal.addEventListener('abort', this, { once: true });
  }

  /** The signal aborted: cancel the waiter if still pending, then reject it. */
  handleEvent(): void {
    this.cancelForTask(abortReason(this.signal!));
  }

  /** The task (or the signal) aborted: cancel the waiter if still pending, then reject it with `reason`. */
  cancelForTask(reason: unknown): void {
    if (this.queue.cancel(this.w)) {
      if (this.onCancel !== undefined) this.onCancel();
      this.w.reject(reason);
    }
  }

  /** The waiter settled first: stop listening. */
  detach(): void {
    if (this.signal !== undefined) this.signal.removeEventListener('abort', this);
    if (this.parkTask !== undefined) unlinkPark(this);
  }
}

/** `resolve` of a task's waiter: settles its promise so that the task resumes as the running task. */
function resumeResolve(this: Parked<unknown>, value: unknown): void {
  const hook = this.abort!;
  resumeTask(hook.task!, hook.resolve, value, true);
}

/** `reject` of a task's waiter (see {@link resumeResolve}). */
function resumeReject(this: Parked<unknown>, reason: unknown): void {
  const hook = this.abort!;
  resumeTask(hook.task!, hook.reject, reason);
}

/** @internal A waiter of any payload type, as the queue stores it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyWaiter = Waiter<any>;

/** @internal A FIFO of waiters with lazy removal of cancelled ones. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export class WaiterQueue<W extends Parked<any> = AnyWaiter> {
  readonly ring = new Ring<W>(8);
  /** Number of waiters still pending. */
  live = 0;

  /**
   * Marks `w` settled: no longer pending or counted, its abort listener removed. A waker
   * calls it on the waiter it just shifted off the ring, then resolves or rejects it; a
   * cancelled waiter is settled in place and dropped when it reaches the head.
   */
  settle(w: W): void {
    w.pending = false;
    this.live--;
    if (w.abort !== undefined) w.abort.detach();
  }

  /**
   * Removes the oldest pending waiter and marks it settled (listener removed); the caller
   * then resolves or rejects it. Undefined when none.
   */
  take(): W | undefined {
    const ring = this.ring;
    while (ring.length > 0) {
      const w = ring.shift();
      if (w.pending) {
        this.settle(w);
        return w;
      }
    }
    return undefined;
  }

  /**
   * Removes the newest pending waiter and marks it settled, like {@link WaiterQueue.take}
   * from the other end (`Notify.notifyLast`). Undefined when none.
   */
  takeLast(): W | undefined {
    const ring = this.ring;
    while (ring.length > 0) {
      const w = ring.pop();
      if (w.pending) {
        this.settle(w);
        return w;
      }
    }
    return undefined;
  }

  /** Cancels `w` if still pending (select loser, abort); returns whether it was pending. */
  cancel(w: W): boolean {
    if (!w.pending) return false;
    this.settle(w);
    const ring = this.ring;
    if (ring.length > 32 && ring.length > 2 * this.live) this.compact();
    return true;
  }

  /** Rejects every pending waiter with `reason` (close). */
  rejectAll(reason: unknown): void {
    for (let w = this.take(); w !== undefined; w = this.take()) w.reject(reason);
  }

  /**
   * Creates the promise for `w`, wires `signal` (abort → cancel, `onCancel`, reject with
   * the signal's reason) and appends `w`. The signal must not be aborted already.
   */
  wait<T>(w: W & Parked<T>, signal: AbortSignal | undefined, onCancel?: () => void): Promise<T> {
    const task = currentTask();
    if (task !== undefined) return this.#taskWait(w, task, signal, onCancel);
    const promise = this.#park(w);
    if (signal !== undefined) w.abort = new AbortHook(this, w, signal, onCancel);
    return promise;
  }

  /**
   * Creates the promise for `w` and appends `w`, with no signal to wire: the whole of a
   * contended wait on a hot path. Kept this small, and the executor's closure holding `w`
   * alone, so that V8 inlines it into the caller.
   */
  park<T>(w: W & Parked<T>): Promise<T> {
    const task = currentTask();
    if (task !== undefined) return this.#taskWait(w, task, undefined, undefined);
    return this.#park(w);
  }

  /**
   * A wait made by `task`: rejects at once if the task is aborted already, otherwise parks
   * `w` with a hook in the task's park list (and on `signal`, when given).
   */
  #taskWait<T>(w: W & Parked<T>, task: TaskRecord, signal: AbortSignal | undefined, onCancel: (() => void) | undefined): Promise<T> {
    if (task.state === ABORTED) return Promise.reject(task.value);
    const promise = this.#park(w);
    const hook = new AbortHook(this, w, signal, onCancel);
    hook.task = task;
    hook.resolve = w.resolve as (value: unknown) => void;
    hook.reject = w.reject;
    w.resolve = resumeResolve;
    w.reject = resumeReject;
    w.abort = hook;
    linkPark(task, hook);
    return promise;
  }

  #park<T>(w: W & Parked<T>): Promise<T> {
    const promise = new Promise<T>((resolve, reject) => {
      w.resolve = resolve;
      w.reject = reject;
    });
    this.ring.push(w);
    this.live++;
    return promise;
  }

  /** Appends an already wired waiter (select registers its own). */
  push(w: W): void {
    this.ring.push(w);
    this.live++;
  }

  private compact(): void {
    const items = this.ring.drain();
    for (const w of items) if (w.pending) this.ring.push(w);
  }
}
