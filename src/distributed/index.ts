/**
 * The same TaskRefs on other machines, through BullMQ on Redis: `serveTasks` on each
 * worker machine, `rt.remote.exec` / `rt.remote.map` on a runtime built with
 * `.distributed({ engine: 'bullmq', connection, queue })`.
 *
 * Calls are **at-least-once**: a job whose worker dies mid-run (or whose lock lapses) runs
 * again on another worker, so a task may run more than once for one call, while its caller
 * receives exactly one result. Make tasks with side effects idempotent, or pass a `key`.
 * BullMQ and ioredis (the Redis client it drives) are optional peer dependencies, imported
 * on first use.
 *
 * @module zokio/distributed
 */
export { serveTasks, type ServeTasksOptions, type TaskServer, type TaskServerMetrics, type TaskModule } from './serve-tasks.js';
export { reportProgress } from './runner.js';
export { type RemoteTasks, type RemoteExecOptions, type RemoteMapOptions, type RemoteMetrics } from './remote-client.js';
export { encodeValue, decodeValue, DEFAULT_MAX_PAYLOAD_BYTES, type Encoded } from './encoding.js';
export { DISTRIBUTED_RULES, type DistributedConfig, type RedisConnectionOptions, type RemoteCallDefaults } from './options.js';
export { RemoteTaskError, RemoteUnavailableError, TaskArgumentError, TaskNotFoundError } from '../errors.js';
