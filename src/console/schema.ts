/**
 * The JSON Schema (draft 2020-12) of every console payload, `zokio.console/1`: the
 * snapshot, the `hello`, `update` and `snapshot` events, a task's detail, the trace and
 * errors. It states the shapes of `model.ts`; tests validate real payloads against it with
 * ajv. `additionalProperties: false` everywhere: a new field needs a new schema version.
 */

const num = { type: 'number' } as const;
const int = { type: 'integer', minimum: 0 } as const;
const nullableNum = { type: ['number', 'null'] } as const;
const str = { type: 'string' } as const;

function object(properties: Record<string, unknown>, required: readonly string[] = Object.keys(properties)): Record<string, unknown> {
  return { type: 'object', properties, required, additionalProperties: false };
}

const schemaTag = { const: 'zokio.console/1' } as const;

const taskRow = object({
  id: int,
  name: { type: ['string', 'null'] },
  state: { enum: ['pending', 'running', 'done', 'failed', 'aborted'] },
  scope: int,
  spawnedAt: num,
  busyMs: nullableNum,
  warnings: { type: 'array', items: str },
});

const workerRow = object({
  index: int,
  alive: { type: 'boolean' },
  executed: int,
  stolen: int,
  parked: int,
  executedPerSec: num,
  stolenPerSec: num,
  parkedPerSec: num,
  dequeDepth: int,
  inboxDepth: int,
  elu: nullableNum,
});

const pool = { oneOf: [{ type: 'null' }, object({ workers: { type: 'array', items: { $ref: '#/$defs/workerRow' } }, injectorDepth: int, pending: int, overflow: int, restarts: int })] };

const queues = object({ localAlive: int, localQueued: int, spawned: int, spawnedPerSec: num, timersArmed: int, timersFired: int, timersFiredPerSec: num });

const resourceRow = object({
  id: int,
  kind: { enum: ['semaphore', 'mutex', 'rwlock', 'channel'] },
  permits: nullableNum,
  holders: nullableNum,
  waiters: int,
  length: nullableNum,
  capacity: nullableNum,
  closed: { type: 'array', items: { enum: ['sender', 'receiver', 'closed'] } },
});

const http = object({
  requests: int,
  perSec: num,
  inFlight: { type: 'integer' },
  status: object({ '1xx': int, '2xx': int, '3xx': int, '4xx': int, '5xx': int, error: int }),
  latencyBoundsMs: { type: 'array', items: num },
  latencyCounts: { type: 'array', items: int },
});

const processSection = object({ loopDelayP50Ms: num, loopDelayP99Ms: num, loopDelayMaxMs: num, elu: num, rss: int, heapUsed: int, heapTotal: int });

const spanRow = object({ name: str, tid: int, thread: str, start: num, dur: num });

const warningRow = object({
  kind: { enum: ['loop_blocked', 'long_sync', 'channel_growing', 'semaphore_starving', 'injector_while_parked', 'dropped_events'] },
  message: str,
  subject: { type: ['string', 'null'] },
});

const consoleSection = object({ clients: int, dropped: int, tasksNotShown: int, tickMs: num, intervalMs: int });

const keyed = (row: string): Record<string, unknown> => object({ upsert: { type: 'array', items: { $ref: `#/$defs/${row}` } }, remove: { type: 'array', items: int } });

const state = object({
  schema: schemaTag,
  seq: int,
  time: num,
  tasks: { type: 'object', additionalProperties: { $ref: '#/$defs/taskRow' } },
  pool: { $ref: '#/$defs/pool' },
  queues: { $ref: '#/$defs/queues' },
  resources: { type: 'object', additionalProperties: { $ref: '#/$defs/resourceRow' } },
  http: { $ref: '#/$defs/http' },
  process: { $ref: '#/$defs/process' },
  spans: { type: 'array', items: { $ref: '#/$defs/spanRow' } },
  warnings: { type: 'array', items: { $ref: '#/$defs/warningRow' } },
  console: { $ref: '#/$defs/console' },
});

const update = object(
  {
    schema: schemaTag,
    seq: int,
    time: num,
    tasks: keyed('taskRow'),
    resources: keyed('resourceRow'),
    pool: { $ref: '#/$defs/pool' },
    queues: { $ref: '#/$defs/queues' },
    http: { $ref: '#/$defs/http' },
    process: { $ref: '#/$defs/process' },
    spans: { type: 'array', items: { $ref: '#/$defs/spanRow' } },
    warnings: { type: 'array', items: { $ref: '#/$defs/warningRow' } },
    console: { $ref: '#/$defs/console' },
  },
  ['schema', 'seq', 'time'],
);

const hello = object({ schema: schemaTag, seq: int, report: { type: 'object' }, state: { $ref: '#/$defs/state' }, resumedFrom: int }, ['schema', 'seq', 'report']);

const taskDetail = object({ schema: schemaTag, seq: int, time: num, task: { $ref: '#/$defs/taskRow' }, ageMs: num });

const trace = object({
  schema: schemaTag,
  displayTimeUnit: { const: 'ms' },
  traceEvents: {
    type: 'array',
    items: {
      type: 'object',
      properties: { name: str, ph: { enum: ['X', 'M'] }, pid: int, tid: int, ts: num, dur: num, cat: str, args: { type: 'object' } },
      required: ['name', 'ph', 'pid', 'tid'],
      additionalProperties: false,
    },
  },
});

const errorPayload = object({ schema: schemaTag, error: str });

/**
 * The JSON Schema of the console feed. Each payload kind is a `$defs` entry (`state`,
 * `update`, `hello`, `taskDetail`, `trace`, `error`); the root accepts any of them.
 */
export const CONSOLE_JSON_SCHEMA = Object.freeze({
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://zokio.dev/schema/console/1.json',
  title: 'zokio.console/1',
  $defs: {
    taskRow,
    workerRow,
    pool,
    queues,
    resourceRow,
    http,
    process: processSection,
    spanRow,
    warningRow,
    console: consoleSection,
    state,
    update,
    hello,
    taskDetail,
    trace,
    error: errorPayload,
  },
  anyOf: [
    { $ref: '#/$defs/state' },
    { $ref: '#/$defs/update' },
    { $ref: '#/$defs/hello' },
    { $ref: '#/$defs/taskDetail' },
    { $ref: '#/$defs/trace' },
    { $ref: '#/$defs/error' },
  ],
});
