/**
 * serveTasks under failure, against a real redis-server and worker processes: a worker
 * killed with SIGKILL, Redis stopped for longer than 8 s (SIGTERM, then SIGKILL), closing
 * under load, closing with Redis gone. These tests take real time (locks must lapse);
 * they assert what was delivered and how often it ran, never how long it took.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RemoteUnavailableError, Runtime, TaskArgumentError, defineTasks } from '../../src/index.js';
import { serveTasks } from '../../src/distributed/index.js';
import { remoteTasks } from './fixtures/remote-tasks.js';
import { startRedisServer, type RedisServer } from './redis-server.js';
import { startWorkerProcess, type WorkerProcess } from './worker-process.js';

let redis: RedisServer;
let dir: string;
const workers: WorkerProcess[] = [];

beforeEach(async () => {
  redis = await startRedisServer();
  dir = await mkdtemp(join(tmpdir(), 'zokio-serve-'));
});

afterEach(async () => {
  for (const w of workers.splice(0)) {
    w.child.kill('SIGKILL');
    await w.exited;
  }
  await redis[Symbol.asyncDispose]();
  await rm(dir, { recursive: true, force: true });
});

function producer(queue: string) {
  return Runtime.builder().distributed({ engine: 'bullmq', connection: { host: '127.0.0.1', port: redis.port }, queue, pollMs: 500 }).build();
}

async function worker(queue: string, concurrency = 4, lockMs = 2000): Promise<WorkerProcess> {
  const w = await startWorkerProcess(redis.port, queue, concurrency, lockMs);
  workers.push(w);
  return w;
}

interface Execution { readonly n: number; readonly event: 'start' | 'done'; readonly pid: number }

async function executions(log: string): Promise<Execution[]> {
  const text = await readFile(log, 'utf8').catch(() => '');
  return text.trim().split('\n').filter(Boolean).map((line) => {
    const [n, event, pid] = line.split(' ');
    return { n: Number(n), event: event as 'start' | 'done', pid: Number(pid) };
  });
}

function startsPerJob(list: readonly Execution[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const e of list) if (e.event === 'start') counts.set(e.n, (counts.get(e.n) ?? 0) + 1);
  return counts;
}

async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 20));
}

async function queueCounts(queue: string): Promise<{ active: number; wait: number }> {
  const num = (reply: string): number => Number(reply.slice(1).trim());
  return { active: num(await redis.command('LLEN', `bull:${queue}:active`)), wait: num(await redis.command('LLEN', `bull:${queue}:wait`)) };
}

describe('serveTasks', () => {
  it('a worker killed with SIGKILL: every job completes, each result once, only its jobs ran twice', async () => {
    const queue = 'kill';
    const log = join(dir, 'kill.log');
    const victim = await worker(queue);
    await using rt = producer(queue);
    const n = 40;
    let delivered = 0;
    const calls = Array.from({ length: n }, (_, i) => rt.remote.exec(remoteTasks.recorded, log, i, 300).then((v) => {
      delivered++;
      return v;
    }));
    await until(async () => (await executions(log)).filter((e) => e.pid === victim.pid && e.event === 'start').length >= 4);
    const survivor = await worker(queue);
    victim.child.kill('SIGKILL');
    await victim.exited;
    const atKill = await executions(log);

    expect(await Promise.all(calls)).toEqual(Array.from({ length: n }, (_, i) => i * 2));
    expect(delivered).toBe(n);
    const m = rt.remote.metrics();
    expect(m.fromEvents + m.fromPolls).toBe(n); // every call settled once
    expect(m.pending).toBe(0);

    const all = await executions(log);
    const starts = startsPerJob(all);
    const victimStarted = new Set(atKill.filter((e) => e.pid === victim.pid && e.event === 'start').map((e) => e.n));
    const victimFinished = new Set(all.filter((e) => e.pid === victim.pid && e.event === 'done').map((e) => e.n));
    for (let i = 0; i < n; i++) {
      const count = starts.get(i) ?? 0;
      if (count !== 1) {
        expect(count, `job ${i}`).toBe(2);
        expect(victimStarted.has(i), `job ${i} ran twice but the killed worker had not started it`).toBe(true);
      }
      if (victimStarted.has(i) && !victimFinished.has(i)) expect(count, `job ${i} was cut short by the kill`).toBe(2);
    }
    expect([...starts.values()].filter((c) => c === 2).length).toBeGreaterThan(0);
    expect(all.some((e) => e.pid === survivor.pid)).toBe(true);
  }, 120_000);

  it.each(['SIGTERM', 'SIGKILL'] as const)('Redis stopped with %s for more than 8 s: everything completes after, workers resume without restart', async (signal) => {
    const queue = `outage-${signal}`;
    const log = join(dir, 'outage.log');
    const w = await worker(queue);
    await using rt = producer(queue);
    const n = 30;
    const calls = Array.from({ length: n }, (_, i) => rt.remote.exec(remoteTasks.recorded, log, i, 200));
    await until(async () => (await executions(log)).filter((e) => e.event === 'done').length >= 4);
    await redis.stop(signal);
    // Producers fail fast while Redis is gone, with a coded error.
    await until(async () => {
      const err = await rt.remote.exec(remoteTasks.double, 1).catch((e: unknown) => e);
      return err instanceof RemoteUnavailableError;
    });
    await new Promise((r) => setTimeout(r, 8500));
    await redis.start();

    expect(await Promise.all(calls)).toEqual(Array.from({ length: n }, (_, i) => i * 2));
    expect(rt.remote.metrics().pending).toBe(0);
    const starts = startsPerJob(await executions(log));
    for (let i = 0; i < n; i++) expect(starts.get(i) ?? 0, `job ${i}`).toBeGreaterThanOrEqual(1);
    // The same worker process takes new jobs after the outage.
    expect(await rt.remote.exec(remoteTasks.double, 21)).toBe(42);
    expect(w.child.exitCode).toBe(null);
    expect((await executions(log)).filter((e) => e.pid !== w.pid)).toEqual([]);
  }, 120_000);

  it('closing under load finishes the running jobs and leaves no active or stalled job', async () => {
    const queue = 'close-load';
    const log = join(dir, 'close.log');
    const first = await worker(queue);
    await using rt = producer(queue);
    const n = 30;
    const calls = Array.from({ length: n }, (_, i) => rt.remote.exec(remoteTasks.recorded, log, i, 200));
    await until(async () => (await executions(log)).filter((e) => e.event === 'start').length >= 4);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('closed');
    expect((await queueCounts(queue)).active).toBe(0);
    const list = await executions(log);
    const started = list.filter((e) => e.event === 'start').length;
    expect(list.filter((e) => e.event === 'done').length).toBe(started); // none cut short

    await worker(queue);
    expect(await Promise.all(calls)).toEqual(Array.from({ length: n }, (_, i) => i * 2));
    for (const [job, count] of startsPerJob(await executions(log))) expect(count, `job ${job}`).toBe(1);
  }, 120_000);

  it('close() returns within closeTimeoutMs when Redis is unreachable', async () => {
    const server = await serveTasks([remoteTasks], { connection: { host: '127.0.0.1', port: redis.port }, queue: 'gone', workers: 1, closeTimeoutMs: 1000 });
    const rt = producer('gone');
    expect(await rt.remote.exec(remoteTasks.double, 2)).toBe(4);
    await redis.stop('SIGKILL');
    await server.close();
    await rt.shutdown({ timeoutMs: 1000 });
  }, 60_000);

  it('options.signal ends the start while Redis is down, and closes a running server', async () => {
    // Redis down: BullMQ waits for it for as long as it is down; the signal ends that wait.
    await redis.stop('SIGKILL');
    const starting = new AbortController();
    const pending = serveTasks([remoteTasks], { connection: { host: '127.0.0.1', port: redis.port }, queue: 'down', workers: 1, closeTimeoutMs: 1000, signal: starting.signal });
    let settled = false;
    void pending.then(() => (settled = true), () => (settled = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(settled).toBe(false);
    starting.abort(new Error('stop waiting for Redis'));
    await expect(pending).rejects.toThrow('stop waiting for Redis');
    // An aborted signal refuses at once.
    await expect(serveTasks([remoteTasks], { connection: { host: '127.0.0.1', port: redis.port }, queue: 'down', signal: starting.signal })).rejects.toThrow('stop waiting for Redis');

    // Redis up: the signal closes the server as close() does; jobs then wait for another worker.
    await redis.start();
    const running = new AbortController();
    const server = await serveTasks([remoteTasks], { connection: { host: '127.0.0.1', port: redis.port }, queue: 'up', workers: 1, signal: running.signal });
    await using rt = producer('up');
    expect(await rt.remote.exec(remoteTasks.double, 3)).toBe(6);
    running.abort();
    await server.close(); // the same close the signal started
    const next = rt.remote.exec(remoteTasks.double, 4);
    await until(async () => (await queueCounts('up')).wait === 1);
    await using again = await serveTasks([remoteTasks], { connection: { host: '127.0.0.1', port: redis.port }, queue: 'up', workers: 1 });
    expect(await next).toBe(8);
    expect(again.metrics().completed).toBe(1);
    expect(server.metrics().completed).toBe(1);
  }, 60_000);

  it('bad input gives its coded error and leaves the queue empty', async () => {
    const queue = 'bad-input';
    await using rt = producer(queue);
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    const noId = defineTasks('file:///elsewhere.ts', { f: (x: number) => x });
    const cases: Array<() => Promise<unknown>> = [
      () => rt.remote.exec(remoteTasks.echo, { fn: () => 1 } as never),
      () => rt.remote.exec(remoteTasks.echo, new (class { m() {} })() as never),
      () => rt.remote.exec(remoteTasks.echo, new SharedArrayBuffer(4) as never),
      () => rt.remote.exec(remoteTasks.echo, cyclic as never),
      () => rt.remote.exec(remoteTasks.echo, 'x'.repeat(600_000) as never),
      () => rt.remote.map(remoteTasks.double, [1, (() => 2) as never]),
      () => rt.remote.exec(noId.f, 1),
    ];
    for (const call of cases) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TaskArgumentError);
      expect((err as TaskArgumentError).code).toBe('ZOKIO_ERR_TASK_ARGUMENT');
    }
    expect(await redis.command('KEYS', `bull:${queue}:*`)).toBe('*0\r\n');
  });
});
