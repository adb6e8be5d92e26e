import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplyError, RespClient } from '../../../src/distributed/internal/resp-client.js';
import { startRedisServer, type RedisServer } from '../redis-server.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.[Symbol.asyncDispose]();
});

function client(options: Record<string, unknown> = {}): RespClient {
  return new RespClient({ host: '127.0.0.1', port: redis.port, retryStrategy: (n) => Math.min(20 * n, 200), ...options });
}

describe('RespClient', () => {
  it('sends commands as methods and shapes replies as ioredis does', async () => {
    const c = client();
    await c.connect();
    const r = c as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    expect(await r.set!('k', 'v')).toBe('OK');
    expect(await r.get!('k')).toBe('v');
    expect(await r.get!('missing')).toBe(null);
    expect(await r.hset!('h', 'a', 1, 'b', Buffer.from('é'))).toBe(2);
    expect(await r.hgetall!('h')).toEqual({ a: '1', b: 'é' });
    expect(await r.rpush!('l', ['x', ['y', 'z']])).toBe(3); // nested arrays are flattened
    expect(await r.lrange!('l', 0, -1)).toEqual(['x', 'y', 'z']);
    await expect(r.incr!('k')).rejects.toBeInstanceOf(ReplyError);
    expect(c.status).toBe('ready');
    await c.quit();
    expect(c.status).toBe('end');
  });

  it('runs scripts with EVALSHA and loads them again after SCRIPT FLUSH', async () => {
    const c = client();
    c.defineCommand('addTwo', { numberOfKeys: 1, lua: "return redis.call('INCRBY', KEYS[1], ARGV[1]) + 0" });
    const run = (c as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>).addTwo!;
    expect(await run('counter', 2)).toBe(2);
    await c.call('script', 'flush');
    expect(await run('counter', 2)).toBe(4);
    await c.quit();
  });

  it('runs pipelines and MULTI transactions, with an error per failed command', async () => {
    const c = client();
    const p = c.pipeline() as unknown as Record<string, (...a: unknown[]) => unknown> & { exec(): Promise<unknown> };
    p.set!('p1', '1');
    p.incr!('p1');
    p.hset!('p1', 'x', 'y'); // wrong type
    const results = (await p.exec()) as Array<[Error | null, unknown]>;
    expect(results.map(([e, v]) => (e === null ? v : 'error'))).toEqual(['OK', 2, 'error']);
    const m = c.multi() as unknown as Record<string, (...a: unknown[]) => unknown> & { exec(): Promise<unknown> };
    m.set!('m1', 'a');
    m.get!('m1');
    expect(await m.exec()).toEqual([[null, 'OK'], [null, 'a']]);
    await c.quit();
  });

  it('without an offline queue fails at once while disconnected, and reconnects when the server is back', async () => {
    const c = client({ enableOfflineQueue: false });
    await c.connect();
    await redis.stop('SIGKILL');
    await new Promise<void>((resolve) => c.once('close', () => resolve()));
    await expect(c.call('ping')).rejects.toThrow(/enableOfflineQueue/);
    const ready = new Promise<void>((resolve) => c.once('ready', () => resolve()));
    await redis.start();
    await ready;
    expect(await c.call('ping')).toBe('PONG');
    c.disconnect();
    expect(c.status).toBe('end');
  });

  it('with an offline queue holds commands until the server is back; quit() ends at once while disconnected', async () => {
    const c = client();
    await c.connect();
    await redis.stop('SIGTERM');
    await new Promise<void>((resolve) => c.once('close', () => resolve()));
    const held = c.call('ping');
    await redis.start();
    expect(await held).toBe('PONG');
    await redis.stop('SIGKILL');
    await new Promise<void>((resolve) => c.once('close', () => resolve()));
    const pending = c.call('ping');
    expect(await c.quit()).toBe('OK'); // returns although Redis is gone
    await expect(pending).rejects.toThrow('Connection is closed.');
    await redis.start();
  });
});
