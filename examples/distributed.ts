/**
 * The same TaskRefs on several machines, here several processes of one machine: a
 * producer and two worker processes (`serveTasks`) share a BullMQ queue on Redis, and the
 * producer prints where each job ran.
 *
 *   npx tsx examples/distributed.ts             # starts redis-server in a temp dir (needs /usr/bin/redis-server)
 *   REDIS_PORT=6379 npx tsx examples/distributed.ts   # uses a Redis that already runs
 *
 * Calls are at-least-once: a job whose worker dies runs again on the other one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, threadId } from 'node:worker_threads';
import { Runtime, defineTasks } from '../src/index.js';
import { serveTasks } from '../src/distributed/index.js';

function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/** The tasks, with a stable id that is the same on every machine. */
export const tasks = defineTasks(import.meta.url, {
  fibWhere(n: number): { n: number; fib: number; pid: number; thread: number } {
    return { n, fib: fib(n), pid: process.pid, thread: threadId };
  },
}, { id: 'example.distributed' });

const self = fileURLToPath(import.meta.url);

async function freePort(): Promise<number> {
  return await new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function startChild(args: string[], ready: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      if (out.includes(ready)) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code} before '${ready}'`)));
  });
}

async function startRedis(): Promise<{ port: number; stop(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'zokio-example-redis-'));
  const port = await freePort();
  const redis = spawn('/usr/bin/redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--appendonly', 'yes', '--save', '', '--maxmemory-policy', 'noeviction'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    redis.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      if (out.includes('Ready to accept connections')) resolve();
    });
    redis.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  return {
    port,
    stop() {
      redis.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function worker(port: number, name: string): Promise<void> {
  const server = await serveTasks([tasks], { connection: { host: '127.0.0.1', port }, queue: 'example', concurrency: 4, workers: 2 });
  process.stdout.write(`worker ${name} ready\n`);
  process.once('SIGTERM', () => void server.close());
}

async function producer(): Promise<void> {
  const redis = process.env.REDIS_PORT === undefined ? await startRedis() : { port: Number(process.env.REDIS_PORT), stop() {} };
  const workers = [
    await startChild([self, 'worker', String(redis.port), 'A'], 'worker A ready'),
    await startChild([self, 'worker', String(redis.port), 'B'], 'worker B ready'),
  ];
  const names = new Map(workers.map((w, i) => [w.pid, i === 0 ? 'A' : 'B']));
  const rt = Runtime.builder().distributed({ engine: 'bullmq', connection: { host: '127.0.0.1', port: redis.port }, queue: 'example' }).build();
  try {
    const results = await rt.remote.map(tasks.fibWhere, [20, 21, 22, 23, 24, 25, 26, 27]);
    for (const r of results) console.log(`fib(${r.n}) = ${r.fib} ran in worker ${names.get(r.pid) ?? '?'} (pid ${r.pid}, thread ${r.thread})`);
    const used = new Set(results.map((r) => names.get(r.pid)));
    console.log(`workers used: ${[...used].sort().join(', ')}`);
  } finally {
    await rt.shutdown();
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.once('exit', r)))));
    redis.stop();
  }
}

if (isMainThread && process.argv[1] === self) {
  if (process.argv[2] === 'worker') await worker(Number(process.argv[3]), process.argv[4]!);
  else await producer();
}
