// diffStates / applyUpdate: for any two states, applying the diff of the first to the
// second gives the second (fast-check), a frame carries only what changed, and every frame
// validates against the JSON Schema.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyUpdate, CONSOLE_SCHEMA, diffStates, type ConsoleState, type ResourceRow, type SpanRow, type TaskRow } from '../../src/console/index.js';
import { expectPayload } from './helpers.js';

const taskRow = (id: number): fc.Arbitrary<TaskRow> =>
  fc.record({
    id: fc.constant(id),
    name: fc.option(fc.string({ maxLength: 8 }), { nil: null }),
    state: fc.constantFrom('pending', 'running', 'done', 'failed', 'aborted'),
    scope: fc.nat(3),
    spawnedAt: fc.nat(10_000),
    busyMs: fc.constant(null),
    warnings: fc.constantFrom([], ['long_sync']),
  });

const resourceRow = (id: number): fc.Arbitrary<ResourceRow> =>
  fc.record({
    id: fc.constant(id),
    kind: fc.constantFrom('semaphore', 'mutex', 'rwlock', 'channel'),
    permits: fc.option(fc.nat(4), { nil: null }),
    holders: fc.option(fc.nat(2), { nil: null }),
    waiters: fc.nat(3),
    length: fc.option(fc.nat(9), { nil: null }),
    capacity: fc.option(fc.nat(9), { nil: null }),
    closed: fc.constantFrom([], ['sender'], ['receiver'], ['sender', 'receiver']),
  });

/** Rows keyed by id, for a random subset of ids 1..12. */
function keyed<R>(row: (id: number) => fc.Arbitrary<R>): fc.Arbitrary<Record<string, R>> {
  return fc.uniqueArray(fc.integer({ min: 1, max: 12 }), { maxLength: 8 }).chain((ids) => fc.tuple(...ids.map(row)).map((rows) => Object.fromEntries(rows.map((r, i) => [String(ids[i]), r]))));
}

const SPANS: SpanRow[] = Array.from({ length: 30 }, (_, i) => ({ name: `s${i}`, tid: i % 3, thread: i % 3 === 0 ? 'main' : `worker ${i % 3}`, start: i * 10, dur: 5 }));

function state(seq: number, tasks: Record<string, TaskRow>, resources: Record<string, ResourceRow>, spanEnd: number, workers: number, requests: number): ConsoleState {
  return {
    schema: CONSOLE_SCHEMA,
    seq,
    time: seq * 1000,
    tasks,
    pool: workers === 0 ? null : { workers: Array.from({ length: workers }, (_, index) => ({ index, alive: true, executed: requests, stolen: 0, parked: 0, executedPerSec: 0, stolenPerSec: 0, parkedPerSec: 0, dequeDepth: 0, inboxDepth: 0, elu: null })), injectorDepth: 0, pending: 0, overflow: 0, restarts: 0 },
    queues: { localAlive: Object.keys(tasks).length, localQueued: 0, spawned: 0, spawnedPerSec: 0, timersArmed: 0, timersFired: 0, timersFiredPerSec: 0 },
    resources,
    http: { requests, perSec: 0, inFlight: 0, status: { '1xx': 0, '2xx': requests, '3xx': 0, '4xx': 0, '5xx': 0, error: 0 }, latencyBoundsMs: [1, 10], latencyCounts: [requests, 0, 0] },
    process: { loopDelayP50Ms: 0, loopDelayP99Ms: 0, loopDelayMaxMs: 0, elu: 0, rss: 1, heapUsed: 1, heapTotal: 1 },
    spans: SPANS.slice(Math.max(0, spanEnd - 10), spanEnd),
    warnings: requests > 3 ? [{ kind: 'dropped_events', message: 'x', subject: null }] : [],
    console: { clients: 1, dropped: 0, tasksNotShown: 0, tickMs: 0, intervalMs: 1000 },
  };
}

const stateArb = (seq: number, minSpan: number): fc.Arbitrary<ConsoleState> =>
  fc.tuple(keyed(taskRow), keyed(resourceRow), fc.integer({ min: minSpan, max: 30 }), fc.nat(2), fc.nat(5)).map(([t, r, s, w, q]) => state(seq, t, r, s, w, q));

describe('console diff', () => {
  it('applyUpdate(prev, diffStates(prev, next)) equals next, and every frame fits the schema', () => {
    fc.assert(
      fc.property(
        stateArb(1, 0).chain((prev) => fc.tuple(fc.constant(prev), stateArb(2, prev.spans.length === 0 ? 0 : SPANS.indexOf(prev.spans[prev.spans.length - 1]!) + 1))),
        ([prev, next]) => {
          const update = diffStates(prev, next);
          expectPayload('update', JSON.parse(JSON.stringify(update)));
          expect(applyUpdate(prev, update, 10)).toEqual(next);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a frame carries only what changed', () => {
    const a = state(1, {}, {}, 5, 2, 1);
    const b = { ...a, seq: 2, time: 2000 };
    expect(diffStates(a, b)).toEqual({ schema: CONSOLE_SCHEMA, seq: 2, time: 2000 });
    const row: TaskRow = { id: 7, name: 'seven', state: 'running', scope: 0, spawnedAt: 0, busyMs: null, warnings: [] };
    const c = { ...b, seq: 3, tasks: { 7: row } };
    expect(diffStates(b, c)).toEqual({ schema: CONSOLE_SCHEMA, seq: 3, time: 2000, tasks: { upsert: [row], remove: [] } });
    const d = { ...c, seq: 4, tasks: {} };
    expect(diffStates(c, d).tasks).toEqual({ upsert: [], remove: [7] });
  });

  it('ignores a frame that is not newer than the state', () => {
    const a = state(5, {}, {}, 0, 0, 0);
    const old = diffStates(state(3, {}, {}, 0, 0, 0), state(4, {}, {}, 0, 0, 9));
    expect(applyUpdate(a, old, 10)).toBe(a);
  });
});
