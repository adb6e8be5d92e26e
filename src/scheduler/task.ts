/**
 * Local tasks: units of async work on the calling thread.
 *
 * Implementation note. The handle a spawn returns is a *native* promise with four fields
 * added (`id`, `name`, `state`, `abort`): awaiting a native promise takes V8's fast path,
 * while awaiting a thenable class or a Promise subclass costs about a third more per
 * task on Node 20. The bookkeeping lives in a `TaskRecord`, which the body also receives
 * as its context (`cx.signal`, `cx.id`, `cx.name`).
 *
 * The handle is a promise reaction: `STARTED.then(startNext)`, queued at spawn time. Its
 * job defers the body to a microtask (no body runs before the spawner yields: tokio's
 * semantics, and a real `pending` state), and, because a reaction runs in the
 * AsyncLocalStorage context it was made in, the body runs in the context of the spawner —
 * every user store included. `startNext` finds its task without a closure: records wait in
 * a FIFO in spawn order, and microtasks run in the order they were queued. A body that
 * returns a promise hands the handle `promise.then(done, threw)`, two functions bound to the
 * record that do the bookkeeping; the handle adopts that promise. One shape skips even
 * those: a body that returns the promise of its own latest wait, made as it started
 * (`spawn(() => sleep(ms))`), hands the handle that promise itself, and the wait calls
 * `tailSettled` when it settles (see {@link offerTail}). Measured on Node 24 (heap snapshot,
 * 100,000 such tasks): 698 → 578 B per sleeping task, no derived promise, reaction or bound
 * function left behind (500 B once the sleep also kept its timer by entry index, see
 * `TimerWheel.cancelTarget`). Only waits that know this (a task's own `sleep`) offer themselves.
 * One difference to the usual path, for a body that also attaches its own reactions to the
 * promise it returns: those run after the task is done and outside it, not inside it.
 *
 * Why not an async function (`async function runTask(record) { await STARTED; ... await
 * body() }`, the design until 2026-12): a waiting async function holds its generator, its
 * registers and two await closures with their context. Measured on Node 24 (heap per task
 * whose body waits on one shared promise, record included): 664 B with the async function,
 * 432 B with reactions; 200,000 tasks alive at once spawned and joined 1.4× faster. (An
 * earlier reaction version, 808 B, kept the handle's resolving functions and closures; these
 * cost more than the generator. This one keeps neither: the handle is a derived promise and
 * adopts the bookkeeping promise, which V8 does with one reaction and no resolving functions.) A
 * shared run queue drained by *one* microtask was measured faster still, but it ran every
 * task of a batch in the first spawner's context, which is wrong; one reaction per task
 * keeps each spawner's context.
 *
 * A body that returns a plain value (not a thenable) is not awaited: the task is done in
 * the turn its body ran, one promise and one turn fewer (1.5 → 2.4 M tasks/s for
 * spawn+join in one measurement).
 *
 * Records are nodes of an intrusive doubly linked list of live tasks (O(1) insert and
 * remove, no Set). The AbortController behind `cx.signal` is created only when a body
 * reads it.
 *
 * Abort at the next await. A task does not run in an AsyncLocalStorage store of its own
 * (entering one costs about 500 ns and a 150–200 B frame per task on Node 24), so Zokio
 * tracks the running task itself, in `runningTask`: set around the body's first synchronous
 * run, and, for a continuation resumed by one of the task's own waits, by `resumeTask`,
 * which queues a microtask that sets it before settling the wait's promise (the await's
 * reaction job is queued by that settle) and one that clears it after. A wait made while
 * the task is known links itself into the task's park list (`park`); `abort` rejects
 * every wait in that list. No AbortController is created for this. A wait that has
 * nothing to wait for (an uncontended acquire, bytes already received) returns a promise
 * that `resumeTask` settles one microtask later (`readyFor`), not one settled already:
 * awaiting that would resume the body with no `resumeTask`, and Zokio would lose the task
 * from there on. Zokio calls made of several steps (`connect`, `bind`, a listener's
 * iterator) settle through `taskWait` for the same reason.
 */
import { TaskAbortedError } from '../errors.js';
import { Ring } from '../sync/internal/ring.js';
import { isThenable } from './thenable.js';

/** Where a task is in its life. */
export type TaskState = 'pending' | 'running' | 'done' | 'failed' | 'aborted';

/** @internal */ export const PENDING = 0;
/** @internal */ export const RUNNING = 1;
/** @internal */ export const DONE = 2;
/** @internal */ export const FAILED = 3;
/** @internal */ export const ABORTED = 4;
const STATE_NAMES: readonly TaskState[] = ['pending', 'running', 'done', 'failed', 'aborted'];

/** Options for spawning a task. */
export interface SpawnOptions {
  /** A name for reports, traces and errors. */
  readonly name?: string;
  /** Aborts the task when this signal aborts. */
  readonly signal?: AbortSignal;
}

/**
 * A handle to a task running on this thread: a native promise of the result with the
 * task's `id`, `name`, `state` and `abort`.
 *
 * @example
 * ```ts
 * import { Runtime } from 'zokio';
 * const rt = Runtime.builder().build();
 * const task = rt.spawn(async () => 21 * 2, { name: 'answer' });
 * console.log(task.state); // 'pending' until the spawner yields
 * console.log(await task, task.state); // 42 'done'
 * await rt.shutdown();
 * ```
 *
 * *Cancellation*: `abort(reason)` stops a task that has not started (it never runs). A
 * running task stops at its next await of a Zokio wait: every `sleep`, `timeout`,
 * `deadline`, `interval` tick, channel `send`/`recv`, `Semaphore.acquire`, `Mutex.lock`,
 * `RwLock` read/write, `Notify.notified`, `Barrier.wait`, oneshot/watch/broadcast wait,
 * socket read (`read`, `readExact`, a stream's async iterator, `accept`), `connect`, write
 * waiting for drain, `child.wait()` and wait for an fs slot that the task's code is parked
 * on rejects with `reason` (the body's `catch`/`finally` run, the rest of it does not), and
 * `cx.signal` aborts (`rt.exec` and HTTP requests inside the task use it). Zokio knows
 * which task a wait belongs to while the body runs up to its first await, and after every
 * await of one of its own Zokio waits, awaited directly (`await sleep(5)`,
 * `await conn.read()`, also inside async helpers the body calls), whether the wait waited or
 * had nothing to wait for (an uncontended `acquire`, a message or bytes already there, a
 * `write` under the high-water mark), and after an await of `connect`, a listener's `bind`
 * and `close`, a step of a listener's, a stream's or a framed stream's async iterator,
 * `readExact`, `readLine`, a framed stream's `read`, `select`, `rt.exec`, `rt.map`,
 * `rt.spawnBlocking`, a `zokio/fs` call, a step of `walk` or a `FileHandle` method, the
 * HTTP client's `request`, `fetch` and a response's `json`, `text` and `bytes`, `serve`
 * and a server's `close`, a stream's `end` and `close`, `spawnProcess`, `output`, a
 * child's `terminate` and dispose, `JoinSet`'s joins, and `joinAll`, `race` and
 * `allSettled`. After an await of anything else (a foreign promise, a `Task` handle, the
 * promise of an async function of your own, `Promise.all`/`race`, a `.then` chained on
 * a Zokio promise) it does not know it
 * until that code reaches a body's next own wait, so a wait made there is not
 * task-aware: pass `cx.signal` to it. A foreign promise is never interrupted: a task parked on one stops
 * when it settles. Awaiting an aborted task rejects with `TaskAbortedError` (its `cause`
 * is the reason) once the body has returned. At `rt.shutdown()` every live task is aborted
 * with `RuntimeClosedError` and every pending timer wait rejects with it.
 */
export type Task<T = unknown> = Promise<T> & TaskHandle;

/** The fields a {@link Task} adds to its promise. */
export interface TaskHandle {
  /** Unique id of this task within the process. */
  readonly id: number;
  /** The name given at spawn time, if any. */
  readonly name: string | undefined;
  /** Where the task is in its life. */
  readonly state: TaskState;
  /** Aborts the task; no effect once it has finished. */
  abort(reason?: unknown): void;
}

/** What a task body receives: its identity and its abort signal. */
export interface TaskContext {
  /** The task's id. */
  readonly id: number;
  /** The task's name, if any. */
  readonly name: string | undefined;
  /** Aborted when the task is aborted, its scope fails or the runtime shuts down. */
  readonly signal: AbortSignal;
}

/** The body of a task. */
export type TaskBody<T> = (cx: TaskContext) => T | PromiseLike<T>;

/** @internal Something that owns tasks and is told when they finish (an executor or a scope). */
export interface TaskOwner {
  /** @internal */ _taskSettled(record: TaskRecord): void;
}

let nextTaskId = 1;

/** @internal `abort` of every task handle: one shared function, no closure per task. */
function abortHandle(this: { _record: TaskRecord }, reason?: unknown): void {
  this._record.abort(reason);
}

/** The signals of a task that has any, apart from its record (one slot there for both). */
class TaskSignals {
  /** Behind `cx.signal`: created when the body first reads it. */
  controller: AbortController | undefined = undefined;
  /** The spawn-time signal while its listener (the record) is attached. */
  user: AbortSignal | undefined = undefined;
}

/** @internal The bookkeeping of one task; also the context its body receives. */
export class TaskRecord implements TaskContext {
  /** The handle, which also holds the task's `id` and `name` (one copy of each per task). */
  handle!: Task<unknown>;
  state = PENDING;
  /** The body until it starts (one slot fewer per task), then the result, failure or abort reason. */
  value: unknown;
  owner: TaskOwner;
  /** The signals only some tasks have, in one slot (most tasks have neither). */
  signals: TaskSignals | undefined = undefined;
  prev: TaskRecord | undefined = undefined;
  next: TaskRecord | undefined = undefined;
  /** The Zokio waits this task is parked on (a list through `parkNext`), cancelled by an abort. */
  park: TaskPark | undefined = undefined;
  /** The wait whose own promise the body returned and the handle adopts (see {@link offerTail}). */
  tail: TaskPark | undefined = undefined;

  constructor(owner: TaskOwner, body: TaskBody<unknown>) {
    this.owner = owner;
    this.value = body;
  }

  /** Wraps the promise of `startTask(this)` as the task's handle, which gets a new id and `name`. */
  attachHandle(promise: Promise<unknown>, name: string | undefined): Task<unknown> {
    const handle = promise as Task<unknown> & { _record: TaskRecord; id: number; name: string | undefined; state: TaskState };
    handle._record = this;
    handle.id = nextTaskId++;
    handle.name = name;
    handle.state = STATE_NAMES[this.state]!;
    handle.abort = abortHandle;
    this.handle = handle;
    return handle;
  }

  get id(): number {
    return this.handle.id;
  }

  get name(): string | undefined {
    return this.handle.name;
  }

  get signal(): AbortSignal {
    const signals = (this.signals ??= new TaskSignals());
    if (signals.controller === undefined) {
      signals.controller = new AbortController();
      if (this.state === ABORTED) signals.controller.abort(this.value);
    }
    return signals.controller.signal;
  }

  /** A label for messages. */
  get label(): string {
    return this.name === undefined ? `#${this.id}` : `'${this.name}' (#${this.id})`;
  }

  /** Hooks the spawn-time signal up; called once the task is linked into its owner. */
  attachSignal(signal: AbortSignal): void {
    if (signal.aborted) {
      this.abort(signal.reason);
      return;
    }
    (this.signals ??= new TaskSignals()).user = signal;
    signal.addEventListener('abort', this, { once: true });
  }

  /** The spawn-time signal aborted (the record is its listener: no closure per task). */
  handleEvent(): void {
    this.abort(this.signals!.user!.reason);
  }

  /** Aborts: a pending task never starts; a running one sees its signal abort. */
  abort(reason?: unknown): void {
    if (this.state > RUNNING) return;
    const wasPending = this.state === PENDING;
    this.finish(ABORTED, reason === undefined ? new TaskAbortedError(`task ${this.label} aborted`) : reason);
    if (wasPending) {
      this.handle.catch(noop);
    }
  }

  /** The error an awaiter of an aborted task sees. */
  abortError(): TaskAbortedError {
    const reason = this.value;
    if (reason instanceof TaskAbortedError) return reason;
    const why = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : undefined;
    return new TaskAbortedError(`task ${this.label} aborted${why === undefined ? '' : `: ${why}`}`, { cause: reason });
  }

  setState(state: number): void {
    this.state = state;
    (this.handle as { state: TaskState }).state = STATE_NAMES[state]!;
  }

  /** Records the outcome, unhooks the user's signal, aborts ours, tells the owner. */
  finish(state: number, value: unknown): void {
    if (this.state > RUNNING) return;
    this.setState(state);
    this.value = value;
    const signals = this.signals;
    if (signals !== undefined) {
      if (signals.user !== undefined) {
        signals.user.removeEventListener('abort', this);
        signals.user = undefined;
      }
      const controller = signals.controller;
      if (state === ABORTED && controller !== undefined && !controller.signal.aborted) controller.abort(value);
    }
    this.owner._taskSettled(this);
    if (state === ABORTED) this.cancelParks(value);
  }

  /** The body's promise fulfilled: bookkeeping, then the handle's value (bound by `startNext`). */
  bodyDone(value: unknown): unknown {
    return bodyReturned(this, value);
  }

  /** The body's promise rejected: bookkeeping, then the handle's reason (bound by `startNext`). */
  bodyThrew(err: unknown): never {
    throw bodyFailed(this, err);
  }

  /** Rejects every Zokio wait the task is parked on with `reason` (abort at the next await). */
  cancelParks(reason: unknown): void {
    let park = this.park;
    this.park = undefined;
    while (park !== undefined) {
      const next = park.parkNext;
      // Detached from its neighbours but still naming the task, which the wait resumes;
      // its own unlink then finds an empty list.
      park.parkPrev = park.parkNext = undefined;
      park.cancelForTask(reason);
      park.parkTask = undefined;
      this.park = undefined;
      park = next;
    }
  }
}

/**
 * @internal A Zokio wait parked by a task: linked into the task's `park` list while it is
 * pending, cancelled (rejected with the abort reason) when the task is aborted.
 */
export interface TaskPark {
  parkTask: TaskRecord | undefined;
  parkPrev: TaskPark | undefined;
  parkNext: TaskPark | undefined;
  /** The task was aborted: stop waiting and reject with `reason` (once). */
  cancelForTask(reason: unknown): void;
}

/** @internal A {@link TaskPark} that calls `cancel(reason)` when its task is aborted (waits made of several parts). */
export class ParkCallback implements TaskPark {
  parkTask: TaskRecord | undefined = undefined;
  parkPrev: TaskPark | undefined = undefined;
  parkNext: TaskPark | undefined = undefined;
  readonly cancel: (reason: unknown) => void;

  constructor(cancel: (reason: unknown) => void) {
    this.cancel = cancel;
  }

  cancelForTask(reason: unknown): void {
    this.cancel(reason);
  }
}

/** @internal Links `park` into `task`'s list of pending waits. */
export function linkPark(task: TaskRecord, park: TaskPark): void {
  park.parkTask = task;
  const head = task.park;
  park.parkNext = head;
  if (head !== undefined) head.parkPrev = park;
  task.park = park;
}

/** @internal Unlinks `park` from its task (the wait settled on its own); no effect if not linked. */
export function unlinkPark(park: TaskPark): void {
  const task = park.parkTask;
  if (task === undefined) return;
  const prev = park.parkPrev;
  const next = park.parkNext;
  if (prev !== undefined) prev.parkNext = next;
  else task.park = next;
  if (next !== undefined) next.parkPrev = prev;
  park.parkTask = park.parkPrev = park.parkNext = undefined;
}

/**
 * The task whose code Zokio knows to be running now: set while a body runs its first
 * synchronous part, and while a continuation resumed by one of the task's own Zokio waits
 * runs (see {@link resumeTask}). Undefined elsewhere.
 */
let runningTask: TaskRecord | undefined;

/** @internal The running task, if Zokio knows it (see `runningTask`): a live, non-aborted one only matters. */
export function currentTask(): TaskRecord | undefined {
  return runningTask;
}

/**
 * Tasks whose resumption is queued, in queue order (a FIFO: microtasks run in order). A
 * ring, not an array with a moving head: resumptions that keep overlapping never let an
 * array drain, and its head would walk on for ever.
 */
const resumeQueue = new Ring<TaskRecord>(64);

function enterResumed(): void {
  runningTask = resumeQueue.shift();
  resumeQueue.shrinkIfEmpty(QUEUE_KEEP);
}

/** The slots a drained task queue keeps (see `Ring.shrinkIfEmpty`). */
const QUEUE_KEEP = 1024;

function leaveResumed(): void {
  runningTask = undefined;
}

/**
 * @internal Settles a wait of `task` (`settle(value)`, a resolve or reject function) so that
 * the continuation awaiting it runs with `task` as the running task: one microtask before
 * the settle sets it, one after clears it. The await's own reaction job is queued by the
 * settle, between the two, so the code that runs in between is the awaiting continuation
 * (and any other reaction registered on this very promise). `ok`: `settle` fulfils (see
 * the first line of the body).
 */
export function resumeTask<T>(task: TaskRecord, settle: (value: T) => void, value: T, ok = false): void {
  // A task aborted after its wait succeeded goes on as itself, so that its next Zokio wait
  // rejects with the abort reason (`rejectIfAborted`); after a rejection (the abort's own,
  // or a failure) its catch/finally run as unknown code, free to await their cleanup.
  if (task.state !== RUNNING && !(ok && task.state === ABORTED)) {
    settle(value);
    return;
  }
  resumeQueue.push(task);
  void STARTED.then(enterResumed);
  settle(value);
  void STARTED.then(leaveResumed);
}

/**
 * @internal For the start of a wait's fast path: a rejection with the abort reason when the
 * code running now is a task that was aborted (after a wait of it had succeeded), else
 * `undefined`. Checked before the wait takes anything (a permit, a message), so nothing is
 * taken that the task would never see.
 */
export function rejectIfAborted(): Promise<never> | undefined {
  const task = runningTask;
  return task !== undefined && task.state === ABORTED ? Promise.reject(task.value) : undefined;
}

/**
 * @internal The promise a Zokio wait returns when it has nothing to wait for (an
 * uncontended acquire, a send with room, bytes already received): `Promise.resolve(value)`
 * outside a task. Inside one it must not be a promise that is settled already: awaiting
 * that resumes the body with no {@link resumeTask}, so Zokio would lose the task, and the
 * body's later waits would not stop at an abort. So it settles one microtask later,
 * through `resumeTask`, and the body goes on as the running task.
 */
export function readyFor<T>(value: T): Promise<T> {
  const task = runningTask;
  return task === undefined ? Promise.resolve(value) : settleSoon(task, value, true);
}

/** @internal {@link readyFor} for a wait with no value: `outside` (a shared resolved promise) outside a task. */
export function readyVoid(outside: Promise<void>): Promise<void> {
  const task = runningTask;
  return task === undefined ? outside : settleSoon(task, undefined, true);
}

/** @internal {@link readyFor} for a wait that fails at once: `Promise.reject(reason)` outside a task. */
export function failedFor(reason: unknown): Promise<never> {
  const task = runningTask;
  return task === undefined ? Promise.reject(reason) : settleSoon(task, reason, false);
}

/**
 * @internal The promise of a Zokio call made of several steps (an async function such as
 * `connect` or `bind`, a wait wrapped in a conversion): outside a task, `work` itself.
 * Inside one, a promise that settles with `work` through {@link resumeTask}, so that the
 * caller's await resumes the body as the running task (see {@link readyFor}).
 */
export function taskWait<T>(work: Promise<T>): Promise<T> {
  const task = runningTask;
  if (task === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    work.then(
      (value) => resumeTask(task, resolve, value, true),
      (err: unknown) => resumeTask(task, reject, err),
    );
  });
}

/**
 * @internal An async generator whose steps settle through {@link taskWait} (an async
 * generator made task-aware: `next`, `return`, `throw` and `[Symbol.asyncDispose]`).
 */
export function taskIterator<T>(iterator: AsyncGenerator<T, void, undefined>): AsyncGenerator<T, void, undefined> {
  const steps: AsyncGenerator<T, void, undefined> = {
    next: () => taskWait(iterator.next()),
    return: (value) => taskWait(iterator.return(value)),
    throw: (err: unknown) => taskWait(iterator.throw(err)),
    [Symbol.asyncIterator]: () => steps,
    [Symbol.asyncDispose]: () => taskWait(iterator.return(undefined).then(() => undefined)),
  };
  return steps;
}

/**
 * Ready results waiting for their settle job, in queue order (the n-th `settleReady` job
 * belongs to the n-th entry, as with `startQueue`): four slots per entry (task, settle
 * function, value, whether it fulfils) in one ring, no object per result.
 */
const readyQueue = new Ring<unknown>(64);

/** Whether the promise being made settles by resolving; its settle function lands in `madeSettle` (one shared executor, no closure per call). */
let makingOk = true;
let madeSettle: ((value: unknown) => void) | undefined;
function captureSettle(resolve: (value: never) => void, reject: (reason: unknown) => void): void {
  madeSettle = makingOk ? (resolve as (value: unknown) => void) : reject;
}

function settleSoon(task: TaskRecord, value: unknown, ok: boolean): Promise<never> {
  makingOk = ok;
  const promise = new Promise<never>(captureSettle);
  readyQueue.push(task);
  readyQueue.push(madeSettle);
  readyQueue.push(value);
  readyQueue.push(ok);
  madeSettle = undefined;
  void STARTED.then(settleReady);
  return promise;
}

function settleReady(): void {
  const queue = readyQueue;
  const task = queue.shift() as TaskRecord;
  const settle = queue.shift() as (value: unknown) => void;
  const value = queue.shift();
  const ok = queue.shift() as boolean;
  queue.shrinkIfEmpty(QUEUE_KEEP);
  resumeTask(task, settle, value, ok);
}

function noop(): void {}

/** A resolved promise whose reactions start tasks (see {@link startTask}). */
const STARTED = Promise.resolve();

/** The native `then`, called on a body's promise whatever its class overrides. */
const promiseThen = Promise.prototype.then;

/**
 * Tasks whose start reaction is queued, in spawn order. Microtasks run first in, first out,
 * and every entry has exactly one `startNext` reaction queued behind it, so the n-th run of
 * `startNext` belongs to the n-th entry: the reaction needs no closure to find its task. (A
 * ring: tasks that spawn as they start keep it from ever draining.)
 */
const startQueue = new Ring<TaskRecord>(64);

/** @internal Slots held by the queues of tasks to start and to resume (for tests: they stay bounded). */
export function taskQueueSlots(): number {
  return startQueue.buf.length + resumeQueue.buf.length + readyQueue.buf.length;
}

/**
 * @internal The life of one task, as promise reactions (no async function: see the file's
 * note). Called at spawn time, inside the store the task must run in; the returned promise
 * is the task's handle. It is the reaction of `STARTED` to `startNext`, queued now and so
 * run in the spawner's context on the next microtask: the body never runs before the
 * spawner yields.
 */
export function startTask(record: TaskRecord): Promise<unknown> {
  startQueue.push(record);
  return STARTED.then(startNext);
}

/**
 * Starts the task at the head of `startQueue`. A body that returns a plain value settles
 * the handle with it now; one that returns a thenable hands the handle a promise that
 * settles after the bookkeeping (`record.bodyDone`/`bodyThrew`, bound to the record: that
 * promise and two small bound functions are all a waiting task adds to its record and handle).
 */
function startNext(): unknown {
  const record = startQueue.shift();
  startQueue.shrinkIfEmpty(QUEUE_KEEP);
  if (record.state !== PENDING) throw record.abortError(); // aborted before its start
  let value: unknown;
  try {
    value = startBody(record);
  } catch (err) {
    throw bodyFailed(record, err);
  }
  if (!isThenable(value)) return bodyReturned(record, value); // a plain value is not awaited (see the file's note)
  if (value === tailPromise && tailPark!.parkTask === record) {
    // The body returned the promise of its own latest wait (`() => sleep(ms)`): the handle
    // adopts that promise, and the wait does the bookkeeping when it settles.
    record.tail = tailPark;
    tailPromise = tailPark = undefined;
    return value;
  }
  tailPromise = tailPark = undefined;
  const promise = value instanceof Promise ? value : Promise.resolve(value);
  // Bound methods, not bound plain functions: the dev loader (tsx, esbuild's keepNames)
  // redefines the `name` of every plain function, which sends `bind` to its slow path (a
  // "bound …" string and a property array per call: 880 B against 320 B per waiting task).
  return promiseThen.call(promise, record.bodyDone.bind(record), record.bodyThrew.bind(record));
}

/** Runs the body of a task that was not aborted before its start. */
function startBody(record: TaskRecord): unknown {
  record.setState(RUNNING);
  const body = record.value as TaskBody<unknown>;
  record.value = undefined;
  const outer = runningTask;
  runningTask = startingTask = record;
  try {
    return body(record);
  } finally {
    runningTask = outer;
    startingTask = undefined;
  }
}

/** The promise of the latest wait that offered itself as a tail ({@link offerTail}), and the wait. */
let tailPromise: Promise<unknown> | undefined;
let tailPark: TaskPark | undefined;
/** The task whose body is running its first synchronous part now (in {@link startBody}). */
let startingTask: TaskRecord | undefined;

/**
 * @internal A wait made inside a task offers its promise as the body's tail: when the body
 * returns exactly that promise (`spawn(() => sleep(ms))`), `startNext` hands it to the
 * handle instead of `promise.then(done, threw)`, which saves a derived promise, a reaction
 * and two bound functions per waiting task. The wait must then settle its promise through
 * {@link tailSettled} (it is the task's `tail`), which does that bookkeeping.
 */
export function offerTail(promise: Promise<unknown>, park: TaskPark): void {
  if (startingTask === undefined || park.parkTask !== startingTask) return; // not made by a body as it starts
  tailPromise = promise;
  tailPark = park;
}

/**
 * @internal The tail wait of `record` settled, with `value` or (`ok` false) failing with
 * it: does the bookkeeping `bodyDone`/`bodyThrew` would have done, and returns how the
 * wait's promise (which the handle adopts) must settle: fulfilled or rejected, with what.
 */
export function tailSettled(record: TaskRecord, ok: boolean, value: unknown): readonly [ok: boolean, value: unknown] {
  record.tail = undefined;
  if (ok && record.state !== ABORTED) {
    record.finish(DONE, value);
    return [true, value];
  }
  return [false, bodyFailed(record, ok ? undefined : value)];
}

/** Bookkeeping for a body that threw: returns what the handle rejects with. */
function bodyFailed(record: TaskRecord, err: unknown): unknown {
  // Nobody may ever await this task: its failure must not become an unhandled rejection.
  record.handle.catch(noop);
  if (record.state === ABORTED) return record.abortError();
  record.finish(FAILED, err);
  return err;
}

/** Bookkeeping for a body that returned: the value, or the abort error if it was aborted meanwhile. */
function bodyReturned(record: TaskRecord, value: unknown): unknown {
  if (record.state === ABORTED) {
    record.handle.catch(noop);
    throw record.abortError();
  }
  record.finish(DONE, value);
  return value;
}

/** True when `value` is a task handle returned by `spawn`. */
export function isTask(value: unknown): value is Task<unknown> {
  return value instanceof Promise && (value as { _record?: unknown })._record instanceof TaskRecord;
}
