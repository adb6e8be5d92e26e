/**
 * What a job carries between the caller and a worker machine, and the few helpers both
 * sides share: loading BullMQ and ioredis (optional peer dependencies, so only on first
 * use), making Redis clients, job ids from keys, and errors as text in BullMQ's
 * `failedReason`.
 *
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Redis, RedisOptions } from 'ioredis';
import { RemoteTaskError, TaskArgumentError, TaskNotFoundError, ZokioError } from '../errors.js';
import type { Encoded } from './encoding.js';
import type { RedisConnectionOptions } from './options.js';

/** The data of every job: the task by stable id and name, the encoded arguments, the trace. */
export interface JobData {
  /** Protocol version. */
  readonly v: 1;
  /** Stable id of the task module (`defineTasks(url, fns, { id })`). */
  readonly id: string;
  /** Task name inside the module. */
  readonly name: string;
  /** The argument list, tagged JSON. */
  readonly args: Encoded;
  /** W3C `traceparent` of the caller's span, when it had one. */
  readonly tp?: string;
  /** 1 when the caller listens for progress (the worker then writes it before the result). */
  readonly p?: 1;
}

/** The BullMQ module, imported on first use. */
export type BullMQ = typeof import('bullmq');
/** ioredis's client class, imported on first use. */
export type RedisClass = typeof Redis;

let bullmq: Promise<BullMQ> | undefined;
let ioredis: Promise<RedisClass> | undefined;

/** Imports BullMQ once; a coded error says how to install it when it is missing. */
export function loadBullMQ(): Promise<BullMQ> {
  bullmq ??= import('bullmq').catch((err: unknown) => {
    bullmq = undefined;
    throw peerMissing('bullmq', err);
  });
  return bullmq;
}

/** Imports ioredis (the Redis client BullMQ drives) once; a coded error when it is missing. */
export function loadIORedis(): Promise<RedisClass> {
  ioredis ??= import('ioredis').then((m) => m.Redis, (err: unknown) => {
    ioredis = undefined;
    throw peerMissing('ioredis', err);
  });
  return ioredis;
}

function peerMissing(name: string, err: unknown): ZokioError {
  return new ZokioError('ZOKIO_ERR_CONFIG', `zokio/distributed needs the '${name}' package (npm install ${name}): ${err instanceof Error ? err.message : String(err)}`);
}

/**
 * An ioredis client for BullMQ from connection options: it reconnects for ever (quickly at
 * first, then every second), and its commands wait for the connection
 * (`maxRetriesPerRequest: null`, which BullMQ requires of blocking connections) unless
 * `options` say otherwise.
 *
 * `track` is called with the client and with every copy made from it by `duplicate()`
 * (BullMQ makes its blocking connections so), so that the owner can `disconnect()` them
 * all: BullMQ's `close()` quits its copies gracefully, which waits for Redis when it is
 * gone. Errors are left to status and rejected commands; a listener keeps ioredis from
 * logging each failed reconnect as an unhandled error event.
 */
export function redisClient(Redis: RedisClass, connection: RedisConnectionOptions, options: RedisOptions = {}, track?: (client: Redis) => void): Redis {
  const client = new Redis({
    host: connection.host ?? '127.0.0.1',
    port: connection.port ?? 6379,
    username: connection.username,
    password: connection.password,
    db: connection.db,
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(50 * times, 1000),
    ...options,
  });
  adopt(client, track);
  return client;
}

function adopt(client: Redis, track: ((client: Redis) => void) | undefined): void {
  client.on('error', () => undefined);
  if (track === undefined) return;
  track(client);
  const duplicate = client.duplicate.bind(client);
  client.duplicate = (override) => {
    const copy = duplicate(override);
    adopt(copy, track);
    return copy;
  };
}

/**
 * Closes each client at once (ioredis's `disconnect()`), skipping those ended already: on
 * an ended client ioredis arms a 2 s timer that nothing clears, which would keep the
 * process alive that long.
 */
export function disconnectAll(clients: Iterable<Redis>): void {
  for (const client of clients) if (client.status !== 'end') client.disconnect();
}

/** The channel on which callers ask workers to abort a running job. */
export function cancelChannel(prefix: string, queue: string): string {
  return `${prefix}:${queue}:zokio-cancel`;
}

/** This process's random part of {@link callJobId}: 12 base64url characters (72 bits), made on first use. */
let callPrefix: string | undefined;
let callCount = 0;

/**
 * The job id of a call without `key`: `c`, a random part drawn once per process, and a
 * counter in base 36 (`cq3Hk1yZ0aB-x7k`, 14 to 20 characters). Two processes share a
 * random part with odds of about n² / 2^73 for n processes, at less than half a UUID's length: the id
 * is in every Redis key and command of the job (35 commands a job), so its length costs on
 * every one. Never an integer and never `:`, as BullMQ requires, and never a key's id
 * (those begin with `key`).
 */
export function callJobId(): string {
  callPrefix ??= randomBytes(9).toString('base64url');
  return `c${callPrefix}${(callCount++).toString(36)}`;
}

/** The job id of a call with `key`: deterministic, so a repeated call finds the same job. */
export function jobIdForKey(key: string): string {
  // BullMQ ids cannot contain ':' nor be integers; a digest keeps any key usable.
  return /^[A-Za-z0-9_.-]{1,100}$/.test(key) && !/^\d+$/.test(key) ? `key-${key}` : `key#${createHash('sha256').update(key).digest('base64url')}`;
}

/** The error as text for `failedReason`: JSON with name, message, code and stack. */
export function errorToReason(err: unknown): string {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  return JSON.stringify({ zokio: 1, name: e.name, message: e.message, code: typeof code === 'string' ? code : undefined, stack: e.stack });
}

/**
 * The error a caller sees for a `failedReason`: `TaskNotFoundError` or `TaskArgumentError`
 * as themselves (the call itself was wrong), anything else as `RemoteTaskError`.
 */
export function errorFromReason(reason: string | undefined): Error {
  let wire: { name: string; message: string; code?: string; stack?: string } = { name: 'Error', message: reason ?? 'job failed' };
  try {
    const parsed = JSON.parse(reason ?? '') as { zokio?: number; name: string; message: string; code?: string; stack?: string };
    if (parsed !== null && parsed.zokio === 1) wire = parsed;
  } catch {
    // A reason written by BullMQ itself (stalled too many times, lock lost): plain text.
  }
  if (wire.code === TaskNotFoundError.code) return new TaskNotFoundError(wire.message);
  if (wire.code === TaskArgumentError.code) return new TaskArgumentError(wire.message);
  return new RemoteTaskError(wire);
}

