// The one timer of a server connection, on a paused VirtualClock: request time, idle time
// (plus node:http's 1 s of grace), deadlines moved later without re-arming, stop and close.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../../../src/runtime/runtime.js';
import { timerDriverOf } from '../../../src/scheduler/time.js';
import { VirtualClock } from '../../../src/testing/index.js';
import { ConnectionTimer, IDLE, NONE, REQUEST } from '../../../src/io/http/connection-timer.js';

describe('ConnectionTimer', () => {
  let clock: VirtualClock;
  let rt: ReturnType<typeof createRuntime>;
  let expired: string[];
  let timer: ConnectionTimer;
  beforeEach(() => {
    clock = new VirtualClock();
    rt = clock.install(createRuntime({ io: 'memory' }));
    clock.pause();
    expired = [];
    timer = new ConnectionTimer(timerDriverOf(rt), 1_000, 2_000, (kind) => expired.push(kind === REQUEST ? 'request' : 'idle'));
  });
  afterEach(async () => {
    timer.close();
    await rt.shutdown();
  });

  it('a request not arrived within its time expires once, as a request', async () => {
    timer.startRequest();
    expect(timer.counting).toBe(REQUEST);
    await clock.advance(999);
    expect(expired).toEqual([]);
    await clock.advance(1);
    expect(expired).toEqual(['request']);
    expect(timer.counting).toBe(NONE);
    await clock.advance(10_000);
    expect(expired).toEqual(['request']);
  });

  it('idle time is the keep-alive time plus 1 s of grace', async () => {
    timer.startIdle();
    expect(timer.counting).toBe(IDLE);
    await clock.advance(2_999);
    expect(expired).toEqual([]);
    await clock.advance(1);
    expect(expired).toEqual(['idle']);
  });

  it('a deadline moved later fires at the later time, not the earlier one', async () => {
    timer.startRequest(); // due at 1000
    await clock.advance(500);
    timer.startIdle(); // due at 500 + 3000
    await clock.advance(600); // past the first deadline: the timer re-arms for the rest
    expect(expired).toEqual([]);
    await clock.advance(2_399);
    expect(expired).toEqual([]);
    await clock.advance(1);
    expect(expired).toEqual(['idle']);
  });

  it('stop: nothing expires; close: the wheel timer is cancelled', async () => {
    timer.startRequest();
    timer.stop();
    await clock.advance(5_000);
    expect(expired).toEqual([]);
    timer.startRequest();
    timer.close();
    expect(timerDriverOf(rt).metrics().armed).toBe(0);
    await clock.advance(5_000);
    expect(expired).toEqual([]);
  });

  it('a limit of 0 counts nothing', async () => {
    const off = new ConnectionTimer(timerDriverOf(rt), 0, 0, () => expired.push('off'));
    off.startRequest();
    expect(off.counting).toBe(NONE);
    off.startIdle();
    expect(off.counting).toBe(NONE);
    await clock.advance(100_000);
    expect(expired).toEqual([]);
    off.close();
  });
});
