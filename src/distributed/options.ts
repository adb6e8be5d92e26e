/**
 * Options of the distributed part: the builder's `.distributed({ ... })` and
 * `serveTasks(..., { ... })`, with their run-time checks (`ConfigError` naming the field).
 *
 * @module
 */
import { ConfigError } from '../errors.js';

/** Where Redis listens. */
export interface RedisConnectionOptions {
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 6379 */
  readonly port?: number;
  /** User name for Redis ACL authentication, sent with `password` (`AUTH username password`); unset: the `default` user. */
  readonly username?: string;
  /** Password sent with `AUTH` on connecting; unset: no authentication. */
  readonly password?: string;
  /** Redis database number. @default 0 */
  readonly db?: number;
}

/** Job options every remote call starts from (BullMQ's job options, by their names). */
export interface RemoteCallDefaults {
  /**
   * Attempts per call, counting the first: a task that throws is retried until then
   * (a task whose worker died mid-run is retried by stalled-job recovery besides).
   * @default 1
   */
  readonly attempts?: number;
  /** Delay between attempts. @default { type: 'exponential', delay: 1000 } */
  readonly backoff?: {
    /** `fixed`: wait `delay` before every retry; `exponential`: `delay`, then twice as long before each next one. */
    readonly type: 'fixed' | 'exponential';
    /** The wait before the first retry, in ms. */
    readonly delay: number;
  };
  /** Priority, 1 (highest) .. 2_097_152; unset means FIFO ahead of every prioritized job. */
  readonly priority?: number;
  /** Reject calls that have not finished after this long, in ms. @default Infinity */
  readonly timeoutMs?: number;
  /** How long finished jobs (and so their results, for keyed calls) are kept, in seconds. @default 3600 */
  readonly keepFinishedSeconds?: number;
}

/** `.distributed({ ... })` on the runtime builder. */
export interface DistributedConfig {
  /** The engine that carries jobs; only BullMQ on Redis. */
  readonly engine: 'bullmq';
  /** Where Redis listens. */
  readonly connection: RedisConnectionOptions;
  /** Name of the BullMQ queue; workers serve the same name. */
  readonly queue: string;
  /** Defaults of every call. */
  readonly defaults?: RemoteCallDefaults;
  /** Key prefix in Redis. @default 'bull' */
  readonly prefix?: string;
  /** Largest encoded argument list or result, in bytes. @default 524288 */
  readonly maxPayloadBytes?: number;
  /**
   * How often pending calls are checked by reading their job, besides the completion
   * events (so a result whose event was missed during a reconnect is still delivered), in ms.
   * @default 2000
   */
  readonly pollMs?: number;
}

/** The rules of the distributed options, worded once. */
export const DISTRIBUTED_RULES = {
  /** The rule of {@link DistributedConfig.engine}. */
  engine: "distributed.engine must be 'bullmq'",
  /** The rule of {@link DistributedConfig.queue} and of `serveTasks`' `queue` (`:` separates the parts of BullMQ's Redis keys). */
  queue: 'distributed.queue must be a non-empty string without ":"',
  /** The rule of {@link DistributedConfig.connection} and of `serveTasks`' `connection`; a `host`, when given, must be a non-empty string. */
  connection: 'distributed.connection must be an object { host?, port?, username?, password?, db? }',
  /** The rule of {@link RedisConnectionOptions.port}. */
  port: 'distributed.connection.port must be an integer from 1 to 65535',
  /** The rule of the numeric options that must be above 0 (`maxPayloadBytes`, `pollMs`, `defaults.timeoutMs`, `serveTasks`' `concurrency`, ...), after the field's name. */
  positive: 'must be a number greater than 0',
} as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks a queue name. */
export function checkQueueName(queue: unknown, field = 'distributed.queue'): string {
  if (typeof queue !== 'string' || queue.length === 0 || queue.includes(':')) throw new ConfigError(field, DISTRIBUTED_RULES.queue, queue);
  return queue;
}

/** Checks a connection object. */
export function checkConnection(connection: unknown, field = 'distributed.connection'): RedisConnectionOptions {
  if (!isObject(connection)) throw new ConfigError(field, DISTRIBUTED_RULES.connection, connection);
  const { port, host } = connection;
  if (port !== undefined && !(typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535)) throw new ConfigError(`${field}.port`, DISTRIBUTED_RULES.port, port);
  if (host !== undefined && (typeof host !== 'string' || host.length === 0)) throw new ConfigError(`${field}.host`, DISTRIBUTED_RULES.connection, host);
  return connection as RedisConnectionOptions;
}

/** Checks an optional positive number. */
export function checkPositive(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !(value > 0)) throw new ConfigError(field, `${field} ${DISTRIBUTED_RULES.positive}`, value);
  return value;
}

/** Checks the whole `.distributed({ ... })` config. */
export function checkDistributedConfig(config: unknown): DistributedConfig {
  if (!isObject(config)) throw new ConfigError('distributed', 'distributed must be an object { engine, connection, queue }', config);
  if (config.engine !== 'bullmq') throw new ConfigError('distributed.engine', DISTRIBUTED_RULES.engine, config.engine);
  checkQueueName(config.queue);
  checkConnection(config.connection);
  checkPositive(config.maxPayloadBytes, 'distributed.maxPayloadBytes');
  checkPositive(config.pollMs, 'distributed.pollMs');
  const defaults = config.defaults;
  if (defaults !== undefined) {
    if (!isObject(defaults)) throw new ConfigError('distributed.defaults', 'distributed.defaults must be an object', defaults);
    if (defaults.attempts !== undefined && !(typeof defaults.attempts === 'number' && Number.isInteger(defaults.attempts) && defaults.attempts >= 1)) {
      throw new ConfigError('distributed.defaults.attempts', 'distributed.defaults.attempts must be an integer >= 1', defaults.attempts);
    }
    checkPositive(defaults.timeoutMs, 'distributed.defaults.timeoutMs');
    checkPositive(defaults.keepFinishedSeconds, 'distributed.defaults.keepFinishedSeconds');
  }
  return config as unknown as DistributedConfig;
}
