import { describe, expect, it } from 'vitest';
import { ConfigError, RemoteUnavailableError, Runtime, defineTasks } from '../../src/index.js';
import { DISTRIBUTED_RULES, serveTasks } from '../../src/distributed/index.js';
import type { DistributedConfig } from '../../src/distributed/options.js';

function buildWith(config: unknown) {
  return () => Runtime.builder().distributed(config as DistributedConfig).build();
}

describe('.distributed(...) options', () => {
  it.each([
    ['distributed.engine', { engine: 'kafka', connection: {}, queue: 'q' }, DISTRIBUTED_RULES.engine],
    ['distributed.queue', { engine: 'bullmq', connection: {}, queue: '' }, DISTRIBUTED_RULES.queue],
    ['distributed.queue', { engine: 'bullmq', connection: {}, queue: 'a:b' }, DISTRIBUTED_RULES.queue],
    ['distributed.connection', { engine: 'bullmq', queue: 'q' }, DISTRIBUTED_RULES.connection],
    ['distributed.connection.port', { engine: 'bullmq', connection: { port: 0 }, queue: 'q' }, DISTRIBUTED_RULES.port],
    ['distributed.defaults.attempts', { engine: 'bullmq', connection: {}, queue: 'q', defaults: { attempts: 0 } }, 'attempts must be an integer >= 1'],
  ])('build() rejects a bad %s with ConfigError naming it', (field, config, rule) => {
    const err = (() => {
      try {
        buildWith(config)();
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({ code: 'ZOKIO_ERR_CONFIG', field });
    expect((err as Error).message).toContain(rule);
  });

  it('a valid config builds without connecting (BullMQ loads on the first call)', async () => {
    const rt = Runtime.builder().distributed({ engine: 'bullmq', connection: { port: 1 }, queue: 'q' }).build();
    expect(rt.config.distributed).toMatchObject({ engine: 'bullmq', queue: 'q' });
    expect(rt.remote.metrics()).toEqual({ submitted: 0, pending: 0, fromEvents: 0, fromPolls: 0 });
    await rt.shutdown();
  });

  it('serveTasks refuses task modules without a stable id', async () => {
    const noId = defineTasks('file:///no-id.ts', { f: (n: number) => n });
    await expect(serveTasks([noId], { connection: { port: 1 }, queue: 'q' })).rejects.toThrow(/no stable id/);
  });
});

describe('rt.remote with Redis unreachable', () => {
  it('fails fast with RemoteUnavailableError and shuts down', async () => {
    const tasks = defineTasks('file:///unreachable.ts', { f: (n: number) => n }, { id: 'unreachable' });
    // Port 1 on 127.0.0.1: nothing listens there (connections are refused).
    const rt = Runtime.builder().distributed({ engine: 'bullmq', connection: { host: '127.0.0.1', port: 1 }, queue: 'q' }).build();
    const err = await rt.remote.exec(tasks.f, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteUnavailableError);
    expect((err as RemoteUnavailableError).code).toBe('ZOKIO_ERR_REMOTE_UNAVAILABLE');
    await rt.shutdown({ timeoutMs: 500 });
  });
});
