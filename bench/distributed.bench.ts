/**
 * Remote tasks on BullMQ, one redis-server, one run: 10,000 tiny jobs and 2,000 CPU jobs
 * (fib(27)) through `serveTasks` (the local work-stealing pool), beside a raw BullMQ
 * `Worker` with the same processor inline, and beside BullMQ's sandboxed processor on
 * worker threads (`useWorkerThreads`) with as many threads as zokio's pool.
 *
 * Each measured run submits every job at once (one add per job, as callers would) and
 * reports jobs/s from the first add to the last result. The latency (p50, p99: result
 * time minus add time per job) and the Redis memory per job (`used_memory` after the run
 * minus before, finished jobs kept) of the same subject's latest run are reported as
 * their own cases. Skipped, with the reason printed, when redis-server is not installed.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Queue, QueueEvents, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { Runtime } from '../src/index.js';
import { serveTasks, type TaskServer } from '../src/distributed/index.js';
import { disconnectAll, loadBullMQ, loadIORedis, redisClient, type RedisClass } from '../src/distributed/job.js';
import { hasRedisServer, REDIS_SERVER, startRedisServer, type RedisServer } from '../test/distributed/redis-server.js';
import { defineSuite, type BenchCase, type MeasureOptions } from './harness.js';
import { benchTasks, fib } from './fixtures/distributed-tasks.js';

const THREADS = Math.max(2, availableParallelism());
const FIB = 27;
const CONCURRENCY = 64;
const PROCESSOR = fileURLToPath(new URL('./fixtures/bullmq-processor.mjs', import.meta.url));

type Kind = 'tiny' | 'fib';
type Subject = 'zokio' | 'bullmq inline' | 'bullmq sandboxed';
interface RunStats { p50: number; p99: number; bytesPerJob: number }

let redis: RedisServer | undefined;
let zokioServer: TaskServer | undefined;
let rt: ReturnType<typeof producer> | undefined;
const raw: Array<{ queue: Queue; events: QueueEvents; worker: Worker }> = [];
const rawBy = new Map<Subject, { queue: Queue; events: QueueEvents }>();
const last = new Map<string, RunStats>();
/** The peers' Redis clients, BullMQ's copies too: teardown disconnects them all. */
const clients: Redis[] = [];
function client(Redis: RedisClass, connection: { host: string; port: number }): Redis {
  return redisClient(Redis, connection, {}, (c) => clients.push(c));
}

function producer(port: number) {
  return Runtime.builder().distributed({ engine: 'bullmq', connection: { host: '127.0.0.1', port }, queue: 'bench-zokio' }).build();
}

function count(kind: Kind, quick: boolean): number {
  return kind === 'tiny' ? (quick ? 1000 : 10_000) : quick ? 200 : 2000;
}

async function usedMemory(): Promise<number> {
  const info = await redis!.command('INFO', 'memory');
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** One run: submit every job, wait for every result; jobs/s from first add to last result. */
async function run(subject: Subject, kind: Kind, { quick }: MeasureOptions): Promise<number> {
  const n = count(kind, quick);
  const arg = kind === 'tiny' ? 1 : FIB;
  const expected = kind === 'tiny' ? 2 : fib(FIB);
  const before = await usedMemory();
  const latencies = new Array<number>(n);
  const t0 = performance.now();
  if (subject === 'zokio') {
    const ref = kind === 'tiny' ? benchTasks.tiny : benchTasks.fib;
    await Promise.all(Array.from({ length: n }, async (_, i) => {
      const sent = performance.now();
      const v = await rt!.remote.exec(ref, arg);
      latencies[i] = performance.now() - sent;
      if (v !== expected) throw new Error(`zokio ${kind} gave ${v}`);
    }));
  } else {
    const { queue, events } = rawBy.get(subject)!;
    const sentAt = new Map<string, number>();
    let done = 0;
    let k = 0;
    const finished = new Promise<void>((resolve, reject) => {
      const onDone = ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }): void => {
        const sent = sentAt.get(jobId);
        if (sent === undefined) return;
        sentAt.delete(jobId);
        if (returnvalue !== expected) reject(new Error(`${subject} ${kind} gave ${String(returnvalue)}`));
        latencies[k++] = performance.now() - sent;
        if (++done === n) {
          events.off('completed', onDone);
          resolve();
        }
      };
      const onFailed = ({ jobId, failedReason }: { jobId: string; failedReason: string }): void => {
        if (sentAt.has(jobId)) reject(new Error(`${subject} job failed: ${failedReason}`));
      };
      events.on('completed', onDone);
      events.on('failed', onFailed);
    });
    finished.catch(() => undefined).finally(() => events.removeAllListeners('failed'));
    const runId = `${Date.now().toString(36)}-`;
    await Promise.all(Array.from({ length: n }, (_, i) => {
      const jobId = `${runId}${i}`;
      sentAt.set(jobId, performance.now());
      return queue.add(kind, { kind, n: arg }, { jobId, removeOnComplete: { age: 3600 }, removeOnFail: { age: 3600 } });
    }));
    await finished;
  }
  const elapsed = performance.now() - t0;
  const after = await usedMemory();
  latencies.sort((a, b) => a - b);
  last.set(`${subject}/${kind}`, { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), bytesPerJob: (after - before) / n });
  await redis!.command('FLUSHALL'); // the next run starts from an empty Redis
  return (n / elapsed) * 1000;
}

function cases(kind: Kind): BenchCase[] {
  const label = kind === 'tiny' ? 'tiny jobs' : `CPU jobs fib(${FIB})`;
  const subjects: Subject[] = ['zokio', 'bullmq inline', 'bullmq sandboxed'];
  const stat = (subject: Subject, key: keyof RunStats) => async (): Promise<number> => {
    const s = last.get(`${subject}/${kind}`);
    if (s === undefined) throw new Error('no run of this subject yet');
    return s[key];
  };
  return [
    ...subjects.map((subject): BenchCase => ({ group: `${label}: throughput`, subject, unit: 'jobs/s', better: 'higher', measure: (o) => run(subject, kind, o) })),
    ...subjects.map((subject): BenchCase => ({ group: `${label}: p50 latency`, subject, unit: 'ms', better: 'lower', measure: stat(subject, 'p50') })),
    ...subjects.map((subject): BenchCase => ({ group: `${label}: p99 latency`, subject, unit: 'ms', better: 'lower', measure: stat(subject, 'p99') })),
    ...subjects.map((subject): BenchCase => ({ group: `${label}: Redis memory`, subject, unit: 'B/job', better: 'lower', measure: stat(subject, 'bytesPerJob') })),
  ];
}

export default defineSuite({
  name: 'distributed',
  title: `remote tasks on BullMQ/Redis: serveTasks (${THREADS} pool threads) vs a raw BullMQ Worker (inline) vs BullMQ sandboxed worker threads (${THREADS})`,
  skip: () => (hasRedisServer() ? undefined : `${REDIS_SERVER} is not installed (apt-get install redis-server)`),
  async setup() {
    redis = await startRedisServer();
    const connection = { host: '127.0.0.1', port: redis.port };
    zokioServer = await serveTasks([benchTasks], { connection, queue: 'bench-zokio', concurrency: CONCURRENCY, workers: THREADS });
    rt = producer(redis.port);
    const [{ Queue, QueueEvents, Worker }, Redis] = await Promise.all([loadBullMQ(), loadIORedis()]);
    const peer = async (subject: Subject, queueName: string, makeWorker: () => Worker): Promise<void> => {
      const queue = new Queue(queueName, { connection: client(Redis, connection) });
      const events = new QueueEvents(queueName, { connection: client(Redis, connection) });
      await events.waitUntilReady();
      const worker = makeWorker();
      await worker.waitUntilReady();
      raw.push({ queue, events, worker });
      rawBy.set(subject, { queue, events });
    };
    await peer('bullmq inline', 'bench-inline', () => new Worker('bench-inline', async (job) => (job.data.kind === 'fib' ? fib(job.data.n as number) : (job.data.n as number) * 2), { connection: client(Redis, connection), concurrency: CONCURRENCY }));
    await peer('bullmq sandboxed', 'bench-sandboxed', () => new Worker('bench-sandboxed', PROCESSOR, { connection: client(Redis, connection), concurrency: THREADS, useWorkerThreads: true, workerThreadsOptions: { execArgv: [] } }));
    // Warm every subject (pool threads load the task module, sandboxes start their threads).
    for (const subject of ['zokio', 'bullmq inline', 'bullmq sandboxed'] as const) await run(subject, 'fib', { quick: true });
  },
  async teardown() {
    await rt?.shutdown();
    await zokioServer?.close();
    for (const { queue, events, worker } of raw.splice(0)) await Promise.allSettled([worker.close(), events.close(), queue.close()]);
    disconnectAll(clients.splice(0));
    await redis?.[Symbol.asyncDispose]();
  },
  cases: [...cases('tiny'), ...cases('fib')],
  targets: [
    { group: 'tiny jobs: throughput', text: '>= 0.9x the raw BullMQ Worker', check: (z, p) => z >= 0.9 * p['bullmq inline']! },
    { group: `CPU jobs fib(${FIB}): throughput`, text: '>= 1.5x the raw inline Worker and >= 1.0x the sandboxed threads', check: (z, p) => z >= 1.5 * p['bullmq inline']! && z >= p['bullmq sandboxed']! },
  ],
});

