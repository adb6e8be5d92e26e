/**
 * JoinSet (tokio's `JoinSet`): results in completion order, waits that take nothing when
 * cancelled, abortAll / detachAll / dispose, and nothing left hanging at shutdown. On a
 * paused VirtualClock; the completion order is recorded by the task bodies themselves.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JoinSet, RuntimeClosedError, sleep, TaskAbortedError, type JoinResult } from '../../src/index.js';
import { flush, pausedRuntime } from '../helpers.js';

function summary<T>(r: JoinResult<T> | undefined): unknown {
  if (r === undefined) return undefined;
  return r.status === 'fulfilled' ? r.value : `rejected:${(r.reason as Error).message}`;
}

describe('JoinSet', () => {
  it('joins in completion order, not spawn order, and is empty afterwards', async () => {
    const { clock, rt } = pausedRuntime();
    await rt.run(async () => {
      const set = new JoinSet<number>();
      for (const ms of [30, 10, 20]) set.spawn(async () => (await sleep(ms), ms));
      expect(set.size).toBe(3);
      const joined: Array<number | undefined> = [];
      const joiner = (async () => {
        for (let i = 0; i < 4; i++) joined.push(await set.joinNext());
      })();
      await clock.advance(30);
      await joiner;
      expect(joined).toEqual([10, 20, 30, undefined]);
      expect(set.size).toBe(0);
      expect(set.isEmpty).toBe(true);
    });
  });

  it('joinNext rejects with a failed task’s error; joinNextSettled and tryJoinNext report it', async () => {
    const { rt } = pausedRuntime();
    await rt.run(async () => {
      const set = new JoinSet<number>();
      set.spawn(() => {
        throw new Error('boom');
      });
      await expect(set.joinNext()).rejects.toThrow('boom');
      set.spawn(() => 7);
      set.spawn(() => {
        throw new Error('bang');
      });
      expect(set.tryJoinNext()).toBeUndefined(); // not started yet: nothing ready, nothing waited for
      await flush();
      expect(summary(set.tryJoinNext())).toBe(7);
      expect(summary(await set.joinNextSettled())).toBe('rejected:bang');
      expect(await set.joinNextSettled()).toBeUndefined();
    });
  });

  it('a failed task in a set is never an unhandled rejection, joined or detached', async () => {
    const { rt } = pausedRuntime();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await rt.run(async () => {
        const set = new JoinSet();
        set.spawn(() => Promise.reject(new Error('kept')));
        const other = new JoinSet();
        other.spawn(() => Promise.reject(new Error('detached')));
        other.detachAll();
        await flush();
        await flush();
        expect(set.size).toBe(1);
      });
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('an aborted joinNext takes nothing: the result stays for the next call', async () => {
    const { clock, rt } = pausedRuntime();
    await rt.run(async () => {
      const set = new JoinSet<string>();
      set.spawn(async () => (await sleep(10), 'a'));
      const controller = new AbortController();
      const first = set.joinNext({ signal: controller.signal });
      controller.abort(new Error('stop waiting'));
      await expect(first).rejects.toThrow('stop waiting');
      await expect(set.joinNext({ signal: AbortSignal.abort(new Error('already')) })).rejects.toThrow('already');
      await clock.advance(10);
      expect(set.size).toBe(1);
      expect(await set.joinNext()).toBe('a');
    });
  });

  it('a task parked in joinNext stops there when it is aborted (no signal passed)', async () => {
    const { rt } = pausedRuntime();
    await rt.run(async () => {
      const set = new JoinSet();
      set.spawn(() => sleep(1_000));
      let after = false;
      const joiner = rt.spawn(async () => {
        await set.joinNext();
        after = true;
      });
      await flush();
      joiner.abort(new Error('go away'));
      await expect(joiner).rejects.toThrow(TaskAbortedError);
      expect(after).toBe(false);
      expect(set.size).toBe(1);
    });
  });

  it('a task that took a ready result (joinNext, joinNextSettled, an empty set) still stops at its next wait when aborted', async () => {
    const { rt } = pausedRuntime();
    await rt.run(async () => {
      for (const join of [(set: JoinSet<number>) => set.joinNext(), (set: JoinSet<number>) => set.joinNextSettled()]) {
        for (const filled of [true, false]) {
          const set = new JoinSet<number>();
          if (filled) set.spawn(() => 1);
          await flush(); // the task has finished: its result is ready
          let resumed = false;
          const joiner = rt.spawn(async () => {
            await join(set);
            resumed = true;
            await sleep(60_000);
            return 'slept';
          });
          await flush();
          expect(resumed).toBe(true);
          joiner.abort(new Error('go away'));
          await expect(joiner).rejects.toThrow(TaskAbortedError);
        }
      }
    });
  });

  it('joinAll returns values in completion order; the first failure aborts and detaches the rest', async () => {
    const { clock, rt } = pausedRuntime();
    await rt.run(async () => {
      const set = new JoinSet<number>();
      for (const ms of [3, 1, 2]) set.spawn(async () => (await sleep(ms), ms));
      const all = set.joinAll();
      await clock.advance(3);
      expect(await all).toEqual([1, 2, 3]);

      const failing = new JoinSet<number>();
      const slow = failing.spawn(async () => (await sleep(100), 1));
      failing.spawn(async () => {
        await sleep(5);
        throw new Error('first failure');
      });
      const joined = failing.joinAll().catch((err: unknown) => err);
      await clock.advance(5);
      expect(await joined).toMatchObject({ message: 'first failure' });
      await expect(slow).rejects.toThrow(TaskAbortedError);
      expect(failing.size).toBe(0);
    });
  });

  it('abortAll keeps the tasks in the set; their outcomes are joined', async () => {
    const { rt } = pausedRuntime();
    await rt.run(async () => {
      const set = new JoinSet<number>();
      set.spawn(() => 1);
      await flush();
      set.spawn(() => sleep(50).then(() => 2));
      set.abortAll(new Error('enough'));
      expect(set.size).toBe(2);
      expect(summary(await set.joinNextSettled())).toBe(1);
      const aborted = await set.joinNextSettled();
      expect(aborted?.status).toBe('rejected');
      expect(aborted?.status === 'rejected' && aborted.reason).toBeInstanceOf(TaskAbortedError);
      expect(await set.joinNextSettled()).toBeUndefined();
    });
  });

  it('detachAll lets tasks run on, empties the set and wakes parked joiners with undefined', async () => {
    const { clock, rt } = pausedRuntime();
    await rt.run(async () => {
      const set = new JoinSet<number>();
      const task = set.spawn(async () => (await sleep(10), 5));
      const parked = set.joinNext();
      await flush();
      set.detachAll();
      expect(await parked).toBeUndefined();
      expect(set.size).toBe(0);
      await clock.advance(10);
      expect(await task).toBe(5);
      expect(set.tryJoinNext()).toBeUndefined();
    });
  });

  it('iterates values as tasks finish; await using aborts and waits for what is left', async () => {
    const { clock, rt } = pausedRuntime();
    const seen: number[] = [];
    let left: Promise<unknown> | undefined;
    await rt.run(async () => {
      await using set = new JoinSet<number>();
      for (const ms of [2, 1]) set.spawn(async () => (await sleep(ms), ms));
      const loop = (async () => {
        for await (const ms of set) seen.push(ms);
      })();
      await clock.advance(2);
      await loop;
      left = set.spawn(() => sleep(1_000).then(() => 0));
    });
    expect(seen).toEqual([1, 2]);
    await expect(left).rejects.toThrow(TaskAbortedError);
  });

  it('runtime shutdown settles every task of a set, so a parked joinNext does not hang', async () => {
    const { rt } = pausedRuntime();
    const set = new JoinSet<void>();
    const pending = rt.run(async () => {
      for (let i = 0; i < 3; i++) set.spawn(() => sleep(60_000));
      const results: unknown[] = [];
      for (let r = await set.joinNextSettled(); r !== undefined; r = await set.joinNextSettled()) {
        results.push(r.status === 'rejected' ? r.reason : r.value);
      }
      return results;
    });
    await flush();
    await rt.shutdown({ timeoutMs: 0 });
    const results = await pending;
    expect(results).toHaveLength(3);
    for (const reason of results) {
      expect(reason).toBeInstanceOf(TaskAbortedError);
      expect((reason as TaskAbortedError).cause).toBeInstanceOf(RuntimeClosedError);
    }
  });

  it('property: joinNext order equals completion order, with failures, aborts and concurrent joiners', async () => {
    type Plan = { readonly ms: number; readonly end: 'value' | 'throw' | 'abort' };
    const plan = fc.record({ ms: fc.integer({ min: 0, max: 20 }), end: fc.constantFrom<'value' | 'throw' | 'abort'>('value', 'throw', 'abort') });
    await fc.assert(
      fc.asyncProperty(fc.array(plan, { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 3 }), async (plans: Plan[], joiners) => {
        const { clock, rt } = pausedRuntime();
        await rt.run(async () => {
          const set = new JoinSet<number>();
          // Completion is when a handle settles: a reaction registered right after the set's own
          // runs in the same batch, in settle order.
          const completed: number[] = [];
          const tasks = plans.map((p, i) => {
            const task = set.spawn(async () => {
              await sleep(p.ms);
              if (p.end === 'throw') throw new Error(String(i));
              return i;
            });
            const done = (): void => void completed.push(i);
            task.then(done, done);
            return task;
          });
          const joined: number[] = [];
          const loops = Array.from({ length: joiners }, async () => {
            for (let r = await set.joinNextSettled(); r !== undefined; r = await set.joinNextSettled()) {
              joined.push(tasks.indexOf(r.task as (typeof tasks)[number]));
            }
          });
          await flush();
          // Aborts happen at half of each task's delay.
          for (const [i, p] of plans.entries()) if (p.end === 'abort') void sleep(Math.floor(p.ms / 2)).then(() => tasks[i]!.abort());
          await clock.advance(21);
          await Promise.all(loops);
          expect(joined).toEqual(completed);
          expect(set.size).toBe(0);
        });
      }),
      { numRuns: 60 },
    );
  });

  it('100,000 tasks: joinNext order equals completion order; abortAll settles every handle', async () => {
    const { clock, rt } = pausedRuntime();
    await rt.run(async () => {
      const n = 100_000;
      const set = new JoinSet<number>();
      const completed: number[] = [];
      // A deterministic scatter of delays: many ties and an order far from the spawn order.
      for (let i = 0; i < n; i++) {
        const ms = (i * 7919) % 1000;
        set.spawn(async () => {
          await sleep(ms);
          completed.push(i);
          return i;
        });
      }
      await clock.advance(1000);
      const joined: number[] = [];
      for (let v = await set.joinNext(); v !== undefined; v = await set.joinNext()) joined.push(v);
      expect(joined.length).toBe(n);
      expect(joined).toEqual(completed);

      const handles = [];
      for (let i = 0; i < n; i++) handles.push(set.spawn(() => sleep(60_000).then(() => i)));
      await flush();
      set.abortAll(new Error('all of them'));
      const outcomes = await Promise.allSettled(handles);
      expect(outcomes.every((o) => o.status === 'rejected' && o.reason instanceof TaskAbortedError)).toBe(true);
      let rejected = 0;
      for (let r = set.tryJoinNext(); r !== undefined; r = set.tryJoinNext()) if (r.status === 'rejected') rejected++;
      expect(rejected).toBe(n);
      expect(set.size).toBe(0);
    });
  });
});

