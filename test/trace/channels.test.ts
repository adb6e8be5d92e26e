import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/index.js';
import { CHANNELS, installTracing, span, type SpanData, type TaskEndMessage, type TaskSpawnMessage } from '../../src/trace/index.js';
import { taskSpawnChannel } from '../../src/trace/channels.js';

describe('diagnostics channels', () => {
  it('names every runtime event once', () => {
    expect(CHANNELS).toMatchObject({
      taskSpawn: 'zokio:task:spawn',
      taskEnd: 'zokio:task:end',
      workerSteal: 'zokio:worker:steal',
      workerPark: 'zokio:worker:park',
      spanEnd: 'zokio:span:end',
    });
    expect(new Set(Object.values(CHANNELS)).size).toBe(Object.keys(CHANNELS).length);
  });

  it('publishes task spawn and end from the local executor while subscribed', async () => {
    const spawned: TaskSpawnMessage[] = [];
    const ended: TaskEndMessage[] = [];
    const onSpawn = (m: unknown): void => void spawned.push(m as TaskSpawnMessage);
    const onEnd = (m: unknown): void => void ended.push(m as TaskEndMessage);
    const rt = Runtime.builder().build();
    expect(taskSpawnChannel.hasSubscribers).toBe(false);
    await rt.spawn(async () => 1, { name: 'unseen' });
    subscribe(CHANNELS.taskSpawn, onSpawn);
    subscribe(CHANNELS.taskEnd, onEnd);
    try {
      const ok = rt.spawn(async () => 1, { name: 'ok' });
      const bad = rt.spawn(async () => {
        throw new Error('x');
      }, { name: 'bad' });
      await ok;
      await bad.catch(() => undefined);
    } finally {
      unsubscribe(CHANNELS.taskSpawn, onSpawn);
      unsubscribe(CHANNELS.taskEnd, onEnd);
    }
    await rt.spawn(async () => 1, { name: 'unseen after' });
    expect(spawned.map((m) => m.name)).toEqual(['ok', 'bad']);
    expect(ended.map((m) => [m.name, m.state])).toEqual([['ok', 'done'], ['bad', 'failed']]);
    expect(typeof spawned[0]!.id).toBe('number');
    await rt.shutdown();
  });

  it('publishes ended spans on zokio:span:end', async () => {
    const rt = Runtime.builder().build();
    installTracing(rt, { exporter: { export: () => undefined }, flushIntervalMs: 0 });
    const names: string[] = [];
    const onSpan = (m: unknown): void => void names.push((m as SpanData).name);
    subscribe(CHANNELS.spanEnd, onSpan);
    try {
      await rt.run(() => span('seen', () => undefined));
    } finally {
      unsubscribe(CHANNELS.spanEnd, onSpan);
    }
    expect(names).toEqual(['seen']);
    await rt.shutdown();
  });
});
