/**
 * `rt.remote`: submits task calls as BullMQ jobs and delivers each result to its caller once.
 *
 * Implementation note. Results are never lost between a job's completion and the caller's
 * read: a call registers its waiter under a job id it chose itself *before* the job is
 * added; the events reader (one `QueueEvents` per client) starts from the id the events
 * stream had when the client connected, not from "now"; and besides the events, pending
 * calls are checked by reading their job every `pollMs` and after every reconnect of the
 * events connection, so an event missed while Redis was away is made up for. A waiter is
 * removed when it settles, so each caller sees its result once however many of these
 * paths report it.
 *
 * The producer connection has no offline queue: with Redis down, `exec` fails at once
 * with `RemoteUnavailableError` instead of waiting. Calls already submitted keep waiting
 * (the events connection reconnects) and complete when Redis is back.
 *
 * @module
 */
import { RemoteUnavailableError, RuntimeClosedError, TaskAbortedError, TaskArgumentError, TimeoutError } from '../errors.js';
import { bounded } from '../runtime/bounded.js';
import type { TaskRef } from '../scheduler/task-ref.js';
import type { SendableArgs } from '../scheduler/task-registry.js';
import { submitTraceContext } from '../scheduler/pool/worker-pool.js';
import { decodeValue, DEFAULT_MAX_PAYLOAD_BYTES, encodeValue } from './encoding.js';
import { callJobId, cancelChannel, disconnectAll, errorFromReason, jobIdForKey, loadBullMQ, loadIORedis, redisClient, type JobData } from './job.js';
import { checkDistributedConfig, type DistributedConfig } from './options.js';
import type { Queue, QueueEvents, JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';

/** Options of one remote call: `rt.remote.exec(options, ref, ...args)`. */
export interface RemoteExecOptions {
  /**
   * Idempotency key: the job id is derived from it, so a repeated call with the same key
   * (from this process or another) attaches to the existing job instead of adding one,
   * for as long as the finished job is kept (`defaults.keepFinishedSeconds`).
   */
  readonly key?: string;
  /** Removes the job while it waits; aborts it (`currentTaskSignal()`) while it runs. */
  readonly signal?: AbortSignal;
  /** Reject with `TimeoutError` (and cancel the job) after this long, in ms. */
  readonly timeoutMs?: number;
  /** BullMQ priority, 1 (highest) .. 2_097_152. */
  readonly priority?: number;
  /** Attempts for this call, counting the first. */
  readonly attempts?: number;
  /** Called with what the task reports through `reportProgress(value)`. */
  readonly onProgress?: (progress: unknown) => void;
}

/** Options of `rt.remote.map`. */
export interface RemoteMapOptions {
  /** Called as results arrive, with how many are done. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Removes waiting jobs and aborts running ones; the promise rejects with the reason. */
  readonly signal?: AbortSignal;
  /** Reject with `TimeoutError` after this long, in ms. */
  readonly timeoutMs?: number;
  /** BullMQ priority of every job. */
  readonly priority?: number;
}

/** Counters of the remote client. */
export interface RemoteMetrics {
  /** Jobs added by this client. */
  readonly submitted: number;
  /** Calls waiting for their result. */
  readonly pending: number;
  /** Results delivered from completion events. */
  readonly fromEvents: number;
  /** Results delivered by reading the job (an event was missed or late). */
  readonly fromPolls: number;
}

/** What the first call starts: the BullMQ queue and events reader, and their connections. */
interface Started {
  readonly queue: Queue;
  readonly events: QueueEvents;
  /** The queue's connection (no offline queue: calls fail fast while Redis is away). */
  readonly producer: Redis;
  /** Reads where the events stream is; BullMQ's events reader runs on a copy of it. */
  readonly listener: Redis;
}

interface Waiter {
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
  readonly onProgress?: (progress: unknown) => void;
  checkedAt: number;
}

/** How long the first call waits for Redis before failing with `RemoteUnavailableError`, in ms. */
const CONNECT_TIMEOUT_MS = 2000;

function isTaskRef(value: unknown): value is TaskRef {
  return typeof value === 'object' && value !== null && typeof (value as TaskRef).module === 'string' && typeof (value as TaskRef).name === 'string';
}

/** @internal The engine behind `rt.remote`. */
export class RemoteClient {
  readonly #config: DistributedConfig;
  readonly #prefix: string;
  readonly #maxBytes: number;
  readonly #pollMs: number;
  /** The callers waiting for each job: one, or several calls with the same `key` (an array: a Set costs more per call). */
  readonly #waiters = new Map<string, Waiter[]>();
  #started: Promise<Started> | undefined;
  #startedValue: Started | undefined;
  /** Every Redis client made for this client, BullMQ's copies too: `close()` drops them all. */
  readonly #clients: Redis[] = [];
  /** The BullMQ objects, as soon as they exist (`close()` closes them even mid-start). */
  #queue: Queue | undefined;
  #events: QueueEvents | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #submitted = 0;
  #fromEvents = 0;
  #fromPolls = 0;

  constructor(config: DistributedConfig) {
    this.#config = checkDistributedConfig(config);
    this.#prefix = config.prefix ?? 'bull';
    this.#maxBytes = config.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    this.#pollMs = config.pollMs ?? 2000;
  }

  /** Connects on the first call; makes nothing once `close()` has begun, so that `close()` finds all there is to close. */
  #start(): Promise<Started> {
    this.#started ??= (async () => {
      const [{ Queue, QueueEvents }, Redis] = await Promise.all([loadBullMQ(), loadIORedis()]);
      this.#throwIfClosed();
      const { connection, queue: name } = this.#config;
      const track = (client: Redis): void => void this.#clients.push(client);
      const producer = redisClient(Redis, connection, { enableOfflineQueue: false, connectionName: `zokio:producer:${name}` }, track);
      const listener = redisClient(Redis, connection, { connectionName: `zokio:events:${name}` }, track);
      // Start reading events where the stream is now, before any call is added.
      const last = await listener.xrevrange(`${this.#prefix}:${name}:events`, '+', '-', 'COUNT', 1);
      this.#throwIfClosed();
      const events = (this.#events = new QueueEvents(name, { connection: listener, prefix: this.#prefix, lastEventId: last[0]?.[0] ?? '0-0' }));
      events.on('completed', ({ jobId, returnvalue }) => this.#settle(jobId, true, returnvalue, false));
      events.on('failed', ({ jobId, failedReason }) => this.#settle(jobId, false, failedReason, false));
      events.on('progress', ({ jobId, data }) => {
        for (const w of this.#waiters.get(jobId) ?? []) w.onProgress?.(decodeValue(data));
      });
      events.on('error', () => undefined); // reconnects on its own; pending calls are polled meanwhile
      listener.on('ready', () => this.#poll(true));
      const queue = (this.#queue = new Queue(name, { connection: producer, prefix: this.#prefix }));
      queue.on('error', () => undefined);
      await events.waitUntilReady();
      this.#throwIfClosed();
      this.#pollTimer = setInterval(() => this.#poll(false), this.#pollMs);
      this.#pollTimer.unref();
      return { queue, events, producer, listener };
    })();
    return this.#started;
  }

  #throwIfClosed(): void {
    if (this.#closed) throw new RuntimeClosedError('runtime is shut down: cannot submit remote tasks');
  }

  /** Delivers a result to every waiter of `jobId`, once. */
  #settle(jobId: string, ok: boolean, value: unknown, polled: boolean): void {
    const waiters = this.#waiters.get(jobId);
    if (waiters === undefined) return;
    this.#waiters.delete(jobId);
    if (polled) this.#fromPolls++;
    else this.#fromEvents++;
    let result: unknown;
    let error: unknown;
    try {
      // BullMQ has parsed the stored JSON already, the events reader and `getJob` alike:
      // a string here is a string result, not JSON text.
      if (ok) result = decodeValue(value);
      else error = errorFromReason(typeof value === 'string' ? value : undefined);
    } catch (err) {
      ok = false;
      error = err;
    }
    for (const w of waiters) {
      if (ok) w.resolve(result);
      else w.reject(error);
    }
  }

  /** Reads the jobs of pending calls not checked for `pollMs` (all of them with `all`). */
  #poll(all: boolean): void {
    const started = this.#started;
    if (started === undefined || this.#waiters.size === 0) return;
    const now = Date.now();
    const due: string[] = [];
    for (const [id, waiters] of this.#waiters) {
      const first = waiters[0]!;
      if (all || now - first.checkedAt >= this.#pollMs) {
        for (const w of waiters) w.checkedAt = now;
        due.push(id);
        if (due.length >= 1000) break;
      }
    }
    void started.then((s) => this.#checkFinished(s, due)).catch(() => undefined);
  }

  /**
   * Reads the jobs `ids` in one pipeline, only whether each has finished (`HMGET
   * finishedOn`), and fully (`#check`) only those that have. Most pending calls of a long
   * backlog wait in the queue, and each poll used to read and parse every one in full.
   */
  async #checkFinished({ queue, producer }: Started, ids: readonly string[]): Promise<void> {
    const pipeline = producer.pipeline();
    for (const id of ids) pipeline.hget(queue.toKey(id), 'finishedOn');
    const replies = (await pipeline.exec()) ?? [];
    await Promise.all(ids.map((id, i) => {
      const [err, finishedOn] = replies[i] ?? [null, null];
      return err === null && finishedOn === null ? undefined : this.#check(queue, id);
    }));
  }

  async #check(queue: Queue, jobId: string): Promise<void> {
    const job = await queue.getJob(jobId);
    if (job === undefined || job === null) return;
    if (job.finishedOn !== undefined && job.returnvalue !== undefined && job.failedReason === undefined) this.#settle(jobId, true, job.returnvalue, true);
    else if (job.finishedOn !== undefined && job.failedReason !== undefined && (await job.isFailed())) this.#settle(jobId, false, job.failedReason, true);
    else if (job.finishedOn !== undefined && (await job.isCompleted())) this.#settle(jobId, true, job.returnvalue, true);
  }

  #encodeCall(ref: unknown, args: readonly unknown[], where: string): { data: JobData; name: string } {
    if (!isTaskRef(ref)) throw new TypeError(`${where}: expected a task reference from defineTasks`);
    if (ref.id === undefined) {
      throw new TaskArgumentError(`${where}: task '${ref.name}' has no stable id; register its module with defineTasks(import.meta.url, { ... }, { id: '...' }) to run it remotely`);
    }
    const encoded = encodeValue(args, 'args', this.#maxBytes);
    const tp = traceparent();
    return { data: tp === undefined ? { v: 1, id: ref.id, name: ref.name, args: encoded } : { v: 1, id: ref.id, name: ref.name, args: encoded, tp }, name: `${ref.id}.${ref.name}` };
  }

  /**
   * The job's options. Only what differs from BullMQ's defaults is written: one attempt
   * and no backoff are its defaults, and every option written is stored in the job's hash
   * and parsed again by the worker that takes it.
   */
  #jobOptions(jobId: string, priority: number | undefined, attempts: number | undefined): JobsOptions {
    const d = this.#config.defaults ?? {};
    const keep = d.keepFinishedSeconds ?? 3600;
    const opts: JobsOptions = { jobId, removeOnComplete: { age: keep }, removeOnFail: { age: keep } };
    const tries = attempts ?? d.attempts ?? 1;
    if (tries > 1) {
      opts.attempts = tries;
      opts.backoff = d.backoff ?? { type: 'exponential', delay: 1000 };
    }
    const p = priority ?? d.priority;
    if (p !== undefined) opts.priority = p;
    return opts;
  }

  /** The connection when it is open and ready (every call after the first): no await before the add. */
  #readyNow(): Started | undefined {
    const ready = this.#startedValue;
    return ready !== undefined && !this.#closed && ready.producer.status === 'ready' ? ready : undefined;
  }

  /** The connection, connecting on the first call; rejects, saying why, when it is closed or Redis is unreachable. */
  async #ready(): Promise<Started> {
    this.#throwIfClosed();
    // The first call connects; with Redis down it must fail fast, not wait for Redis.
    const ready = this.#startedValue;
    if (ready !== undefined) {
      if (ready.producer.status !== 'ready') throw this.#unreachable(ready.producer.status);
      return ready;
    }
    const starting = this.#start();
    if (!(await bounded(starting, CONNECT_TIMEOUT_MS))) {
      throw new RemoteUnavailableError(`Redis at ${this.#config.connection.host ?? '127.0.0.1'}:${this.#config.connection.port ?? 6379} did not answer within ${CONNECT_TIMEOUT_MS} ms; the call was not submitted`);
    }
    const started = (this.#startedValue = await starting);
    if (started.producer.status !== 'ready') throw this.#unreachable(started.producer.status);
    return started;
  }

  #unreachable(status: string): RemoteUnavailableError {
    return new RemoteUnavailableError(`Redis at ${this.#config.connection.host ?? '127.0.0.1'}:${this.#config.connection.port ?? 6379} is not reachable (connection ${status}); the call was not submitted`);
  }

  #wait(jobId: string, onProgress: ((p: unknown) => void) | undefined): { promise: Promise<unknown>; waiter: Waiter } {
    let waiter!: Waiter;
    const promise = new Promise<unknown>((resolve, reject) => {
      waiter = { resolve, reject, onProgress, checkedAt: Date.now() };
    });
    const list = this.#waiters.get(jobId);
    if (list === undefined) this.#waiters.set(jobId, [waiter]);
    else list.push(waiter);
    return { promise, waiter };
  }

  #forget(jobId: string, waiter: Waiter): void {
    const list = this.#waiters.get(jobId);
    if (list === undefined) return;
    const i = list.indexOf(waiter);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#waiters.delete(jobId);
  }

  /** Removes a waiting job, or asks the worker running it to abort it. */
  async #cancel(jobId: string): Promise<void> {
    if (this.#waiters.has(jobId)) return; // another caller (same key) still wants it
    try {
      const { queue, producer } = await this.#ready();
      const removed = await queue.remove(jobId).catch(() => 0);
      if (removed !== 1) await producer.publish(cancelChannel(this.#prefix, this.#config.queue), jobId);
    } catch {
      // Redis unreachable: the job runs; the caller has its answer already (at-least-once).
    }
  }

  /** `rt.remote.exec(ref, ...args)` or `rt.remote.exec(options, ref, ...args)`. */
  exec(call: readonly unknown[]): Promise<unknown> {
    // Not an async function: a pending call holds only its waiter (the promise returned
    // here, its resolve functions and the map entry), not a suspended frame of this
    // function with everything it encoded, nor a second promise that adopts the first.
    let options: RemoteExecOptions;
    let encoded: { data: JobData; name: string };
    try {
      const first = call[0];
      const withOptions = !isTaskRef(first);
      options = (withOptions ? first : {}) as RemoteExecOptions;
      if (typeof options !== 'object' || options === null) throw new TypeError('rt.remote.exec: expected (ref, ...args) or (options, ref, ...args), where ref comes from defineTasks');
      encoded = this.#encodeCall(withOptions ? call[1] : first, call.slice(withOptions ? 2 : 1), 'rt.remote.exec');
      checkCallOptions(options, 'rt.remote.exec');
      options.signal?.throwIfAborted();
    } catch (err) {
      return Promise.reject(err);
    }
    const { signal, key } = options;
    // `p`: the caller listens for progress, so the worker writes it before the result.
    const data: JobData = options.onProgress !== undefined ? { ...encoded.data, p: 1 } : encoded.data;
    const jobId = key !== undefined ? jobIdForKey(key) : callJobId();
    const { promise, waiter } = this.#wait(jobId, options.onProgress);
    const cleanup = this.#guard(jobId, waiter, signal, options.timeoutMs ?? this.#config.defaults?.timeoutMs);
    void this.#submit(encoded.name, data, this.#jobOptions(jobId, options.priority, options.attempts), jobId, waiter, cleanup, key !== undefined);
    return cleanup === undefined ? promise : promise.finally(cleanup);
  }

  /**
   * Adds the job of a call whose waiter is registered (connecting first on the first
   * call); a call that cannot be submitted rejects its waiter: `RuntimeClosedError` or
   * `RemoteUnavailableError`. A call aborted or timed out before its job is added adds none.
   */
  async #submit(name: string, data: JobData, opts: JobsOptions, jobId: string, waiter: Waiter, cleanup: (() => void) | undefined, keyed: boolean): Promise<void> {
    let queue: Queue;
    let submitting = false;
    try {
      queue = (this.#readyNow() ?? (await this.#ready())).queue;
      if (!this.#waiters.get(jobId)?.includes(waiter)) return; // aborted or timed out while connecting
      submitting = true;
      await queue.add(name, data, opts);
      this.#submitted++;
    } catch (err) {
      this.#forget(jobId, waiter);
      cleanup?.();
      waiter.reject(submitting ? unavailable(err) : err);
      return;
    }
    // With a key the job may have finished long ago: read it now rather than at the next poll.
    if (keyed) void this.#check(queue, jobId).catch(() => undefined);
  }

  /**
   * Rejects `waiter` on abort or timeout and cancels the job; returns the undo, or
   * `undefined` when there is neither a signal nor a timeout to watch (no closure made).
   */
  #guard(jobId: string, waiter: Waiter, signal: AbortSignal | undefined, timeoutMs: number | undefined): (() => void) | undefined {
    const timed = timeoutMs !== undefined && timeoutMs !== Infinity;
    if (signal === undefined && !timed) return undefined;
    const stop = (reason: unknown): void => {
      this.#forget(jobId, waiter);
      waiter.reject(reason);
      void this.#cancel(jobId);
    };
    const onAbort = (): void => stop(signal!.reason ?? new TaskAbortedError());
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = timed ? setTimeout(() => stop(new TimeoutError(`remote task did not finish within ${timeoutMs} ms (job ${jobId})`)), timeoutMs) : undefined;
    return () => {
      signal?.removeEventListener('abort', onAbort);
      if (timer !== undefined) clearTimeout(timer);
    };
  }

  /** `rt.remote.map(ref, inputs, options)`: one job per input, added in bulk. */
  async map(ref: TaskRef, inputs: Iterable<unknown>, options: RemoteMapOptions = {}): Promise<unknown[]> {
    const list = [...inputs];
    const calls = list.map((input, i) => {
      try {
        return this.#encodeCall(ref, [input], 'rt.remote.map');
      } catch (err) {
        if (err instanceof TaskArgumentError) throw new TaskArgumentError(err.message.replace(/^args\[0\]/, `inputs[${i}]`));
        throw err;
      }
    });
    checkCallOptions(options, 'rt.remote.map');
    options.signal?.throwIfAborted();
    const { queue } = await this.#ready();
    const ids = list.map(() => callJobId());
    let done = 0;
    const controller = new AbortController();
    const signal = options.signal === undefined ? controller.signal : AbortSignal.any([options.signal, controller.signal]);
    const promises = ids.map((jobId) => {
      const { promise, waiter } = this.#wait(jobId, undefined);
      const cleanup = this.#guard(jobId, waiter, signal, options.timeoutMs ?? this.#config.defaults?.timeoutMs);
      return promise.then(
        (v) => {
          cleanup?.();
          options.onProgress?.(++done, list.length);
          return v;
        },
        (err: unknown) => {
          cleanup?.();
          throw err;
        },
      );
    });
    // The first failure cancels the rest; the others' rejections are not unhandled.
    const all = Promise.all(promises);
    all.catch((err: unknown) => controller.abort(err));
    for (let i = 0; i < calls.length; i += 1000) {
      const chunk = calls.slice(i, i + 1000).map(({ data, name }, j) => ({ name, data, opts: this.#jobOptions(ids[i + j]!, options.priority, undefined) }));
      try {
        await queue.addBulk(chunk);
        this.#submitted += chunk.length;
      } catch (err) {
        controller.abort(unavailable(err));
        break;
      }
    }
    return await all;
  }

  metrics(): RemoteMetrics {
    let pending = 0;
    for (const list of this.#waiters.values()) pending += list.length;
    return { submitted: this.#submitted, pending, fromEvents: this.#fromEvents, fromPolls: this.#fromPolls };
  }

  /**
   * Rejects pending calls with `RuntimeClosedError` and closes the connections: BullMQ's
   * queue and events reader gracefully within `timeoutMs` (a start in progress gets as
   * long to finish first), then every Redis client is disconnected, which ends what the
   * graceful close left waiting for a Redis that is gone.
   */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#pollTimer !== undefined) clearInterval(this.#pollTimer);
    const err = new RuntimeClosedError('runtime shut down before the remote task finished');
    for (const list of this.#waiters.values()) for (const w of list) w.reject(err);
    this.#waiters.clear();
    const started = this.#started;
    if (started === undefined) return;
    await bounded(started, timeoutMs);
    await bounded(Promise.allSettled([this.#queue?.close(), this.#events?.close()]), timeoutMs);
    disconnectAll(this.#clients);
  }
}

function checkCallOptions(options: RemoteExecOptions | RemoteMapOptions, where: string): void {
  const o = options as RemoteExecOptions;
  if (o.key !== undefined && (typeof o.key !== 'string' || o.key.length === 0 || o.key.length > 1024)) throw new TaskArgumentError(`${where}: key must be a string of 1..1024 characters`);
  if (o.timeoutMs !== undefined && !(typeof o.timeoutMs === 'number' && o.timeoutMs > 0)) throw new TaskArgumentError(`${where}: timeoutMs must be a number > 0`);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new TaskArgumentError(`${where}: signal must be an AbortSignal`);
}

function unavailable(err: unknown): Error {
  if (err instanceof RemoteUnavailableError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new RemoteUnavailableError(`the call was not submitted: Redis did not take the job (${message})`, { cause: err });
}

function traceparent(): string | undefined {
  const ctx = submitTraceContext();
  if (ctx === undefined) return undefined;
  const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
  return `00-${hex(ctx.traceId)}-${hex(ctx.spanId)}-${(ctx.flags & 0xff).toString(16).padStart(2, '0')}`;
}

/**
 * `rt.remote`: the runtime's calls to tasks on other machines. Present in the runtime's
 * type only when it was built with `.distributed({ ... })`.
 *
 * Calls are **at-least-once**: the caller gets exactly one result, but a task whose
 * worker died mid-run runs again on another worker.
 */
export interface RemoteTasks {
  /**
   * Runs a registered task (its module defined with a stable `id`) on whichever worker
   * machine takes the job, and resolves with its result.
   *
   * @example
   * ```ts
   * import { Runtime, defineTasks } from 'zokio';
   * const tasks = defineTasks(import.meta.url, { fib: (n: number): number => (n < 2 ? n : n) }, { id: 'math' });
   * const rt = Runtime.builder().distributed({ engine: 'bullmq', connection: { port: 6379 }, queue: 'zokio' }).build();
   * const n = await rt.remote.exec(tasks.fib, 30);
   * await rt.shutdown();
   * ```
   *
   * @throws TaskArgumentError (before anything reaches Redis) naming the path of an argument that cannot cross.
   * @throws RemoteUnavailableError when Redis cannot be reached: the call was not submitted.
   * @throws RemoteTaskError carrying the original name, message, code and stack when the task threw.
   */
  exec<A extends readonly unknown[], R, const P extends readonly unknown[]>(ref: TaskRef<A, R>, ...args: SendableArgs<P, A>): Promise<Awaited<R>>;
  /**
   * `exec` with options first: `rt.remote.exec({ key, signal, timeoutMs }, ref, ...args)`.
   *
   * *Cancellation*: aborting `signal` removes the job while it waits; while it runs, the
   * worker aborts the task's `currentTaskSignal()`. The promise rejects with the reason
   * at once either way. `timeoutMs` does the same with `TimeoutError`.
   */
  exec<A extends readonly unknown[], R, const P extends readonly unknown[]>(options: RemoteExecOptions, ref: TaskRef<A, R>, ...args: SendableArgs<P, A>): Promise<Awaited<R>>;
  /**
   * One job per input, added in bulk; results in input order.
   *
   * *Cancellation*: `signal` (or the first failure) cancels every job not finished.
   *
   * *Ordering*: jobs are taken in input order (unless prioritized); results resolve in input order.
   */
  map<I, R>(ref: TaskRef<readonly [I], R> | TaskRef<[I], R>, inputs: Iterable<I>, options?: RemoteMapOptions): Promise<Awaited<R>[]>;
  /** Counters of the calls made through this runtime. */
  metrics(): RemoteMetrics;
}
