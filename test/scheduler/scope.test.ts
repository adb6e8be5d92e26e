import { describe, expect, it } from 'vitest';
import { Runtime, TaskAbortedError } from '../../src/index.js';
import { deferred, flush, untilAborted } from '../helpers.js';

const rt = Runtime.builder().build();

describe('rt.scope', () => {
  it('waits for every child and returns the body result', async () => {
    const finished: number[] = [];
    const gates = [deferred(), deferred(), deferred()];
    const scope = rt.scope(async (s) => {
      gates.forEach((gate, i) => s.spawn(async () => {
        await gate.promise;
        finished.push(i);
      }));
      return 'body';
    });
    let settled = false;
    void scope.then(() => (settled = true));
    await flush();
    gates[2]!.resolve();
    gates[0]!.resolve();
    await flush();
    expect(settled).toBe(false); // child 1 still runs: the scope cannot end before it
    gates[1]!.resolve();
    expect(await scope).toBe('body');
    expect(finished.sort()).toEqual([0, 1, 2]);
  });

  it('the first failure aborts the siblings and is rethrown', async () => {
    const boom = new Error('boom');
    const siblingReasons: unknown[] = [];
    const failNow = deferred();
    const scope = rt.scope(async (s) => {
      for (let i = 0; i < 3; i++) {
        s.spawn(async (cx) => {
          try {
            await untilAborted(cx.signal);
          } catch (reason) {
            siblingReasons.push(reason);
          }
        });
      }
      s.spawn(async () => {
        await failNow.promise;
        throw boom;
      });
    });
    await flush();
    failNow.resolve();
    await expect(scope).rejects.toBe(boom);
    expect(siblingReasons).toEqual([boom, boom, boom]);
  });

  it('a failing body aborts the children and is rethrown', async () => {
    const aborted: boolean[] = [];
    const err = new Error('body failed');
    await expect(
      rt.scope(async (s) => {
        s.spawn(async (cx) => {
          await untilAborted(cx.signal).catch(() => aborted.push(true));
        });
        await flush();
        throw err;
      }),
    ).rejects.toBe(err);
    expect(aborted).toEqual([true]);
  });

  it('aborting the parent signal reaches every child', async () => {
    const parent = new AbortController();
    const reasons: unknown[] = [];
    const scope = rt.scope(
      async (s) => {
        for (let i = 0; i < 2; i++) s.spawn(async (cx) => untilAborted(cx.signal).catch((r: unknown) => void reasons.push(r)));
      },
      { signal: parent.signal },
    );
    await flush();
    parent.abort('parent gone');
    await expect(scope).rejects.toBe('parent gone');
    expect(reasons).toEqual(['parent gone', 'parent gone']);
  });

  it('aborting an outer scope reaches a nested scope opened inside a child', async () => {
    const innerReasons: unknown[] = [];
    const outer = rt.scope(async (s) => {
      s.spawn(async () => {
        await rt.scope(async (inner) => {
          inner.spawn(async (cx) => untilAborted(cx.signal).catch((r: unknown) => void innerReasons.push(r)));
        });
      });
      await flush();
      s.abort('outer abort');
    });
    await expect(outer).rejects.toBe('outer abort');
    expect(innerReasons).toEqual(['outer abort']);
  });

  it('a child aborted on purpose does not fail the scope', async () => {
    const result = await rt.scope(async (s) => {
      const child = s.spawn(async (cx) => untilAborted(cx.signal));
      await flush();
      child.abort();
      await expect(child).rejects.toBeInstanceOf(TaskAbortedError);
      return 'ok';
    });
    expect(result).toBe('ok');
  });

  it('refuses new children once aborted, and rethrows the abort reason', async () => {
    let spawnError: unknown;
    await expect(
      rt.scope(async (s) => {
        s.abort('done');
        try {
          s.spawn(async () => 1);
        } catch (err) {
          spawnError = err;
        }
      }),
    ).rejects.toBe('done');
    expect(spawnError).toBeInstanceOf(TaskAbortedError);
  });
});
