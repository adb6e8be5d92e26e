import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { Runtime, allSettled, currentRuntime, joinAll, race, spawn, yieldNow } from '../../src/index.js';
import { deferred, flush, untilAborted } from '../helpers.js';

describe('current-runtime context', () => {
  it('free functions see the runtime of rt.run, inside spawned tasks and scopes too', async () => {
    const rt = Runtime.builder().build();
    const seen = await rt.run(async (cx) => {
      expect(cx.runtime).toBe(rt);
      const inTask = await spawn(async () => {
        await yieldNow();
        return spawn(async () => currentRuntime());
      });
      const inScope = await rt.scope(async (s) => s.spawn(async () => currentRuntime()));
      return [currentRuntime(), await inTask, inScope];
    });
    expect(seen).toEqual([rt, rt, rt]);
    await rt.shutdown();
  });

  it('a user AsyncLocalStorage value set around spawn is seen inside the task', async () => {
    const rt = Runtime.builder().build();
    const requestId = new AsyncLocalStorage<string>();
    const ids = await Promise.all(
      ['a', 'b', 'c'].map((id) => requestId.run(id, () => rt.spawn(async () => {
        await yieldNow();
        return requestId.getStore();
      }))),
    );
    expect(ids).toEqual(['a', 'b', 'c']);
    await rt.shutdown();
  });

  it('outside rt.run, free functions use a lazily built default runtime', async () => {
    const rt = currentRuntime();
    expect(rt.report.flavor).toBe('current_thread');
    expect(await spawn(async () => currentRuntime())).toBe(rt);
  });

  it('two runtimes keep their own context', async () => {
    const a = Runtime.builder().build();
    const b = Runtime.builder().build();
    const [ra, rb] = await Promise.all([a.run(async () => spawn(async () => currentRuntime())), b.run(async () => spawn(async () => currentRuntime()))]);
    expect(ra).toBe(a);
    expect(rb).toBe(b);
    await a.shutdown();
    await b.shutdown();
  });
});

describe('combinators', () => {
  it('joinAll returns results in order and aborts the rest on failure', async () => {
    expect(await joinAll([spawn(async () => 1), Promise.resolve('two'), 3])).toEqual([1, 'two', 3]);
    const boom = new Error('boom');
    const reasons: unknown[] = [];
    const slow = spawn(async (cx) => untilAborted(cx.signal).catch((r: unknown) => void reasons.push(r)));
    await expect(joinAll([slow, spawn(async () => { throw boom; })])).rejects.toBe(boom);
    await flush();
    expect(reasons).toEqual([boom]);
  });

  it('allSettled reports every outcome', async () => {
    const results = await allSettled([spawn(async () => 1), spawn(async () => { throw new Error('x'); })]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
  });

  it('race settles with the winner and aborts the losers', async () => {
    const gate = deferred<string>();
    let loserAborted = false;
    const loser = spawn(async (cx) => {
      await untilAborted(cx.signal).catch(() => (loserAborted = true));
      return 'slow';
    });
    const winner = spawn(async () => gate.promise);
    gate.resolve('fast');
    expect(await race([loser, winner])).toBe('fast');
    await flush();
    expect(loserAborted).toBe(true);
  });
});
