/**
 * The composition function (src/runtime/compose.ts): which parts a config gets, in which
 * order they stop, that building starts no thread, and that the default runtime is made
 * the same way. Tests go through the runtime and the `RuntimePart` / `PartHost` contract.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createRuntime, currentRuntime, Runtime } from '../../src/index.js';
import { stopParts } from '../../src/runtime/compose.js';
import type { PartHost, RuntimePart } from '../../src/runtime/part.js';
import { tasks as blockingTasks } from '../fixtures/blocking-tasks.js';
import { tasks as poolTasks } from '../fixtures/pool-tasks.js';

/** The runtime seen through the part contract. */
function host(rt: object): PartHost {
  return rt as PartHost;
}

const ORDER = ['timers', 'io', 'tracing', 'memory', 'pool', 'blocking', 'signals'];

/** The thread id the next worker thread gets: one more than the last thread the process started. */
async function nextThreadId(): Promise<number> {
  const probe = new Worker('', { eval: true });
  const id = probe.threadId;
  await probe.terminate();
  return id;
}

describe('composeParts', () => {
  it('builds every part a multi-thread config asks for; a current-thread runtime has no pool', async () => {
    const multi = createRuntime({ workers: 1 });
    const single = Runtime.builder().build();
    expect(ORDER.map((name) => host(multi).part(name)?.name)).toEqual(ORDER);
    expect(ORDER.filter((name) => host(single).part(name) !== undefined)).toEqual(ORDER.filter((name) => name !== 'pool'));
    await multi.shutdown();
    await single.shutdown();
  });

  it('shutdown stops the parts in the reverse of the composition order', async () => {
    const rt = createRuntime({ workers: 1 });
    const stopped: string[] = [];
    for (const name of ORDER) {
      const real = host(rt).part<RuntimePart>(name)!;
      host(rt).replacePart({
        name,
        metrics: () => real.metrics?.(),
        shutdown: async (timeoutMs) => {
          stopped.push(name);
          await real.shutdown?.(timeoutMs);
        },
      });
    }
    await rt.shutdown();
    expect(stopped).toEqual([...ORDER].reverse());
  });

  it('building starts no thread: the pool and blocking threads start on first use, and their metrics appear then', async () => {
    const first = await nextThreadId();
    const rt = Runtime.builder().workers(2).blockingThreads(1).build();
    expect(await nextThreadId()).toBe(first + 1); // only the probe itself
    expect(Object.keys(rt.metrics()).sort()).toEqual(['io', 'memory', 'tasks', 'timers']);

    expect(await rt.exec(poolTasks.add, 2, 3)).toBe(5);
    expect(await rt.spawnBlocking(blockingTasks.add, 4, 5)).toBe(9);
    expect(await nextThreadId()).toBeGreaterThanOrEqual(first + 2 + 3); // the probe, then 2 pool workers and 1 blocking thread
    expect(Object.keys(rt.metrics())).toEqual(expect.arrayContaining(['pool', 'blocking']));
    await rt.shutdown();
  });

  it('the default runtime is composed the same way, on first use, and rebuilt after it shut down', async () => {
    const rt = currentRuntime();
    expect(ORDER.filter((name) => host(rt).part(name) !== undefined)).toEqual(ORDER.filter((name) => name !== 'pool'));
    expect(currentRuntime()).toBe(rt);
    await rt.shutdown();
    const next = currentRuntime();
    expect(next).not.toBe(rt);
    expect(host(next).closed).toBe(false);
    await next.shutdown();
  });

  it('replacePart refuses a name the runtime has no part of', async () => {
    const rt = Runtime.builder().build();
    expect(() => host(rt).replacePart({ name: 'pool' })).toThrow(/no 'pool' part/);
    await rt.shutdown();
  });
});

describe('stopParts', () => {
  it('asks every part to stop, from the last, even when one fails, and rethrows the first failure', async () => {
    const stopped: string[] = [];
    const boom = new Error('boom');
    const parts: RuntimePart[] = ['a', 'b', 'c'].map((name) => ({
      name,
      shutdown: (timeoutMs: number) => {
        stopped.push(`${name}:${timeoutMs}`);
        if (name === 'b') throw boom;
      },
    }));
    await expect(stopParts(parts, 7)).rejects.toBe(boom);
    expect(stopped).toEqual(['c:7', 'b:7', 'a:7']);
  });
});
