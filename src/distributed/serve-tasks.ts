/**
 * `serveTasks`: a worker process that takes jobs from a BullMQ queue and runs each on the
 * local work-stealing pool.
 *
 * Implementation note. The BullMQ `Worker` runs on this thread, whose event loop stays
 * free (tasks compute on pool threads), so job locks are renewed on time however heavy
 * the tasks are. Each job: decode the arguments, find the task by its stable id and name
 * (unknown: `UnrecoverableError`, so the job fails once without retries), run it through
 * the runner task on the pool inside the caller's trace context, encode the result. A
 * task that has shown itself shorter than the hop to a pool thread runs inline on this
 * thread instead (`inlineBelowMs`, see `placement.ts`): it cannot hold the locks up.
 *
 * Resilience. The Redis clients reconnect on their own. A health check looks at every
 * connection of the current BullMQ worker each `healthCheckMs`: when one has not been
 * ready for `rebuildAfterMs` while a fresh probe connection reaches Redis, the worker is
 * closed (forced) and a new one is built; jobs it held are recovered as stalled jobs.
 *
 * Closing. `close()` stops taking jobs and waits for running ones until `closeTimeoutMs`;
 * then it aborts them (their `currentTaskSignal()` aborts), force-closes the worker and
 * drops its connections. BullMQ's own `close()` waits for Redis when it is gone; this one
 * returns within `closeTimeoutMs` (plus the pool's shutdown) either way.
 *
 * @module
 */
import v8 from 'node:v8';
import { BroadcastChannel } from 'node:worker_threads';
import { ConfigError, TaskNotFoundError } from '../errors.js';
import { abortReason } from '../scheduler/abort-reason.js';
import { createRuntime } from '../runtime/runtime.js';
import { bounded } from '../runtime/bounded.js';
import { exactJson } from '../scheduler/pool/json-payload.js';
import { scalarTag } from '../scheduler/pool/pool-core.js';
import { withTaskSignal } from '../scheduler/pool/worker-context.js';
import { lookupTask } from '../scheduler/task-registry.js';
import type { TaskRef } from '../scheduler/task-ref.js';
import { runWithTraceContext } from '../trace/propagation.js';
import { decodeValue, DEFAULT_MAX_PAYLOAD_BYTES, encodeValue } from './encoding.js';
import { cancelChannel, disconnectAll, errorToReason, loadBullMQ, loadIORedis, redisClient, type JobData } from './job.js';
import { checkConnection, checkPositive, checkQueueName, type RedisConnectionOptions } from './options.js';
import { Placement } from './placement.js';
import { LOADED, PROGRESS_CHANNEL, runnerRef, runTimed, type ProgressMessage, type Ran } from './runner.js';
import type { Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';

/** Options of {@link serveTasks}. */
export interface ServeTasksOptions {
  /** Where Redis listens. */
  readonly connection: RedisConnectionOptions;
  /** The queue to serve (the `queue` of the callers' `.distributed(...)`). */
  readonly queue: string;
  /** Jobs run at once by this process. @default 16 */
  readonly concurrency?: number;
  /** Threads of the local work-stealing pool. @default 'auto' */
  readonly workers?: number | 'auto';
  /** Longest wait for running jobs in `close()` before they are aborted, in ms. @default 10000 */
  readonly closeTimeoutMs?: number;
  /** How long a job's lock lasts without renewal (a dead worker's jobs are recovered after it), in ms. @default 30000 */
  readonly lockDurationMs?: number;
  /** How often stalled jobs are looked for, in ms. @default 30000 */
  readonly stalledIntervalMs?: number;
  /** How many times a job may stall before it fails. @default 1 */
  readonly maxStalledCount?: number;
  /** How often the worker's connections are checked, in ms. @default 5000 */
  readonly healthCheckMs?: number;
  /** Rebuild the worker when a connection has not been ready this long while Redis answers, in ms. @default 15000 */
  readonly rebuildAfterMs?: number;
  /** Key prefix in Redis. @default 'bull' */
  readonly prefix?: string;
  /** Largest encoded result, in bytes. @default 524288 */
  readonly maxPayloadBytes?: number;
  /**
   * A task whose last 16 runs each took less than this (synchronously, and none returned
   * a promise) runs inline on this thread instead of the pool, where the hop there and
   * back would cost more than the task; two runs at or above it send it back. 0 runs
   * every task on the pool. In ms. @default 0.05
   */
  readonly inlineBelowMs?: number;
  /**
   * Stops the server: while `serveTasks` is still starting (waiting for Redis, which it
   * does for as long as Redis is down) it rejects with the signal's reason after closing
   * what it opened; once serving, the server closes as `close()` does.
   */
  readonly signal?: AbortSignal;
}

/** Counters of a task server. */
export interface TaskServerMetrics {
  /** Jobs whose task returned. */
  readonly completed: number;
  /** Jobs whose task threw or could not run. */
  readonly failed: number;
  /** Jobs running now. */
  readonly active: number;
  /** Jobs whose task ran inline on this thread (see `inlineBelowMs`). */
  readonly inline: number;
  /** Times the BullMQ worker was rebuilt by the health check. */
  readonly rebuilds: number;
}

/** A running task server; `await using` closes it. */
export interface TaskServer {
  /** Counters. */
  metrics(): TaskServerMetrics;
  /**
   * Stops taking jobs, waits for running ones up to `closeTimeoutMs`, aborts the rest,
   * closes the connections and the local pool.
   *
   * *Cancellation*: not cancellable; bounded by `closeTimeoutMs`.
   */
  close(): Promise<void>;
  /** `await using server = ...` closes the server at the end of the block, as `close()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * `value` as a pool thread would have handed it back (a structured clone, through JSON
 * text when that carries it exactly): a result must not depend on where the task ran.
 */
function asFromPool(value: unknown): unknown {
  if (scalarTag(value) >= 0) return value;
  const json = exactJson(value);
  return json !== undefined ? JSON.parse(json) : v8.deserialize(v8.serialize(value));
}

/** A module's task references, as `defineTasks` returns them. */
// `TaskRef<any, any>`: a module's refs have every signature; only module, name and id are read.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TaskModule = { readonly [name: string]: TaskRef<any, any> };

function tableOf(modules: readonly TaskModule[]): Map<string, TaskRef> {
  if (!Array.isArray(modules)) throw new ConfigError('taskModules', 'serveTasks: taskModules must be an array of defineTasks results', modules);
  const table = new Map<string, TaskRef>();
  for (const mod of modules) {
    for (const ref of Object.values(mod ?? {}) as TaskRef[]) {
      if (typeof ref?.module !== 'string' || typeof ref.name !== 'string') throw new ConfigError('taskModules', 'serveTasks: taskModules must be an array of defineTasks results', ref);
      if (ref.id === undefined) throw new ConfigError('taskModules', `serveTasks: task '${ref.name}' of ${ref.module} has no stable id (defineTasks(url, fns, { id }))`, ref.name);
      table.set(`${ref.id}\0${ref.name}`, ref);
    }
  }
  return table;
}

/**
 * Serves the tasks of `taskModules` to callers of `rt.remote.exec` on the same queue:
 * each job runs on this process's work-stealing pool, except the jobs of a synchronous
 * task whose recent runs all took less than `inlineBelowMs` (0.05 ms by default), which
 * run on this thread, where they cost less than the hop to a pool thread.
 *
 * Delivery is at-least-once: a job whose worker dies mid-run runs again elsewhere (after
 * its lock expires), so tasks that change the world should be idempotent (use `key`).
 *
 * @example
 * ```ts
 * import { defineTasks } from 'zokio';
 * import { serveTasks } from 'zokio/distributed';
 * export const tasks = defineTasks(import.meta.url, { double: (n: number) => n * 2 }, { id: 'math' });
 * await using server = await serveTasks([tasks], { connection: { port: 6379 }, queue: 'zokio', concurrency: 64 });
 * ```
 *
 * *Cancellation*: a caller's `signal` aborts the job's `currentTaskSignal()` here.
 * `options.signal` stops the server, also while it waits for Redis to start.
 */
export async function serveTasks(taskModules: readonly TaskModule[], options: ServeTasksOptions): Promise<TaskServer> {
  const table = tableOf(taskModules);
  const connection = checkConnection(options?.connection, 'connection');
  const queue = checkQueueName(options.queue, 'queue');
  const concurrency = checkPositive(options.concurrency, 'concurrency') ?? 16;
  const closeTimeoutMs = checkPositive(options.closeTimeoutMs, 'closeTimeoutMs') ?? 10_000;
  const healthCheckMs = checkPositive(options.healthCheckMs, 'healthCheckMs') ?? 5000;
  const rebuildAfterMs = checkPositive(options.rebuildAfterMs, 'rebuildAfterMs') ?? 15_000;
  const maxBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const prefix = options.prefix ?? 'bull';
  const inlineBelowMs = options.inlineBelowMs ?? 0.05;
  if (typeof inlineBelowMs !== 'number' || !(inlineBelowMs >= 0)) throw new ConfigError('inlineBelowMs', 'serveTasks: inlineBelowMs must be a number of ms, 0 or more', inlineBelowMs);
  const placement = new Placement(inlineBelowMs);
  const signal = options.signal;
  signal?.throwIfAborted();
  const [{ Worker, UnrecoverableError }, Redis] = await Promise.all([loadBullMQ(), loadIORedis()]);
  const rt = createRuntime({ workers: (options.workers ?? 'auto') as 'auto' });

  let completed = 0;
  let failed = 0;
  let inline = 0;
  let rebuilds = 0;
  interface Running {
    readonly job: Job;
    readonly abort: AbortController;
    /** The progress updates written so far, in order. */
    progress: Promise<unknown>;
  }
  const running = new Map<string, Running>();

  const processor = async (job: Job<JobData>): Promise<unknown> => {
    const data = job.data;
    const key = `${data?.id}\0${data?.name}`;
    const ref = table.get(key);
    if (ref === undefined) {
      failed++;
      const known = [...table.keys()].map((k) => k.replace('\0', '.')).join(', ');
      throw new UnrecoverableError(errorToReason(new TaskNotFoundError(`task '${data?.id}.${data?.name}' is not served by this worker (it serves: ${known || 'nothing'})`)));
    }
    const entry: Running = { job, abort: new AbortController(), progress: Promise.resolve() };
    const abort = entry.abort;
    running.set(job.id!, entry);
    try {
      const args = decodeValue(data.args) as unknown[];
      const call = async (): Promise<unknown> => {
        // Progress is posted from the task's thread; it must reach `progress` before the result.
        const fn = data.p !== 1 && placement.inline(key) ? lookupTask(ref.module, ref.name) : undefined;
        if (fn !== undefined) {
          inline++;
          const [value, ms] = await withTaskSignal(abort.signal, () => runTimed(job.id!, fn, args));
          placement.ran(key, ms);
          return asFromPool(value);
        }
        // A pool thread that lacks the task module loads it and asks for the job again.
        for (let attempt = 0; ; attempt++) {
          const loadOnly = attempt < 8 * rt.config.workers;
          const out = (await rt.exec({ signal: abort.signal }, runnerRef() as never, ...([job.id, ref.module, ref.name, args, loadOnly] as never[]))) as Ran | typeof LOADED;
          if (out === LOADED) continue;
          placement.ran(key, out[1]);
          return out[0];
        }
      };
      const result = await (data.tp !== undefined ? runWithTraceContext({ traceparent: data.tp }, call) : call());
      if (data.p === 1) {
        await new Promise((resolve) => setImmediate(resolve)); // progress posted before the result
        await entry.progress;
      }
      const encoded = encodeValue(result, 'result', maxBytes);
      completed++;
      return encoded;
    } catch (err) {
      failed++;
      throw new Error(errorToReason(err));
    } finally {
      running.delete(job.id!);
    }
  };

  // The Redis clients of the current worker (BullMQ's copies too), to check their health;
  // and every client this server made, to disconnect them all when it closes.
  let clients: Redis[] = [];
  const owned: Redis[] = [];
  const track = (client: Redis): void => {
    clients.push(client);
    owned.push(client);
  };

  const build = (): Worker => {
    clients = [];
    const w = new Worker(queue, processor as never, {
      connection: redisClient(Redis, connection, { connectionName: `zokio:worker:${queue}` }, track),
      prefix,
      concurrency,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.stalledIntervalMs ?? 30_000,
      maxStalledCount: options.maxStalledCount ?? 1,
      autorun: true,
    });
    w.on('error', () => undefined); // connection errors: the clients reconnect, the health check watches
    return w;
  };
  let worker = build();
  try {
    // BullMQ waits for Redis as long as it is down: only the signal ends that wait early.
    await untilAborted(worker.waitUntilReady(), signal);
  } catch (err) {
    await bounded(worker.close(true), closeTimeoutMs);
    disconnectAll(owned);
    await rt.shutdown({ timeoutMs: 0 });
    throw err;
  }

  // Cancellation requests from callers (ioredis subscribes again after each reconnect).
  const subscriber = redisClient(Redis, connection, { connectionName: `zokio:cancel:${queue}` }, (c) => owned.push(c));
  subscriber.subscribe(cancelChannel(prefix, queue)).catch(() => undefined);
  subscriber.on('message', (_channel: string, jobId: string) => running.get(jobId)?.abort.abort(new Error(`job ${jobId} cancelled by its caller`)));

  // Progress reports from pool threads.
  const progress = new BroadcastChannel(PROGRESS_CHANNEL);
  progress.unref();
  progress.onmessage = (event) => {
    const { jobId, value } = (event as { data: ProgressMessage }).data;
    const entry = running.get(jobId);
    if (entry === undefined) return;
    try {
      const encoded = encodeValue(value, 'progress', maxBytes);
      entry.progress = entry.progress.then(() => entry.job.updateProgress(encoded as never)).catch(() => undefined);
    } catch {
      // A progress value that cannot be encoded is dropped; the task goes on.
    }
  };

  // Health check of the worker's connections.
  const notReadySince = new Map<Redis, number>();
  let rebuilding = false;
  let closing = false;
  const health = setInterval(() => {
    if (rebuilding || closing) return;
    const now = Date.now();
    let stale = false;
    for (const c of clients) {
      if (c.status === 'ready' || c.status === 'end') notReadySince.delete(c);
      else if (!notReadySince.has(c)) notReadySince.set(c, now);
      else if (now - notReadySince.get(c)! >= rebuildAfterMs) stale = true;
    }
    if (!stale) return;
    rebuilding = true;
    void (async () => {
      const probe = redisClient(Redis, connection, { retryStrategy: () => null }, (c) => owned.push(c));
      try {
        const reachable = await bounded(probe.ping(), 2000);
        if (!reachable || probe.status !== 'ready' || closing) return;
        const old = worker;
        const oldClients = clients;
        worker = build();
        rebuilds++;
        notReadySince.clear();
        await bounded(old.close(true), closeTimeoutMs);
        disconnectAll(oldClients);
      } finally {
        disconnectAll([probe]);
        rebuilding = false;
      }
    })();
  }, healthCheckMs);
  health.unref();

  let closed: Promise<void> | undefined;
  const onAbort = (): void => void close();
  const close = (): Promise<void> => {
    closed ??= (async () => {
      signal?.removeEventListener('abort', onAbort);
      closing = true;
      clearInterval(health);
      const w = worker;
      const graceful = await bounded(w.close(), closeTimeoutMs);
      if (!graceful) {
        for (const { abort } of running.values()) abort.abort(new Error('task server closed before the job finished'));
        await bounded(w.close(true), 1000);
      }
      // Every client, the rebuilt workers' included: whatever a close left waiting for Redis ends now.
      disconnectAll(owned);
      progress.close();
      await rt.shutdown({ timeoutMs: graceful ? closeTimeoutMs : 0 });
    })();
    return closed;
  };

  if (signal?.aborted === true) void close();
  else signal?.addEventListener('abort', onAbort, { once: true });

  return {
    metrics: () => ({ completed, failed, active: running.size, inline, rebuilds }),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** `work`, or a rejection with `signal`'s reason when it aborts first (`work` itself goes on). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
