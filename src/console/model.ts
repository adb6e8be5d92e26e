/**
 * The console's data model: the full state (`/api/v1/snapshot`, the `hello` event) and the
 * update frames (`update` events) that carry only what changed.
 *
 * Every payload carries `schema: 'zokio.console/1'`; `schema.ts` states the same shapes as
 * a JSON Schema that tests validate payloads against. A field is added only with a new
 * schema version. Nothing here ever holds a task's arguments or result.
 */

/** The schema tag of every console payload. */
export const CONSOLE_SCHEMA = 'zokio.console/1';

/** One local task. `spawnedAt` is when the console first saw it (console clock, ms). */
export interface TaskRow {
  readonly id: number;
  readonly name: string | null;
  readonly state: 'pending' | 'running' | 'done' | 'failed' | 'aborted';
  /** 0: spawned on the runtime; otherwise the scope's console id. */
  readonly scope: number;
  readonly spawnedAt: number;
  /** Busy (on-CPU) time in ms, where measured; local tasks are not measured (null). */
  readonly busyMs: number | null;
  readonly warnings: readonly string[];
}

/** One work-stealing pool worker (a lane). Rates are per second over the last interval. */
export interface WorkerRow {
  readonly index: number;
  readonly alive: boolean;
  readonly executed: number;
  readonly stolen: number;
  readonly parked: number;
  readonly executedPerSec: number;
  readonly stolenPerSec: number;
  readonly parkedPerSec: number;
  readonly dequeDepth: number;
  readonly inboxDepth: number;
  /** Event-loop utilisation of the worker thread, where measured (null otherwise). */
  readonly elu: number | null;
}

/** The pool, or null on a runtime without workers (or before its first `exec`). */
export interface PoolSection {
  readonly workers: readonly WorkerRow[];
  readonly injectorDepth: number;
  readonly pending: number;
  readonly overflow: number;
  readonly restarts: number;
}

/** Queues and timers of the main thread. */
export interface QueuesSection {
  readonly localAlive: number;
  readonly localQueued: number;
  readonly spawned: number;
  readonly spawnedPerSec: number;
  readonly timersArmed: number;
  readonly timersFired: number;
  readonly timersFiredPerSec: number;
}

/** One sync primitive seen through the registry. */
export interface ResourceRow {
  readonly id: number;
  readonly kind: 'semaphore' | 'mutex' | 'rwlock' | 'channel';
  /** Free permits (semaphore). */
  readonly permits: number | null;
  /** Holders: 1/0 for a mutex or a rwlock's writer, the reader count for a rwlock's readers. */
  readonly holders: number | null;
  readonly waiters: number;
  /** Buffered messages (channel). */
  readonly length: number | null;
  /** Capacity (channel); null when unbounded or not a channel. */
  readonly capacity: number | null;
  /** Closed ends: `sender`, `receiver`, or `closed` for a closed semaphore. */
  readonly closed: readonly string[];
}

/** HTTP handled by `serve()` servers of this process while a client was connected. */
export interface HttpSection {
  readonly requests: number;
  readonly perSec: number;
  readonly inFlight: number;
  readonly status: { readonly '1xx': number; readonly '2xx': number; readonly '3xx': number; readonly '4xx': number; readonly '5xx': number; readonly error: number };
  /** Upper bounds of the latency buckets in ms (the last bucket is unbounded). */
  readonly latencyBoundsMs: readonly number[];
  readonly latencyCounts: readonly number[];
}

/** The main thread. */
export interface ProcessSection {
  readonly loopDelayP50Ms: number;
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
  readonly elu: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
}

/** One recent span (no attributes: they may hold user data). Times in epoch ms. */
export interface SpanRow {
  readonly name: string;
  readonly tid: number;
  readonly thread: string;
  readonly start: number;
  readonly dur: number;
}

/** One warning. */
export interface WarningRow {
  readonly kind: 'loop_blocked' | 'long_sync' | 'channel_growing' | 'semaphore_starving' | 'injector_while_parked' | 'dropped_events';
  readonly message: string;
  /** The task, resource or worker it is about, when there is one. */
  readonly subject: string | null;
}

/** The console itself. */
export interface ConsoleSection {
  readonly clients: number;
  /** Frames dropped for slow clients since the console started. */
  readonly dropped: number;
  /** Live tasks not sent because of `retention.tasks`. */
  readonly tasksNotShown: number;
  /** Main-thread time the last tick took (sample + diff + serialise), in ms. */
  readonly tickMs: number;
  readonly intervalMs: number;
}

/** The whole state at one tick. */
export interface ConsoleState {
  readonly schema: typeof CONSOLE_SCHEMA;
  readonly seq: number;
  /** Console clock time of the tick, in ms (the runtime's clock). */
  readonly time: number;
  readonly tasks: Readonly<Record<string, TaskRow>>;
  readonly pool: PoolSection | null;
  readonly queues: QueuesSection;
  readonly resources: Readonly<Record<string, ResourceRow>>;
  readonly http: HttpSection;
  readonly process: ProcessSection;
  /** The most recent spans, oldest first (at most `retention.spans`). */
  readonly spans: readonly SpanRow[];
  readonly warnings: readonly WarningRow[];
  readonly console: ConsoleSection;
}

/** Rows that changed in a keyed section. */
export interface KeyedChange<R> {
  readonly upsert: readonly R[];
  readonly remove: readonly number[];
}

/** An `update` event: only what changed since `seq - 1`. */
export interface ConsoleUpdate {
  readonly schema: typeof CONSOLE_SCHEMA;
  readonly seq: number;
  readonly time: number;
  readonly tasks?: KeyedChange<TaskRow>;
  readonly resources?: KeyedChange<ResourceRow>;
  readonly pool?: PoolSection | null;
  readonly queues?: QueuesSection;
  readonly http?: HttpSection;
  readonly process?: ProcessSection;
  /** Spans ended since the previous frame. */
  readonly spans?: readonly SpanRow[];
  readonly warnings?: readonly WarningRow[];
  readonly console?: ConsoleSection;
}

/** The `hello` event: the runtime's report and, unless resuming, the whole state. */
export interface ConsoleHello {
  readonly schema: typeof CONSOLE_SCHEMA;
  readonly seq: number;
  readonly report: unknown;
  /** The whole state; absent when the client resumed and gets the missed updates next. */
  readonly state?: ConsoleState;
  readonly resumedFrom?: number;
}

/** `/api/v1/tasks/:id`. */
export interface ConsoleTaskDetail {
  readonly schema: typeof CONSOLE_SCHEMA;
  readonly seq: number;
  readonly time: number;
  readonly task: TaskRow;
  readonly ageMs: number;
}
