import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, deadline, interval, JoinSet, now, RuntimeClosedError, sleep, timeout, TimeoutError, type MissedTickBehavior, type RuntimeBase, type Task, type TimerMetrics } from '../../src/index.js';
import type { Alarm, Clock } from '../../src/scheduler/clock.js';
import { useClock } from '../../src/scheduler/time.js';
import { flush, pausedRuntime } from '../helpers.js';

const runtimes: RuntimeBase[] = [];
afterEach(async () => {
  for (const rt of runtimes.splice(0)) await rt.shutdown({ timeoutMs: 0 });
});

/**
 * A runtime on a hand-driven clock whose alarm logs every `set(at, keepAlive)` and
 * `clear()`; `wakeAt(t)` moves the time to `t` and fires the alarm's wake.
 */
function recordingAlarm(): { rt: RuntimeBase; log: Array<[number, boolean] | 'clear'>; wakeAt: (t: number) => void } {
  const log: Array<[number, boolean] | 'clear'> = [];
  let wake: ((now: number) => void) | undefined;
  let time = 0;
  const clock: Clock = {
    now: () => time,
    alarm(onWake): Alarm {
      wake = onWake;
      return { set: (at, keepAlive) => log.push([at, keepAlive]), clear: () => log.push('clear') };
    },
  };
  const rt = createRuntime();
  runtimes.push(rt);
  useClock(rt, clock);
  log.length = 0;
  return {
    rt,
    log,
    wakeAt(t: number): void {
      time = t;
      wake!(t);
    },
  };
}

function timers(rt: RuntimeBase): TimerMetrics {
  return rt.metrics().timers as TimerMetrics;
}

/** Records whether a promise has settled, without awaiting it. */
function track<T>(promise: Promise<T>): { settled: () => boolean; promise: Promise<T> } {
  let settled = false;
  const p = promise.finally(() => {
    settled = true;
  });
  p.catch(() => {});
  return { settled: () => settled, promise: p };
}

describe('sleep', () => {
  it('resolves exactly at its deadline, never before', async () => {
    const { clock, rt } = pausedRuntime();
    const s = track(rt.run(() => sleep(100)));
    await clock.advance(99);
    expect(s.settled()).toBe(false);
    await clock.advance(1);
    expect(s.settled()).toBe(true);
    expect(clock.now()).toBe(100);
  });

  it('chains of sleeps resolve within one advance, in deadline order, ties in schedule order', async () => {
    const { clock, rt } = pausedRuntime();
    const log: string[] = [];
    const done = rt.run(async () => {
      const a = rt.spawn(async () => {
        await sleep(10);
        log.push(`a@${now()}`);
        await sleep(10);
        log.push(`a2@${now()}`);
      });
      const b = rt.spawn(async () => {
        await sleep(10);
        log.push(`b@${now()}`);
      });
      const c = rt.spawn(async () => {
        await sleep(5);
        log.push(`c@${now()}`);
        await sleep(15);
        log.push(`c2@${now()}`);
      });
      await Promise.all([a, b, c]);
    });
    await clock.advance(20);
    await done;
    // a2 and c2 are both due at 20; c2 was scheduled first (at 5, a2 at 10).
    expect(log).toEqual(['c@5', 'a@10', 'b@10', 'c2@20', 'a2@20']);
  });

  it('consecutive plain sleeps due in the same tick share one promise and one timer', async () => {
    const { clock, rt } = pausedRuntime();
    const [a, b, c, d] = await rt.run(() => [sleep(10), sleep(10), sleep(11), sleep(10, {})]);
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(d).not.toBe(a);
    expect(timers(rt).armed).toBe(3);
    await clock.advance(10);
    const [e] = await rt.run(() => [sleep(0)]);
    expect(e).not.toBe(a); // the shared timer fired: a new sleep gets its own
    await clock.advance(1);
    await Promise.all([a, b, c, d, e]);
    expect(timers(rt).armed).toBe(0);
  });

  it('rejects with the signal reason when aborted, and cancels its timer', async () => {
    const { clock, rt } = pausedRuntime();
    const controller = new AbortController();
    const s = track(rt.run(() => sleep(50, { signal: controller.signal })));
    await clock.advance(10);
    expect(timers(rt).armed).toBe(1);
    controller.abort(new Error('stop'));
    await expect(s.promise).rejects.toThrow('stop');
    expect(timers(rt).armed).toBe(0);
    const already = AbortSignal.abort(new Error('early'));
    await expect(rt.run(() => sleep(5, { signal: already }))).rejects.toThrow('early');
    expect(timers(rt).cancelled).toBe(1);
  });

  it('throws RangeError naming ms for negative, NaN or infinite delays', () => {
    for (const bad of [-1, Number.NaN, Infinity]) expect(() => sleep(bad)).toThrow(/^ms must be/);
    expect(() => sleep('5' as never)).toThrow(RangeError);
  });

  it('sets the alarm to keep the process alive only while a non-unref timer is armed', async () => {
    const { rt, log, wakeAt } = recordingAlarm();
    const controller = new AbortController();
    const refd = rt.run(() => sleep(10, { signal: controller.signal }));
    refd.catch(() => {});
    const unrefd = track(rt.run(() => sleep(5, { unref: true })));
    expect(log).toEqual([[10, true], [5, true]]);
    controller.abort();
    await expect(refd).rejects.toBeDefined();
    expect(log[log.length - 1]).toEqual([5, false]); // only the unref'd sleep is left
    wakeAt(5);
    await unrefd.promise;
    expect(log[log.length - 1]).toBe('clear');
    expect(timers(rt)).toMatchObject({ armed: 0, keepingAlive: 0, fired: 1, cancelled: 1 });
  });

  it('a cancelled timer may leave the alarm set: the wake finds nothing due and re-arms for the next timer', async () => {
    const { rt, log, wakeAt } = recordingAlarm();
    const early = new AbortController();
    const cancelled = rt.run(() => sleep(10, { signal: early.signal }));
    cancelled.catch(() => {});
    const later = track(rt.run(() => sleep(20)));
    expect(log).toEqual([[10, true]]);
    early.abort();
    await expect(cancelled).rejects.toBeDefined();
    expect(log).toEqual([[10, true]]); // like clearTimeout: the host timer is not moved later
    wakeAt(10); // a spurious wake: nothing is due, the alarm moves to the armed timer
    expect(log[log.length - 1]).toEqual([20, true]);
    expect(timers(rt)).toMatchObject({ armed: 1, fired: 0, cancelled: 1 });
    wakeAt(20);
    await later.promise;
    expect(log[log.length - 1]).toBe('clear');
    // Cancelling the last armed timer clears the alarm at once, cancelled entries or not.
    const last = new AbortController();
    const p = rt.run(() => sleep(5, { signal: last.signal }));
    p.catch(() => {});
    expect(log[log.length - 1]).toEqual([25, true]);
    last.abort();
    await expect(p).rejects.toBeDefined();
    expect(log[log.length - 1]).toBe('clear');
    expect(timers(rt)).toMatchObject({ armed: 0, keepingAlive: 0, fired: 1, cancelled: 2 });
  });

  it('a process whose timers were all cancelled exits (child process, real clock)', () => {
    // Asserts that the child ends and what it printed, never how long it took: a child still
    // held by the one-minute timers would outlive execFileSync's timeout and fail the test.
    const dir = mkdtempSync(join(tmpdir(), 'zokio-cancel-'));
    const index = join(process.cwd(), 'src/index.ts');
    try {
      const file = join(dir, 'child.mts');
      writeFileSync(
        file,
        `import { sleep, timeout } from ${JSON.stringify(index)};
const controller = new AbortController();
sleep(60_000, { signal: controller.signal }).catch(() => console.log('sleep aborted'));
timeout(60_000, sleep(5)).then(() => console.log('work won'));
sleep(10).then(() => controller.abort());
`,
      );
      const out = execFileSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 30_000 });
      expect(out).toContain('sleep aborted');
      expect(out).toContain('work won');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the process alive like setTimeout; unref opts out (child process, real clock)', () => {
    // Asserts on what the child printed, never on how long anything took.
    const dir = mkdtempSync(join(tmpdir(), 'zokio-sleep-'));
    const index = join(process.cwd(), 'src/index.ts');
    try {
      const file = join(dir, 'child.mts');
      const run = (source: string): string => {
        writeFileSync(file, `import { sleep } from ${JSON.stringify(index)};\n${source}\n`);
        return execFileSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 30_000 });
      };
      // Nothing else keeps the child alive: only the ref'd sleep's host timer can.
      expect(run(`sleep(20).then(() => console.log('ref fired'));`)).toContain('ref fired');
      // An unref'd sleep does not hold the process: it exits long before the minute is up.
      expect(run(`sleep(60_000, { unref: true }).then(() => console.log('unref fired'));`)).not.toContain('unref fired');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects with RuntimeClosedError at shutdown, and a closed runtime refuses new timers', async () => {
    const { clock, rt } = pausedRuntime();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let pending!: Promise<void>;
    const later = rt.run(async () => {
      pending = sleep(1000);
      await gate;
      return sleep(1);
    });
    const pendingOutcome = Promise.resolve().then(() => pending.then(() => 'resolved', (err: unknown) => err));
    await clock.advance(1);
    expect(timers(rt).armed).toBe(1);
    await rt.shutdown({ timeoutMs: 0 });
    expect(timers(rt).armed).toBe(0);
    expect(clock.nextDeadline()).toBeUndefined();
    expect(await pendingOutcome).toBeInstanceOf(RuntimeClosedError);
    release();
    await expect(later).rejects.toBeInstanceOf(RuntimeClosedError);
  });
});

describe('timeout', () => {
  it('resolves with the result when the work wins, and cancels its timer', async () => {
    const { clock, rt } = pausedRuntime();
    const p = rt.run(() => timeout(100, sleep(30).then(() => 'ok')));
    await clock.advance(30);
    await expect(p).resolves.toBe('ok');
    expect(timers(rt).armed).toBe(0);
  });

  it('rejects with TimeoutError and aborts the inner signal with it', async () => {
    const { clock, rt } = pausedRuntime();
    let inner: AbortSignal | undefined;
    const p = track(
      rt.run(() =>
        timeout(50, async ({ signal }) => {
          inner = signal;
          await sleep(1000, { signal });
          return 'late';
        }),
      ),
    );
    await clock.advance(49);
    expect(p.settled()).toBe(false);
    await clock.advance(1);
    const err = await p.promise.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).code).toBe('ZOKIO_ERR_TIMEOUT');
    expect(inner!.aborted).toBe(true);
    expect(inner!.reason).toBe(err);
    expect(timers(rt).armed).toBe(0); // the inner sleep was cancelled through its signal
  });

  it('aborts a task given as the work', async () => {
    const { clock, rt } = pausedRuntime();
    let task: ReturnType<RuntimeBase['spawn']> | undefined;
    const p = rt.run(() => {
      task = rt.spawn(({ signal }) => sleep(1000, { signal }));
      return timeout(10, task);
    });
    p.catch(() => {});
    await clock.advance(10);
    await expect(p).rejects.toBeInstanceOf(TimeoutError);
    expect(task!.state).toBe('aborted');
  });

  it('rejects with the reason of its own signal and passes it to the work', async () => {
    const { clock, rt } = pausedRuntime();
    const controller = new AbortController();
    let inner: AbortSignal | undefined;
    const p = rt.run(() =>
      timeout(
        100,
        ({ signal }) => {
          inner = signal;
          return new Promise(() => {});
        },
        { signal: controller.signal },
      ),
    );
    await clock.advance(5);
    controller.abort(new Error('caller gave up'));
    await expect(p).rejects.toThrow('caller gave up');
    expect(inner!.reason).toEqual(new Error('caller gave up'));
    expect(timers(rt).armed).toBe(0);
  });

  it('passes through errors of the work, including synchronous throws', async () => {
    const { rt } = pausedRuntime();
    await expect(
      rt.run(() =>
        timeout(10, () => {
          throw new Error('sync');
        }),
      ),
    ).rejects.toThrow('sync');
    await expect(rt.run(() => timeout(10, Promise.reject(new Error('async'))))).rejects.toThrow('async');
    expect(timers(rt).armed).toBe(0);
  });

  it('throws RangeError naming ms', () => {
    expect(() => timeout(-5, Promise.resolve(1))).toThrow(/^ms must be/);
    expect(() => timeout(Number.NaN, Promise.resolve(1))).toThrow(RangeError);
  });
});

describe('deadline', () => {
  it('uses absolute times on the runtime clock', async () => {
    const { clock, rt } = pausedRuntime();
    await clock.advance(1000);
    const p = track(rt.run(() => deadline(1200, sleep(500))));
    await clock.advance(199);
    expect(p.settled()).toBe(false);
    await clock.advance(1);
    await expect(p.promise).rejects.toThrow('deadline of 1200 ms passed');
    const inTime = rt.run(() => deadline(now() + 50, sleep(49).then(() => 'in time')));
    await clock.advance(50);
    await expect(inTime).resolves.toBe('in time');
  });

  it('lets already settled work win over a deadline in the past', async () => {
    const { clock, rt } = pausedRuntime();
    await clock.advance(100);
    const p = rt.run(() => deadline(10, Promise.resolve('done')));
    await clock.advance(0);
    await expect(p).resolves.toBe('done');
  });

  it('throws RangeError naming atMs', () => {
    expect(() => deadline(Number.NaN, Promise.resolve(1))).toThrow(/^atMs must be/);
    expect(() => deadline(Infinity, Promise.resolve(1))).toThrow(RangeError);
  });
});

describe('interval', () => {
  /**
   * Period 10 from t=0. The loop body is instant except after the tick at 20, where it
   * sleeps 25 ms (until 45): the tick at 30 is late and the one at 40 is missed.
   */
  async function ticks(missedTick: MissedTickBehavior, lateBy = 25): Promise<string[]> {
    const { clock, rt } = pausedRuntime();
    const seen: string[] = [];
    const done = rt.run(async () => {
      for await (const at of interval(10, { missedTick })) {
        seen.push(`${at}@${now()}`);
        if (at === 20) await sleep(lateBy);
        if (seen.length === 6) break;
      }
    });
    await clock.advance(100);
    await done;
    expect(timers(rt).armed).toBe(0); // break cancelled the pending timer
    return seen;
  }

  it("'burst' yields the missed ticks back to back until caught up", async () => {
    expect(await ticks('burst')).toEqual(['10@10', '20@20', '30@45', '40@45', '50@50', '60@60']);
  });

  it("'delay' counts the next period from the late tick", async () => {
    expect(await ticks('delay')).toEqual(['10@10', '20@20', '30@45', '55@55', '65@65', '75@75']);
  });

  it("'skip' drops the missed ticks and keeps the original schedule", async () => {
    expect(await ticks('skip')).toEqual(['10@10', '20@20', '30@45', '50@50', '60@60', '70@70']);
  });

  it('a loop late by less than a period keeps the schedule under every policy', async () => {
    for (const policy of ['burst', 'delay', 'skip'] as const) {
      expect(await ticks(policy, 5)).toEqual(['10@10', '20@20', '30@30', '40@40', '50@50', '60@60']);
    }
  });

  it('ends with the signal reason when aborted', async () => {
    const { clock, rt } = pausedRuntime();
    const controller = new AbortController();
    const seen: number[] = [];
    const done = rt.run(async () => {
      for await (const at of interval(10, { signal: controller.signal })) seen.push(at);
    });
    done.catch(() => {});
    await clock.advance(25);
    controller.abort(new Error('enough'));
    await expect(done).rejects.toThrow('enough');
    expect(seen).toEqual([10, 20]);
    expect(timers(rt).armed).toBe(0);
  });

  it('rejects bad arguments with RangeError', () => {
    expect(() => interval(0)).toThrow(/^ms must be/);
    expect(() => interval(-1)).toThrow(/^ms must be/);
    expect(() => interval(10, { missedTick: 'later' as never })).toThrow(/missedTick/);
  });
});

/**
 * A body that returns the promise of its own sleep (`spawn(() => sleep(ms))`): the handle
 * adopts that promise and the sleep does the task's bookkeeping when it settles, instead of
 * a derived promise and two bound functions per sleeping task. It must be indistinguishable
 * from the same wait inside an async body.
 */
describe('a task whose body returns its own sleep', () => {
  /** How a task ended: its state and what its handle gave. */
  async function ending(task: Task<unknown>): Promise<[string, unknown]> {
    const got = await Promise.resolve(task).then(
      (value) => value,
      (err: unknown) => (err instanceof Error ? `${err.constructor.name}:${String((err as Error & { cause?: unknown }).cause ?? err.message)}` : err),
    );
    return [task.state, got];
  }

  /** The wait the handle adopted, if any (white box: tells the fast path from the usual one). */
  function tailOf(task: Task<unknown>): unknown {
    return (task as unknown as { _record: { tail: unknown } })._record.tail;
  }

  it('is done when the sleep ends, and takes the path without a derived promise', async () => {
    const { clock, rt } = pausedRuntime();
    const task = rt.spawn(() => sleep(100));
    const inBody = rt.spawn(() => {
      const first = sleep(50);
      void sleep(100); // the latest wait is not the one returned: the usual path
      return first;
    });
    await flush();
    expect(task.state).toBe('running');
    expect(tailOf(task)).toBeDefined();
    expect(tailOf(inBody)).toBeUndefined();
    await clock.advance(99);
    expect(task.state).toBe('running');
    await clock.advance(1);
    expect(await ending(task)).toEqual(['done', undefined]);
    expect(await ending(inBody)).toEqual(['done', undefined]);
    expect(tailOf(task)).toBeUndefined();
    expect(rt.metrics().tasks.alive).toBe(0);
  });

  it('a sleep made outside a task, or by another task, is never adopted', async () => {
    const { clock, rt } = pausedRuntime();
    const outside = sleep(10);
    let other: Promise<void> | undefined;
    const maker = rt.spawn(() => {
      other = sleep(10);
      return other;
    });
    const borrower = rt.spawn(() => other!);
    const fromOutside = rt.spawn(() => outside);
    await flush();
    expect(tailOf(maker)).toBeDefined();
    expect(tailOf(borrower)).toBeUndefined();
    expect(tailOf(fromOutside)).toBeUndefined();
    await clock.advance(10);
    for (const t of [maker, borrower, fromOutside]) expect(await ending(t)).toEqual(['done', undefined]);
  });

  it('ends exactly as the same sleep awaited in an async body: time, task abort, signal abort, shutdown (property)', async () => {
    type End = 'time' | 'abort' | 'signal' | 'shutdown';
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ ms: fc.integer({ min: 1, max: 50 }), end: fc.constantFrom<End>('time', 'abort', 'signal', 'shutdown'), at: fc.integer({ min: 0, max: 60 }) }), { minLength: 1, maxLength: 8 }),
        async (cases) => {
          const { clock, rt } = pausedRuntime();
          const pairs = cases.map((c) => {
            const controller = new AbortController();
            const options = c.end === 'signal' ? { signal: controller.signal } : undefined;
            const tail = rt.spawn(() => sleep(c.ms, options));
            const awaited = rt.spawn(async () => {
              await sleep(c.ms, options);
            });
            return { c, controller, tail, awaited };
          });
          await flush();
          for (const p of pairs) expect(tailOf(p.tail)).toBeDefined();
          let step = -1;
          const settledAt = (task: Task<unknown>): Promise<number> => Promise.resolve(task).then(() => step, () => step);
          const steps = pairs.map((p) => Promise.all([settledAt(p.tail), settledAt(p.awaited)]));
          for (let t = 0; t <= 60; t++) {
            step = t;
            for (const p of pairs) {
              if (p.c.at !== t) continue;
              if (p.c.end === 'abort') {
                p.tail.abort(new Error('stop'));
                p.awaited.abort(new Error('stop'));
              } else if (p.c.end === 'signal') p.controller.abort(new Error('signalled'));
            }
            if (t === 30 && pairs.some((p) => p.c.end === 'shutdown')) await rt.shutdown({ timeoutMs: 0 });
            await clock.advance(1);
          }
          for (const p of pairs) {
            const [a, b] = [await ending(p.tail), await ending(p.awaited)];
            expect(a).toEqual(b);
          }
          // Each pair ends in the same step of the clock.
          for (const [a, b] of await Promise.all(steps)) expect(a).toBe(b);
          expect(rt.metrics().tasks.alive).toBe(0);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('an abort cancels the timer of a task\'s sleep whose timer id has outgrown a small integer (an entry used 40 times)', async () => {
    const { clock, rt } = pausedRuntime();
    for (let i = 0; i < 40; i++) {
      const stop = new AbortController();
      const outside = rt.run(() => sleep(10, { signal: stop.signal }));
      stop.abort();
      await expect(outside).rejects.toThrow();
    }
    const tasks = [rt.spawn(() => sleep(100)), rt.spawn(async () => void (await sleep(100)))];
    await flush();
    expect(timers(rt).armed).toBe(2);
    for (const t of tasks) t.abort();
    for (const t of tasks) expect((await ending(t))[0]).toBe('aborted');
    expect(timers(rt)).toMatchObject({ armed: 0, cancelled: 42, fired: 0 });
    await clock.advance(200);
    expect(timers(rt).fired).toBe(0);
  });

  it('tasks sleeping this way settle, and join, in the order their sleeps end', async () => {
    const { clock, rt } = pausedRuntime();
    await rt.run(async () => {
      const set = new JoinSet<void>();
      const ends: number[] = [];
      for (const ms of [30, 10, 20]) void set.spawn(() => sleep(ms)).then(() => ends.push(ms));
      const joins = (async () => {
        for (let i = 0; i < 3; i++) {
          await set.joinNext();
          ends.push(-ends.length);
        }
      })();
      await clock.advance(30);
      await joins;
      expect(ends).toEqual([10, -1, 20, -3, 30, -5]);
      expect(set.size).toBe(0);
    });
  });
});

