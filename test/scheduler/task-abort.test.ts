/**
 * Abort at the next await (tokio's `JoinHandle::abort`): Zokio's own waits made by a task's
 * code reject with the task's abort reason when the task is aborted, without a signal;
 * and `rt.shutdown({ timeoutMs: 0 })` settles every task handle and every pending wait.
 * All on a paused VirtualClock.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  allSettled,
  Barrier,
  joinAll,
  race,
  spawn,
  channel,
  interval,
  intervalAt,
  JoinSet,
  now,
  Mutex,
  Notify,
  oneshot,
  RuntimeClosedError,
  RwLock,
  select,
  Semaphore,
  sleep,
  TaskAbortedError,
  timeout,
  watch,
  broadcast,
  type Task,
} from '../../src/index.js';
import { flush, pausedRuntime } from '../helpers.js';

/** The outcome of a task: 'done' or the error it rejects with. */
function outcome(task: PromiseLike<unknown>): Promise<unknown> {
  return Promise.resolve(task).then(
    () => 'done',
    (err: unknown) => err,
  );
}

/** Each wait kind, as a body parks on it (no signal passed), and what wakes it if not aborted. */
interface WaitCase {
  readonly name: string;
  /** Returns the wait; `wake` would end it normally. */
  park(): { wait: () => Promise<unknown>; wake: () => void };
}

const cases: WaitCase[] = [
  { name: 'sleep', park: () => ({ wait: () => sleep(1000), wake: () => {} }) },
  { name: 'sleep with unref', park: () => ({ wait: () => sleep(1000, { unref: true }), wake: () => {} }) },
  { name: 'timeout', park: () => ({ wait: () => timeout(1000, new Promise(() => {})), wake: () => {} }) },
  {
    name: 'interval tick',
    park: () => {
      const ticks = interval(1000);
      return { wait: () => ticks.next(), wake: () => {} };
    },
  },
  {
    name: 'channel recv',
    park: () => {
      const [tx, rx] = channel<number>(1);
      return { wait: () => rx.recv(), wake: () => void tx.trySend(1) };
    },
  },
  {
    name: 'channel send',
    park: () => {
      const [tx, rx] = channel<number>(1);
      tx.trySend(0);
      return { wait: () => tx.send(1), wake: () => void rx.tryRecv() };
    },
  },
  {
    name: 'Semaphore.acquire',
    park: () => {
      const sem = new Semaphore(1);
      const held = sem.tryAcquire()!;
      return { wait: () => sem.acquire(), wake: () => held.release() };
    },
  },
  {
    name: 'Mutex.lock',
    park: () => {
      const m = new Mutex(0);
      const g = m.tryLock()!;
      return { wait: () => m.lock(), wake: () => g.release() };
    },
  },
  {
    name: 'RwLock.write',
    park: () => {
      const l = new RwLock(0);
      const r = l.tryRead()!;
      return { wait: () => l.write(), wake: () => r.release() };
    },
  },
  {
    name: 'Notify.notified',
    park: () => {
      const n = new Notify();
      return { wait: () => n.notified(), wake: () => n.notifyOne() };
    },
  },
  {
    name: 'Barrier.wait',
    park: () => {
      const b = new Barrier(2);
      return { wait: () => b.wait(), wake: () => void b.wait() };
    },
  },
  {
    name: 'oneshot recv',
    park: () => {
      const [tx, rx] = oneshot<number>();
      return { wait: () => rx.recv(), wake: () => tx.send(1) };
    },
  },
  {
    name: 'watch changed',
    park: () => {
      const [tx, rx] = watch(0);
      return { wait: () => rx.changed(), wake: () => tx.send(1) };
    },
  },
  {
    name: 'broadcast recv',
    park: () => {
      const [tx, rx] = broadcast<number>(4);
      return { wait: () => rx.recv(), wake: () => void tx.send(1) };
    },
  },
  {
    name: 'select',
    park: () => {
      const [tx, rx] = channel<number>(1);
      return { wait: () => select({ rx, later: { kind: 'timeout', ms: 1000 } as never }), wake: () => void tx.trySend(1) };
    },
  },
];

describe('abort at the next await', () => {
  for (const c of cases) {
    it(`${c.name}: an aborted task stops at the wait and runs no more of its body`, async () => {
      const { rt } = pausedRuntime();
      const { wait } = c.park();
      let after = false;
      let caught: unknown;
      const task = rt.spawn(async () => {
        try {
          await wait();
        } catch (err) {
          caught = err;
          throw err;
        }
        after = true;
      });
      await flush();
      expect(task.state).toBe('running');
      const reason = new Error(`stop ${c.name}`);
      task.abort(reason);
      const result = await outcome(task);
      expect(result).toBeInstanceOf(TaskAbortedError);
      expect((result as TaskAbortedError).cause).toBe(reason);
      expect(caught).toBe(reason);
      expect(after).toBe(false);
    });

    it(`${c.name}: a wait after an earlier wait of the same task is task-aware too`, async () => {
      const { clock, rt } = pausedRuntime();
      const { wait } = c.park();
      const steps: string[] = [];
      const task = rt.spawn(async () => {
        await sleep(10); // resumed by a Zokio wait: the task stays known
        steps.push('slept');
        await wait();
        steps.push('after');
      });
      await flush();
      await clock.advance(10);
      await flush();
      expect(steps).toEqual(['slept']);
      task.abort();
      expect(await outcome(task)).toBeInstanceOf(TaskAbortedError);
      expect(steps).toEqual(['slept']);
    });
  }

  it('an explicit signal still works and combines with the task', async () => {
    const { rt } = pausedRuntime();
    const controller = new AbortController();
    const [, rx] = channel<number>(1);
    const task = rt.spawn(async () => {
      await rx.recv({ signal: controller.signal });
    });
    await flush();
    const reason = new Error('signal');
    controller.abort(reason);
    const err = await outcome(task);
    expect(err).toBe(reason); // the body failed with the signal's reason; the task was not aborted
    expect(task.state).toBe('failed');
  });

  it('a wait that is not the task\'s own (outside any task) is not affected', async () => {
    const { clock, rt } = pausedRuntime();
    const outside = rt.run(() => sleep(5));
    const task = rt.spawn(() => sleep(5));
    await flush();
    task.abort();
    await clock.advance(5);
    await expect(outside).resolves.toBeUndefined();
    expect(await outcome(task)).toBeInstanceOf(TaskAbortedError);
  });

  it('aborting one of many tasks parked on the same kind of wait rejects its wait alone (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 12 }), fc.array(fc.nat(), { maxLength: 6 }), async (n, picks) => {
        const { clock, rt } = pausedRuntime();
        const sem = new Semaphore(0);
        const resumed: number[] = [];
        const tasks: Task<void>[] = [];
        for (let i = 0; i < n; i++) {
          tasks.push(
            rt.spawn(async () => {
              await sleep(i % 3);
              const p = await sem.acquire();
              resumed.push(i);
              p.release();
            }),
          );
        }
        await flush();
        await clock.advance(3);
        await flush();
        const aborted = new Set(picks.map((p) => p % n));
        for (const i of aborted) tasks[i]!.abort();
        sem.addPermits(1);
        const results = await Promise.all(tasks.map(outcome));
        for (let i = 0; i < n; i++) {
          if (aborted.has(i)) expect(results[i]).toBeInstanceOf(TaskAbortedError);
          else expect(results[i]).toBe('done');
        }
        expect(resumed.sort((a, b) => a - b)).toEqual([...Array(n).keys()].filter((i) => !aborted.has(i)));
        expect(sem.available).toBe(1);
        await rt.shutdown({ timeoutMs: 0 });
      }),
      { numRuns: 30 },
    );
  });
});

/**
 * Waits that have nothing to wait for: an uncontended acquire, a message already queued,
 * a permit stored. Each returns a promise that is not settled yet, so that the body goes on
 * as the running task and its next wait stops at an abort (with a promise settled already,
 * Zokio lost the task there and a later `sleep` ran to its end).
 */
const readyCases: ReadonlyArray<readonly [string, () => Promise<unknown>]> = [
  ['Semaphore.acquire, uncontended', () => new Semaphore(1).acquire()],
  ['Mutex.lock, uncontended', () => new Mutex(0).lock()],
  ['RwLock.read, uncontended', () => new RwLock(0).read()],
  ['RwLock.write, uncontended', () => new RwLock(0).write()],
  ['channel send with room', () => channel<number>(1)[0].send(1)],
  ['channel reserve with room', () => channel<number>(1)[0].reserve()],
  [
    'channel recv of a queued message',
    () => {
      const [tx, rx] = channel<number>(1);
      tx.trySend(1);
      return rx.recv();
    },
  ],
  [
    'channel iterator over a queued message',
    () => {
      const [tx, rx] = channel<number>(1);
      tx.trySend(1);
      return rx[Symbol.asyncIterator]().next();
    },
  ],
  [
    'oneshot recv of a sent value',
    () => {
      const [tx, rx] = oneshot<number>();
      tx.send(1);
      return rx.recv();
    },
  ],
  [
    'Notify with a stored permit',
    () => {
      const notify = new Notify();
      notify.notifyOne();
      return notify.notified();
    },
  ],
  ['Barrier of one', () => new Barrier(1).wait()],
  [
    'watch changed after a send',
    () => {
      const [tx, rx] = watch(0);
      tx.send(1);
      return rx.changed();
    },
  ],
  [
    'broadcast recv of a sent value',
    () => {
      const [tx, rx] = broadcast<number>(2);
      tx.send(1);
      return rx.recv();
    },
  ],
  ['interval tick that is due', () => intervalAt(now(), 1000).next()],
  ['interval return (a for await loop left early)', () => interval(1000).return()],
  ['joinAll of a task', () => joinAll([spawn(async () => 1)])],
  ['race of a task', () => race([spawn(async () => 1)])],
  ['allSettled of a task', () => allSettled([spawn(async () => 1)])],
  ['timeout of settled work', () => timeout(1000, Promise.resolve(1))],
];

describe('a wait that completes at once keeps the task known', () => {
  for (const [name, ready] of readyCases) {
    it(`${name}: the next wait of the body stops at an abort`, async () => {
      const { clock, rt } = pausedRuntime();
      const steps: string[] = [];
      const task = rt.spawn(async () => {
        await ready();
        steps.push('ready');
        await sleep(1000);
        steps.push('slept');
      });
      await flush();
      expect(steps).toEqual(['ready']);
      task.abort(new Error('stop'));
      await flush();
      expect(task.state).toBe('aborted');
      // Settled without the clock moving: the sleep was the task's and rejected at the abort.
      expect(await Promise.race([outcome(task), flush().then(() => 'still pending')])).toBeInstanceOf(TaskAbortedError);
      await clock.advance(1000);
      expect(steps).toEqual(['ready']);
    });
  }

  it('a wait that fails at once (recv on a closed channel) keeps the task known in the catch block', async () => {
    const { rt } = pausedRuntime();
    const [tx, rx] = channel<number>(1);
    tx.close();
    const steps: string[] = [];
    const task = rt.spawn(async () => {
      try {
        await rx.recv();
      } catch {
        steps.push('closed');
      }
      await sleep(1000);
      steps.push('slept');
    });
    await flush();
    expect(steps).toEqual(['closed']);
    task.abort();
    expect(await Promise.race([outcome(task), flush().then(() => 'still pending')])).toBeInstanceOf(TaskAbortedError);
    expect(steps).toEqual(['closed']);
  });

  const abortedSignalCases: Array<[string, (signal: AbortSignal) => Promise<unknown>]> = [
    ['sleep', (signal) => sleep(1000, { signal })],
    ['interval next', (signal) => interval(1000, { signal }).next()],
    ['Semaphore acquire', (signal) => new Semaphore(0).acquire(1, { signal })],
    ['JoinSet joinNext', (signal) => {
      const set = new JoinSet<void>();
      set.spawn(() => sleep(1000));
      return set.joinNext({ signal });
    }],
  ];
  for (const [name, wait] of abortedSignalCases) {
    it(`${name} with a signal aborted before the call rejects at once, and the task stays known in the catch block`, async () => {
      const { rt } = pausedRuntime();
      const steps: string[] = [];
      const task = rt.spawn(async () => {
        try {
          await wait(AbortSignal.abort(new Error('not wanted')));
        } catch (err) {
          steps.push((err as Error).message);
        }
        await sleep(1000);
        steps.push('slept');
      });
      await flush();
      expect(steps).toEqual(['not wanted']);
      task.abort();
      expect(await Promise.race([outcome(task), flush().then(() => 'still pending')])).toBeInstanceOf(TaskAbortedError);
      expect(steps).toEqual(['not wanted']);
    });
  }

  it('a loop of waits that never wait (a producer with an eager consumer) stops at the abort', async () => {
    const { rt } = pausedRuntime();
    const [tx, rx] = channel<number>(4);
    let sent = 0;
    let received = 0;
    let producer: Task<void> | undefined;
    producer = rt.spawn(async () => {
      for (let i = 0; i < 1_000_000; i++) {
        await tx.send(i); // the consumer keeps room: no send ever waits
        sent++;
      }
    });
    const consumer = rt.spawn(async () => {
      for await (const _ of rx) {
        if (++received === 100) producer!.abort(new Error('enough'));
      }
    });
    expect(await outcome(producer)).toBeInstanceOf(TaskAbortedError);
    tx.close();
    await consumer;
    expect(sent).toBeLessThan(110); // it stopped at its next send, not a million sends later
    expect(received).toBe(sent);
  });

  it('after an abort the catch and finally blocks still await Zokio waits (cleanup is not aborted)', async () => {
    const { clock, rt } = pausedRuntime();
    const sem = new Semaphore(1);
    const [tx, rx] = channel<string>(4);
    const task = rt.spawn(async () => {
      try {
        await sleep(1000);
      } finally {
        const permit = await sem.acquire();
        await tx.send('cleaned up');
        permit.release();
      }
    });
    await flush();
    task.abort();
    expect(await outcome(task)).toBeInstanceOf(TaskAbortedError);
    expect(rx.tryRecv()).toEqual({ ok: true, value: 'cleaned up' });
    expect(sem.available).toBe(1);
    await clock.advance(1000);
  });

  it('a task that aborts itself stops at its next wait, even one with nothing to wait for', async () => {
    const { rt } = pausedRuntime();
    const sem = new Semaphore(1);
    let self: Task<void> | undefined;
    const steps: string[] = [];
    self = rt.spawn(async () => {
      const first = await sem.acquire();
      first.release();
      self!.abort(new Error('self'));
      steps.push('aborted itself');
      await sem.acquire();
      steps.push('acquired');
    });
    expect(await outcome(self)).toBeInstanceOf(TaskAbortedError);
    expect(steps).toEqual(['aborted itself']);
    expect(sem.available).toBe(1); // the refused acquire took no permit
  });

  it('a body of many such waits stays known after each of them (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: readyCases.length - 1 }), { minLength: 1, maxLength: 8 }), async (picks) => {
        const { rt } = pausedRuntime();
        let done = 0;
        const task = rt.spawn(async () => {
          for (const i of picks) {
            await readyCases[i]![1]();
            done++;
          }
          await sleep(1000);
          done = -1;
        });
        for (let i = 0; i <= picks.length && done < picks.length; i++) await flush();
        expect(done).toBe(picks.length);
        task.abort();
        expect(await Promise.race([outcome(task), flush().then(() => 'still pending')])).toBeInstanceOf(TaskAbortedError);
        expect(done).toBe(picks.length);
      }),
      { numRuns: 60 },
    );
  });
});

describe('shutdown settles everything', () => {
  it('a task parked on a plain sleep settles after shutdown({ timeoutMs: 0 })', async () => {
    const { rt } = pausedRuntime();
    const task = rt.spawn(() => sleep(1000));
    const inBody = rt.spawn(async () => {
      await sleep(1000);
      return 'after';
    });
    await flush();
    await rt.shutdown({ timeoutMs: 0 });
    for (const t of [task, inBody]) {
      const err = await outcome(t);
      expect(err).toBeInstanceOf(TaskAbortedError);
      expect((err as TaskAbortedError).cause).toBeInstanceOf(RuntimeClosedError);
      expect(t.state).toBe('aborted');
    }
  });

  it('every pending wait outside tasks rejects with RuntimeClosedError', async () => {
    const { rt } = pausedRuntime();
    const waits = await rt.run(() => {
      const ticks = interval(100);
      return [sleep(100), sleep(100, { signal: new AbortController().signal }), timeout(100, new Promise(() => {})), ticks.next()];
    });
    const outcomes = waits.map(outcome);
    await rt.shutdown({ timeoutMs: 0 });
    for (const o of await Promise.all(outcomes)) expect(o).toBeInstanceOf(RuntimeClosedError);
  });

  it('tasks parked on sync primitives settle too', async () => {
    const { rt } = pausedRuntime();
    const [, rx] = channel<number>(1);
    const m = new Mutex(0);
    const g = m.tryLock()!;
    const a = rt.spawn(() => rx.recv());
    const b = rt.spawn(async () => {
      await m.lock();
    });
    await flush();
    await rt.shutdown({ timeoutMs: 0 });
    expect(await outcome(a)).toBeInstanceOf(TaskAbortedError);
    expect(await outcome(b)).toBeInstanceOf(TaskAbortedError);
    g.release();
  });
});
