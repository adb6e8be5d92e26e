import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/index.js';
import { CHANNELS, installTracing, span, type SpanData, type TaskEndMessage, type TaskSpawnMessage, type WorkerParkMessage, type WorkerStealMessage } from '../../src/trace/index.js';
import { taskSpawnChannel } from '../../src/trace/channels.js';
import { tasks as channelTasks } from './fixtures/channel-tasks.js';

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

describe('worker channels', () => {
  it('publish steals, parks and unparks on the pool worker threads', async () => {
    const rt = Runtime.builder().workers(2).build();
    try {
      await rt.run(async () => {
        // Each round one worker runs `split` and the other, idle, steals a half (and has
        // loaded the module, so it is subscribed, from its first steal on).
        for (let round = 0; round < 6; round++) expect(await rt.exec(channelTasks.split, 2_000_000)).toBe(2);
        const reports = new Map<number, { worker: number; steals: WorkerStealMessage[]; parks: WorkerParkMessage[]; unparks: WorkerParkMessage[] }>();
        for (let i = 0; i < 50 && reports.size < 2; i++) {
          const r = await rt.exec(channelTasks.report);
          reports.set(r.worker, r);
        }
        const all = [...reports.values()];
        expect(all.flatMap((r) => r.steals).length).toBeGreaterThan(0);
        for (const r of all) {
          for (const s of r.steals) expect(s).toEqual({ worker: r.worker, from: 1 - r.worker, count: 1 });
          for (const p of [...r.parks, ...r.unparks]) expect(p).toEqual({ worker: r.worker });
        }
        expect(all.some((r) => r.parks.length > 0 && r.unparks.length > 0)).toBe(true);
        const stolen = (rt.metrics().pool as { workers: { stolen: number }[] }).workers.reduce((n, w) => n + w.stolen, 0);
        expect(all.flatMap((r) => r.steals).length).toBeLessThanOrEqual(stolen);
      });
    } finally {
      await rt.shutdown();
    }
  });
});
