// The console feed without a browser, on a paused VirtualClock and the memory backend:
// frames are numbered, carry only what changed, resume with Last-Event-ID, a slow client
// drops frames (counted) and gets a snapshot, nothing is sampled without a client, and
// every payload validates against the JSON Schema.
import diagnosticsChannel from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { CHANNELS } from '../../src/trace/channels.js';
import { consoleInternals } from '../../src/console/server.js';
import type { ConsoleHello, ConsoleState, ConsoleUpdate, TaskRow } from '../../src/console/index.js';
import { applyUpdate } from '../../src/console/index.js';
import type { FeedClient } from '../../src/console/feed.js';
import { Mutex, RwLock, Semaphore, channel, sleep, unboundedChannel } from '../../src/index.js';
import { expectPayload, gate, virtualRuntime } from './helpers.js';

type SseEventOut = { event?: string; id?: string | number; data: unknown };

async function next(it: AsyncIterator<SseEventOut>): Promise<{ event: string; data: unknown }> {
  const r = await it.next();
  if (r.done === true) throw new Error('stream ended');
  return { event: r.value.event!, data: JSON.parse(r.value.data as string) };
}

function byName(state: ConsoleState, name: string): TaskRow | undefined {
  return Object.values(state.tasks).find((t) => t.name === name);
}

function iterate(client: FeedClient): AsyncIterator<SseEventOut> {
  return client[Symbol.asyncIterator]();
}

describe('console feed', () => {
  it('sends a hello with the state, then numbered updates with only what changed; named tasks change state', async () => {
    const { rt, clock } = virtualRuntime();
    await rt.run(async () => {
      // Thresholds out of reach: the event-loop delay is real even on a virtual clock, and a
      // loaded machine must not add a warning to the rows this test compares.
      const c = await rt.console({ intervalMs: 1000, warnings: { longSyncMs: 600_000, loopDelayMs: 600_000 } });
      try {
        const { feed } = consoleInternals(c);
        const gated = gate();
        const alpha = rt.spawn(async () => gated.promise, { name: 'alpha' });
        rt.spawn(async () => sleep(10_000), { name: 'beta' });
        const it = iterate(feed.attach(undefined)!);
        const hello = await next(it);
        expect(hello.event).toBe('hello');
        expectPayload('hello', hello.data);
        let state = (hello.data as ConsoleHello).state!;
        expect(byName(state, 'alpha')?.state).toBe('pending');
        expect(byName(state, 'beta')?.state).toBe('pending');
        expect((hello.data as ConsoleHello).report).toEqual(JSON.parse(JSON.stringify(rt.report)));

        await clock.advance(1000);
        const first = await next(it);
        expect(first.event).toBe('update');
        expectPayload('update', first.data);
        const u1 = first.data as ConsoleUpdate;
        expect(u1.seq).toBe(state.seq + 1);
        expect(u1.tasks?.upsert.map((t) => [t.name, t.state]).sort()).toEqual([['alpha', 'running'], ['beta', 'running']]);
        expect(u1.tasks?.remove).toEqual([]);
        expect(u1.resources).toBeUndefined(); // nothing changed there
        state = applyUpdate(state, u1, 100);

        gated.resolve();
        await alpha;
        await clock.advance(1000);
        const u2 = (await next(it)).data as ConsoleUpdate;
        expectPayload('update', u2);
        expect(u2.seq).toBe(u1.seq + 1);
        expect(u2.tasks?.upsert.map((t) => [t.name, t.state])).toEqual([['alpha', 'done']]); // beta did not change
        state = applyUpdate(state, u2, 100);
        expect(byName(state, 'beta')?.state).toBe('running');
        // An ended task stays retention.endedMs (5000) with its final state, then goes.
        for (let i = 0; i < 5; i++) {
          await clock.advance(1000);
          state = applyUpdate(state, (await next(it)).data as ConsoleUpdate, 100);
        }
        expect(byName(state, 'alpha')).toBeUndefined();
        // The state the client built equals the server's own.
        expect(state.tasks).toEqual(feed.snapshot().tasks);
        await it.return!();
      } finally {
        await c.close();
      }
    });
    await rt.shutdown({ timeoutMs: 0 });
  });

  it('samples nothing while no client is connected', async () => {
    const { rt, clock } = virtualRuntime();
    await rt.run(async () => {
      const c = await rt.console({ intervalMs: 100 });
      const { feed } = consoleInternals(c);
      await clock.advance(1000);
      expect(feed.seq).toBe(0); // no tick at all
      const it = iterate(feed.attach(undefined)!);
      await next(it);
      await clock.advance(300);
      expect(feed.seq).toBe(4); // the first sample, then one per interval
      await it.return!();
      expect(feed.clients).toBe(0);
      await clock.advance(1000);
      expect(feed.seq).toBe(4); // stopped with the last client
      expect(rt.metrics().timers).toMatchObject({ armed: 0 });
      await c.close();
    });
    await rt.shutdown();
  });

  it('resumes with Last-Event-ID: a hello without state, then exactly the missed frames', async () => {
    const { rt, clock } = virtualRuntime();
    await rt.run(async () => {
      const c = await rt.console({ intervalMs: 1000 });
      const { feed } = consoleInternals(c);
      const first = iterate(feed.attach(undefined)!);
      await next(first);
      const seen: ConsoleUpdate[] = [];
      for (let i = 0; i < 3; i++) {
        rt.spawn(async () => sleep(60_000), { name: `t${i}` });
        await clock.advance(1000);
        seen.push((await next(first)).data as ConsoleUpdate);
      }
      const resumed = iterate(feed.attach(seen[0]!.seq)!);
      const hello = await next(resumed);
      expectPayload('hello', hello.data);
      expect((hello.data as ConsoleHello).state).toBeUndefined();
      expect((hello.data as ConsoleHello).resumedFrom).toBe(seen[0]!.seq);
      expect((await next(resumed)).data).toEqual(seen[1]);
      expect((await next(resumed)).data).toEqual(seen[2]);
      // An id older than the kept frames gets the whole state instead.
      const stale = iterate(feed.attach(-1 as number)!);
      expect(((await next(stale)).data as ConsoleHello).state).toBeDefined();
      await Promise.all([first.return!(), resumed.return!(), stale.return!()]);
      await c.close();
    });
    await rt.shutdown({ timeoutMs: 0 });
  });

  it('a slow client drops frames (counted, shown as a warning) and then gets a whole snapshot', async () => {
    const { rt, clock } = virtualRuntime();
    await rt.run(async () => {
      const c = await rt.console({ intervalMs: 1000, retention: { clientFrames: 2 } });
      const { feed } = consoleInternals(c);
      const fast = iterate(feed.attach(undefined)!);
      const slowClient = feed.attach(undefined)!;
      const slow = iterate(slowClient);
      await next(fast);
      for (let i = 0; i < 4; i++) {
        rt.spawn(async () => sleep(60_000), { name: `job ${i}` });
        await clock.advance(1000);
        await next(fast);
      }
      expect(slowClient.dropped).toBeGreaterThan(0);
      expect(feed.dropped).toBe(slowClient.dropped);
      expect(slowClient.queue.length).toBeLessThanOrEqual(2);
      await clock.advance(1000);
      const update = (await next(fast)).data as ConsoleUpdate;
      expect(update.console?.dropped).toBeGreaterThan(0); // counted up to the sample (this tick may drop more)
      expect(update.warnings?.map((w) => w.kind)).toContain('dropped_events');
      const got = await next(slow);
      expect(got.event).toBe('snapshot');
      expectPayload('state', got.data);
      expect(Object.values((got.data as ConsoleState).tasks).map((t) => t.name).sort()).toEqual(['job 0', 'job 1', 'job 2', 'job 3']);
      await Promise.all([fast.return!(), slow.return!()]);
      await c.close();
    });
    await rt.shutdown({ timeoutMs: 0 });
  });

  it('shows sync resources and warns about starving semaphore waiters and a growing unbounded channel', async () => {
    const { rt, clock } = virtualRuntime();
    await rt.run(async () => {
      const c = await rt.console({ intervalMs: 1000, warnings: { starvingMs: 3000, growingSamples: 3 } });
      const { feed } = consoleInternals(c);
      const sem = new Semaphore(1);
      const held = await sem.acquire();
      const waiter = rt.spawn(async () => (await sem.acquire()).release(), { name: 'waiter' });
      const mutex = new Mutex(0);
      const guard = await mutex.lock();
      const lock = new RwLock({});
      const reader = await lock.read();
      const [tx, rx] = channel<number>(4);
      await tx.send(1);
      const [utx, urx] = unboundedChannel<number>();
      const it = iterate(feed.attach(undefined)!);
      let state = ((await next(it)).data as ConsoleHello).state!;
      const rows = Object.values(state.resources);
      expect(rows.map((r) => r.kind)).toEqual(['semaphore', 'mutex', 'rwlock', 'channel', 'channel']); // no row for the rwlock's inner semaphore
      expect(rows[0]).toMatchObject({ permits: 0, waiters: 1 });
      expect(rows[1]).toMatchObject({ holders: 1, waiters: 0 });
      expect(rows[2]).toMatchObject({ holders: 1 });
      expect(rows[3]).toMatchObject({ length: 1, capacity: 4, closed: [] });
      expect(rows[4]).toMatchObject({ length: 0, capacity: null });
      for (let i = 0; i < 4; i++) {
        utx.send(i);
        await clock.advance(1000);
        state = applyUpdate(state, (await next(it)).data as ConsoleUpdate, 100);
      }
      const kinds = state.warnings.map((w) => w.kind);
      expect(kinds).toContain('semaphore_starving');
      expect(kinds).toContain('channel_growing');
      expectPayload('state', state);
      held.release();
      await waiter;
      tx.close();
      await clock.advance(1000);
      state = applyUpdate(state, (await next(it)).data as ConsoleUpdate, 100);
      expect(state.warnings.map((w) => w.kind)).not.toContain('semaphore_starving');
      expect(Object.values(state.resources)[0]).toMatchObject({ permits: 1, waiters: 0 });
      expect(Object.values(state.resources)[3]!.closed).toEqual(['sender']);
      guard.release();
      reader.release();
      rx.close();
      urx.close();
      await it.return!();
      await c.close();
    });
    await rt.shutdown({ timeoutMs: 0 });
  });

  it('keeps recent spans (no attributes) and warns about a long span on a worker thread', async () => {
    const { rt, clock } = virtualRuntime();
    await rt.run(async () => {
      const c = await rt.console({ intervalMs: 1000, retention: { spans: 3 }, warnings: { longSyncMs: 50, loopDelayMs: 600_000 } });
      const { feed } = consoleInternals(c);
      const it = iterate(feed.attach(undefined)!);
      await next(it);
      const span = (name: string, threadId: number, ms: number) => ({
        traceId: '0'.repeat(32), spanId: '1'.repeat(16), parentSpanId: undefined, name, kind: 'internal', startTime: 1000, endTime: 1000 + ms,
        attributes: { secret: 'hunter2' }, events: [], status: { code: 'unset' }, threadId, threadName: threadId === 0 ? 'main' : `worker ${threadId}`,
      });
      for (const [name, tid, ms] of [['a', 0, 1], ['b', 0, 2], ['crunch', 3, 80], ['c', 0, 1]] as const) diagnosticsChannel.channel(CHANNELS.spanEnd).publish(span(name, tid, ms));
      await clock.advance(1000);
      const update = (await next(it)).data as ConsoleUpdate;
      expect(update.spans?.map((s) => s.name)).toEqual(['b', 'crunch', 'c']); // the last retention.spans
      expect(update.warnings?.find((w) => w.kind === 'long_sync')?.message).toMatch(/'crunch' ran 80 ms on worker 3/);
      expect(JSON.stringify(update)).not.toContain('hunter2');
      await clock.advance(1000);
      const quiet = (await next(it)).data as ConsoleUpdate;
      expect(quiet.spans).toBeUndefined(); // nothing new
      expect(quiet.warnings).toEqual([]); // the warning was about the last interval
      await it.return!();
      await c.close();
    });
    await rt.shutdown();
  });

  it('groups tasks by scope and bounds the rows by retention.tasks', async () => {
    const { rt, clock } = virtualRuntime();
    await rt.run(async () => {
      const c = await rt.console({ intervalMs: 1000, retention: { tasks: 5 } });
      const { feed } = consoleInternals(c);
      const done = gate();
      const scoped = rt.scope(async (s) => {
        s.spawn(async () => done.promise, { name: 'child a' });
        s.spawn(async () => done.promise, { name: 'child b' });
      });
      for (let i = 0; i < 10; i++) rt.spawn(async () => done.promise, { name: `free ${i}` });
      await clock.advance(0);
      const state = feed.snapshot();
      expect(Object.keys(state.tasks)).toHaveLength(5);
      expect(state.console.tasksNotShown).toBe(7);
      done.resolve();
      await scoped;
      const c2 = await rt.console({ intervalMs: 1000 });
      const gated = gate();
      const inScope = rt.scope(async (s) => {
        s.spawn(async () => gated.promise, { name: 'x' });
        s.spawn(async () => gated.promise, { name: 'y' });
      });
      rt.spawn(async () => gated.promise, { name: 'top' });
      await clock.advance(0);
      const s2 = consoleInternals(c2).feed.snapshot();
      const x = Object.values(s2.tasks).find((t) => t.name === 'x')!;
      const y = Object.values(s2.tasks).find((t) => t.name === 'y')!;
      expect(x.scope).toBeGreaterThan(0);
      expect(y.scope).toBe(x.scope);
      expect(Object.values(s2.tasks).find((t) => t.name === 'top')!.scope).toBe(0);
      gated.resolve();
      await inScope;
      await Promise.all([c.close(), c2.close()]);
    });
    await rt.shutdown();
  });
});
