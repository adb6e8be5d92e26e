import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect as netConnect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime, RemoteTaskError, TaskNotFoundError, defineTasks } from '../../src/index.js';
import { serveTasks, type TaskServer } from '../../src/distributed/index.js';
import { span } from '../../src/trace/index.js';
import { remoteTasks } from './fixtures/remote-tasks.js';
import { startRedisServer, type RedisServer } from './redis-server.js';

let redis: RedisServer;
let server: TaskServer;
let dir: string;
const queue = 'remote-client';

function runtime() {
  return Runtime.builder().distributed({ engine: 'bullmq', connection: { host: '127.0.0.1', port: redis.port }, queue, pollMs: 200 }).build();
}

beforeAll(async () => {
  redis = await startRedisServer();
  dir = await mkdtemp(join(tmpdir(), 'zokio-remote-'));
  server = await serveTasks([remoteTasks], { connection: { host: '127.0.0.1', port: redis.port }, queue, concurrency: 8, workers: 2 });
});

afterAll(async () => {
  await server?.close();
  await redis?.[Symbol.asyncDispose]();
  await rm(dir, { recursive: true, force: true });
});

describe('rt.remote', () => {
  it('runs a task on the worker and returns its result', async () => {
    await using rt = runtime();
    expect(await rt.remote.exec(remoteTasks.double, 21)).toBe(42);
    expect(await rt.remote.map(remoteTasks.double, [1, 2, 3])).toEqual([2, 4, 6]);
  });

  it('keeps Cloneable types through the round trip', async () => {
    await using rt = runtime();
    const value = { big: 2n ** 70n, when: new Date(5), m: new Map([[1, new Set(['a'])]]), bytes: new Uint8Array([1, 2, 3]), u: undefined, nan: NaN, negZero: -0 };
    const back = await rt.remote.exec(remoteTasks.echo, value);
    expect(back).toEqual(value);
    expect(Object.is(back.negZero, -0)).toBe(true);
  });

  it('returns a string result as that string, from the completion event and from reading the job', async () => {
    await using rt = runtime();
    const log = join(dir, 'string-result.log');
    expect(await rt.remote.exec(remoteTasks.waitForAbort, log, 1)).toBe('done');
    // The same key once the job has finished: the result is read from the job, not from an event.
    expect(await rt.remote.exec({ key: 'string-result' }, remoteTasks.waitForAbort, log, 1)).toBe('done');
    const before = rt.remote.metrics().fromPolls;
    expect(await rt.remote.exec({ key: 'string-result' }, remoteTasks.waitForAbort, log, 1)).toBe('done');
    expect(rt.remote.metrics().fromPolls).toBe(before + 1);
  });

  it('rejects with RemoteTaskError carrying the original name, message, code and stack', async () => {
    await using rt = runtime();
    const err = await rt.remote.exec(remoteTasks.fail, 'bad input').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteTaskError);
    expect(err).toMatchObject({ code: 'ZOKIO_ERR_REMOTE', message: 'bad input', remoteName: 'RangeError', remoteCode: 'E_TEST' });
    expect((err as RemoteTaskError).remoteStack).toContain('remote-tasks.ts');
  });

  it('fails an unknown task once with TaskNotFoundError, without retries', async () => {
    await using rt = runtime();
    const unknown = defineTasks('file:///nowhere/tasks.ts', { missing: (n: number) => n }, { id: 'test-remote' });
    const before = server.metrics().failed;
    const err = await rt.remote.exec({ attempts: 3 }, unknown.missing, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskNotFoundError);
    expect(server.metrics().failed - before).toBe(1);
  });

  it('attaches a repeated call with the same key to the existing job', async () => {
    await using rt = runtime();
    const log = join(dir, 'keyed.log');
    const [a, b] = await Promise.all([
      rt.remote.exec({ key: 'invoice-42' }, remoteTasks.recorded, log, 42, 50),
      rt.remote.exec({ key: 'invoice-42' }, remoteTasks.recorded, log, 42, 50),
    ]);
    const c = await rt.remote.exec({ key: 'invoice-42' }, remoteTasks.recorded, log, 42, 50);
    expect([a, b, c]).toEqual([84, 84, 84]);
    expect((await readFile(log, 'utf8')).trim().split('\n').filter((l) => l.includes('start'))).toHaveLength(1);
  });

  it('delivers progress reported by the task to onProgress', async () => {
    await using rt = runtime();
    const seen: unknown[] = [];
    expect(await rt.remote.exec({ onProgress: (p) => seen.push(p) }, remoteTasks.steps, 3)).toBe(3);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)).toEqual({ step: 3, of: 3 });
  });

  it('aborts a running job: the task sees currentTaskSignal() abort', async () => {
    await using rt = runtime();
    const log = join(dir, 'abort.log');
    const controller = new AbortController();
    const call = rt.remote.exec({ signal: controller.signal }, remoteTasks.waitForAbort, log, 30_000);
    const lines = async (): Promise<string[]> => (await readFile(log, 'utf8').catch(() => '')).trim().split('\n');
    while (!(await lines()).includes('started')) await new Promise((r) => setTimeout(r, 20));
    controller.abort(new Error('stop'));
    await expect(call).rejects.toThrow('stop');
    while ((await lines()).length < 2) await new Promise((r) => setTimeout(r, 20));
    expect(await lines()).toEqual(['started', 'aborted']);
  });

  it('a call aborted while the client is still connecting adds no job and rejects with the reason', async () => {
    // A proxy that holds every connection to Redis until the gate opens: the first calls
    // wait for the connection with their waiters registered.
    let open = false;
    const held: Array<() => void> = [];
    const proxy = createServer((client) => {
      client.pause();
      const connect = (): void => {
        const upstream = netConnect(redis.port, '127.0.0.1');
        client.pipe(upstream).pipe(client);
        client.resume();
        const close = (): void => {
          client.destroy();
          upstream.destroy();
        };
        client.on('error', close).on('close', close);
        upstream.on('error', close).on('close', close);
      };
      if (open) connect();
      else held.push(connect);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const rt = Runtime.builder().distributed({ engine: 'bullmq', connection: { host: '127.0.0.1', port: (proxy.address() as AddressInfo).port }, queue, pollMs: 200 }).build();
    try {
      const controller = new AbortController();
      const aborted = rt.remote.exec({ key: 'aborted-while-connecting', signal: controller.signal }, remoteTasks.double, 1);
      const later = rt.remote.exec(remoteTasks.double, 2);
      while (held.length === 0) await new Promise((r) => setTimeout(r, 5)); // the client is connecting
      controller.abort(new Error('not wanted'));
      await expect(aborted).rejects.toThrow('not wanted');
      open = true;
      for (const connect of held.splice(0)) connect();
      expect(await later).toBe(4); // connected, and the calls after the abort were submitted
      expect(await redis.command('EXISTS', `bull:${queue}:key-aborted-while-connecting`)).toBe(':0\r\n');
      expect(rt.remote.metrics().submitted).toBe(1);
    } finally {
      await rt.shutdown();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('carries the W3C trace context of the caller in the job', async () => {
    const rt = Runtime.builder()
      .tracing({ exporter: 'jsonl', path: join(dir, 'trace.jsonl') })
      .distributed({ engine: 'bullmq', connection: { host: '127.0.0.1', port: redis.port }, queue, pollMs: 200 })
      .build();
    try {
      const caller = await rt.run(() => span('caller', async (s) => {
        expect(await rt.remote.exec({ key: 'traced' }, remoteTasks.double, 4)).toBe(8);
        return { traceId: s.traceId, spanId: s.spanId };
      }));
      const data = JSON.parse((await redis.command('HGET', `bull:${queue}:key-traced`, 'data')).split('\r\n')[1]!) as { tp?: string };
      expect(data.tp).toBe(`00-${caller.traceId}-${caller.spanId}-01`);
    } finally {
      await rt.shutdown();
    }
  });
});
