/**
 * Every `node:diagnostics_channel` channel Zokio publishes on, declared in one place so
 * that tools (APMs, loggers, tests) can subscribe by name without importing internals.
 *
 * Implementation note. Publishers check `channel.hasSubscribers` before building a
 * message, so a channel nobody listens to costs one property read. Channels are per
 * thread: a subscriber on the main thread sees what the main thread publishes (local
 * tasks, spans), not what a worker thread publishes. The `zokio:worker:*` events happen
 * on pool worker threads and are published there: subscribe from a module the workers
 * load (a task module), and count them across threads with `rt.metrics().pool`.
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * import { CHANNELS, type TaskSpawnMessage } from 'zokio/trace';
 * subscribe(CHANNELS.taskSpawn, (message) => {
 *   const { id, name } = message as TaskSpawnMessage;
 *   console.log('spawned', id, name);
 * });
 * ```
 */
import diagnosticsChannel from 'node:diagnostics_channel';

/** The channel names, one per runtime event. */
export const CHANNELS = Object.freeze({
  /** A local task was spawned. Message: {@link TaskSpawnMessage}. */
  taskSpawn: 'zokio:task:spawn',
  /** A local task settled (done, failed or aborted). Message: {@link TaskEndMessage}. */
  taskEnd: 'zokio:task:end',
  /** A pool worker stole a task from another worker (published on the thief's thread). Message: {@link WorkerStealMessage}. */
  workerSteal: 'zokio:worker:steal',
  /** A pool worker found no work and parked (published on that worker's thread). Message: {@link WorkerParkMessage}. */
  workerPark: 'zokio:worker:park',
  /** A parked pool worker was woken (published on that worker's thread). Message: {@link WorkerParkMessage}. */
  workerUnpark: 'zokio:worker:unpark',
  /** A recorded span ended. Message: the span (`SpanData`). */
  spanEnd: 'zokio:span:end',
} as const);

/** Message of `zokio:task:spawn`. */
export interface TaskSpawnMessage {
  /** The task's id (`task.id`, unique within the process). */
  readonly id: number;
  /** The name given at spawn time (`SpawnOptions.name`), if any. */
  readonly name: string | undefined;
}

/** Message of `zokio:task:end`. */
export interface TaskEndMessage {
  /** The task's id (`task.id`, unique within the process). */
  readonly id: number;
  /** The name given at spawn time (`SpawnOptions.name`), if any. */
  readonly name: string | undefined;
  /** How the task settled: returned (`done`), threw (`failed`) or was aborted. */
  readonly state: 'done' | 'failed' | 'aborted';
}

/** Message of `zokio:worker:steal`. */
export interface WorkerStealMessage {
  /** The worker that stole. */
  readonly worker: number;
  /** The worker it stole from (its deque, or its inbox when the deque was empty). */
  readonly from: number;
  /** Tasks taken. */
  readonly count: number;
}

/** Message of `zokio:worker:park` and `zokio:worker:unpark`. */
export interface WorkerParkMessage {
  /** Index of the pool worker that parked or was woken (its position in `rt.metrics().pool.workers`). */
  readonly worker: number;
}

/** `zokio:task:spawn` — publish only when `hasSubscribers`. */
export const taskSpawnChannel = diagnosticsChannel.channel(CHANNELS.taskSpawn);
/** `zokio:task:end` — publish only when `hasSubscribers`. */
export const taskEndChannel = diagnosticsChannel.channel(CHANNELS.taskEnd);
/** `zokio:worker:steal` — publish only when `hasSubscribers`. */
export const workerStealChannel = diagnosticsChannel.channel(CHANNELS.workerSteal);
/** `zokio:worker:park` — publish only when `hasSubscribers`. */
export const workerParkChannel = diagnosticsChannel.channel(CHANNELS.workerPark);
/** `zokio:worker:unpark` — publish only when `hasSubscribers`. */
export const workerUnparkChannel = diagnosticsChannel.channel(CHANNELS.workerUnpark);
/** `zokio:span:end` — publish only when `hasSubscribers`. */
export const spanEndChannel = diagnosticsChannel.channel(CHANNELS.spanEnd);
