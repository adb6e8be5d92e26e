import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, interval, now, sleep, timeout, TimeoutError, type RuntimeBase } from '../../src/index.js';
import { VirtualClock } from '../../src/testing/index.js';

const runtimes: RuntimeBase[] = [];
afterEach(async () => {
  for (const rt of runtimes.splice(0)) await rt.shutdown({ timeoutMs: 0 });
});

function onClock(clock: VirtualClock): RuntimeBase {
  const rt = clock.install(createRuntime());
  runtimes.push(rt);
  return rt;
}

/** Lets the event loop turn a few times (no wall-clock wait). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('VirtualClock', () => {
  it('starts at startMs and moves only through advance while paused', async () => {
    const clock = new VirtualClock({ startMs: 500, autoAdvance: false });
    expect(clock.paused).toBe(true);
    const rt = onClock(clock);
    let fired = false;
    void rt.run(() => sleep(10).then(() => (fired = true)));
    await turns(20);
    expect(fired).toBe(false);
    expect(clock.now()).toBe(500);
    expect(clock.nextDeadline()).toBe(510);
    await clock.advanceTo(509);
    expect(fired).toBe(false);
    await clock.advanceTo(510);
    expect(fired).toBe(true);
    await expect(rt.run(() => now())).resolves.toBe(510);
  });

  it('fires timers that continuations schedule during one advance', async () => {
    const clock = new VirtualClock({ autoAdvance: false });
    const rt = onClock(clock);
    let steps = 0;
    const done = rt.run(async () => {
      for (let i = 0; i < 100; i++) {
        await sleep(3);
        steps++;
      }
      return now();
    });
    await clock.advance(299);
    expect(steps).toBe(99);
    await clock.advance(1);
    await expect(done).resolves.toBe(300);
  });

  it('orders timers of several runtimes on one clock by deadline', async () => {
    const clock = new VirtualClock({ autoAdvance: false });
    const a = onClock(clock);
    const b = onClock(clock);
    const log: string[] = [];
    void a.run(async () => {
      await sleep(10);
      log.push('a10');
      await sleep(20);
      log.push('a30');
    });
    void b.run(async () => {
      await sleep(20);
      log.push('b20');
    });
    await clock.advance(30);
    expect(log).toEqual(['a10', 'b20', 'a30']);
  });

  it('auto-advances to the next deadline when the runtime is idle', async () => {
    const clock = new VirtualClock();
    const rt = onClock(clock);
    await expect(rt.run(async () => {
      await sleep(86_400_000);
      return now();
    })).resolves.toBe(86_400_000);
    const err = await rt.run(() => timeout(100, sleep(1_000))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(clock.now()).toBe(86_400_100);
    const seen: number[] = [];
    await rt.run(async () => {
      for await (const at of interval(1_000)) if (seen.push(at) === 3) break;
    });
    expect(seen).toEqual([86_401_100, 86_402_100, 86_403_100]);
  });

  it('pause stops auto-advance and resume restarts it', async () => {
    const clock = new VirtualClock();
    const rt = onClock(clock);
    clock.pause();
    let fired = false;
    const done = rt.run(() => sleep(50).then(() => (fired = true)));
    await turns(20);
    expect(fired).toBe(false);
    clock.resume();
    await done;
    expect(fired).toBe(true);
    expect(clock.now()).toBe(50);
  });

  it('refuses to be installed on a runtime that already armed a timer', async () => {
    const clock = new VirtualClock({ autoAdvance: false });
    const rt = createRuntime();
    runtimes.push(rt);
    const pending = rt.run(() => sleep(60_000, { unref: true, signal: AbortSignal.abort() }));
    await expect(pending).rejects.toBeDefined();
    const controller = new AbortController();
    const armed = rt.run(() => sleep(60_000, { unref: true, signal: controller.signal }));
    armed.catch(() => {});
    expect(() => clock.install(rt)).toThrow(/before the runtime arms a timer/);
    controller.abort();
    await armed.catch(() => {});
    expect(clock.install(rt)).toBe(rt);
  });

  it('rejects bad advances with RangeError', () => {
    const clock = new VirtualClock({ startMs: 10 });
    expect(() => clock.advance(-1)).toThrow(/^ms must be/);
    expect(() => clock.advance(Number.NaN)).toThrow(RangeError);
    expect(() => clock.advanceTo(5)).toThrow(/^atMs must be/);
    expect(() => new VirtualClock({ startMs: -1 })).toThrow(/startMs/);
  });
});
