/**
 * Builds one {@link ConsoleState} from what the runtime already counts: the executor's
 * live-task list, `rt.metrics()` (pool, timers), the resource registry, the HTTP counters,
 * the span window and the main thread's event-loop delay and memory.
 *
 * Implementation note. A tick walks the live-task list once (newest first) and keeps, per
 * task, the row it sent last and the tick it was last seen at: an unchanged task reuses
 * its row (no allocation; diffing compares by reference) and a task not seen at this tick
 * has ended. Only the first `retention.tasks` tasks get rows; the others are counted.
 * Nothing here runs unless a console client is connected (or `/api/v1/snapshot` is asked
 * for): the event-loop delay histogram is enabled only while sampling.
 */
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { LocalExecutor } from '../scheduler/local-executor.js';
import type { TaskRecord, TaskState } from '../scheduler/task.js';
import type { HttpStats } from './http-stats.js';
import { CONSOLE_SCHEMA, type ConsoleSection, type ConsoleState, type KeyedChange, type PoolSection, type ProcessSection, type QueuesSection, type SpanRow, type TaskRow, type WarningRow, type WorkerRow } from './model.js';
import type { ResolvedConsoleOptions } from './options.js';
import type { ResourceRegistry } from './resources.js';
import type { SpanWindow } from './spans.js';

const STATE_NAMES: readonly TaskState[] = ['pending', 'running', 'done', 'failed', 'aborted'];
const NO_WARNINGS: readonly string[] = Object.freeze([]);
const LONG_SYNC: readonly string[] = Object.freeze(['long_sync']);

interface TaskEntry {
  row: TaskRow;
  seen: number;
  /** The live record, until the task ends (then its final state is read and it is let go). */
  record: TaskRecord | undefined;
  /** Console time the task was first missing from the live list (-1: live). */
  endedAt: number;
}

/** The pool counters a tick reads from `rt.metrics().pool`. */
interface PoolMetrics {
  readonly workers: ReadonlyArray<{ executed: number; stolen: number; parked: number; dequeDepth: number; inboxDepth: number; alive: boolean }>;
  readonly injectorDepth: number;
  readonly pending: number;
  readonly overflow: number;
  readonly restarts: number;
}

/** What the sampler needs from the runtime. */
export interface SampledRuntime {
  metrics(): Record<string, unknown>;
}

/** @internal */
export class Sampler {
  readonly #runtime: SampledRuntime;
  readonly #executor: LocalExecutor;
  readonly #options: ResolvedConsoleOptions;
  readonly #resources: ResourceRegistry;
  readonly #http: HttpStats;
  readonly #spans: SpanWindow;
  readonly #ownTaskName: string | undefined;
  readonly #tasks = new Map<number, TaskEntry>();
  readonly #scopes = new WeakMap<object, number>();
  #nextScope = 1;
  #tick = 0;
  #lastTime = -1;
  #lastWorkers: readonly { executed: number; stolen: number; parked: number }[] = [];
  #lastSpawned = 0;
  #lastFired = 0;
  #delay: ReturnType<typeof monitorEventLoopDelay> | undefined;
  #elu: EventLoopUtilization | undefined;
  #lastSpan: SpanRow | undefined;
  /** The task rows the last sample added, changed and removed (the feed sends these as they are). */
  lastTaskChange: KeyedChange<TaskRow> | undefined;

  /** `ownTaskName`: the name of the console's own response tasks, which are not shown. */
  constructor(runtime: SampledRuntime, executor: LocalExecutor, options: ResolvedConsoleOptions, resources: ResourceRegistry, http: HttpStats, spans: SpanWindow, ownTaskName?: string) {
    this.#ownTaskName = ownTaskName;
    this.#runtime = runtime;
    this.#executor = executor;
    this.#options = options;
    this.#resources = resources;
    this.#http = http;
    this.#spans = spans;
  }

  /** Starts the event-loop delay histogram (while clients are connected). */
  start(): void {
    if (this.#delay !== undefined) return;
    this.#delay = monitorEventLoopDelay({ resolution: 10 });
    this.#delay.enable();
    this.#elu = performance.eventLoopUtilization();
  }

  /** Stops the histogram. */
  stop(): void {
    this.#delay?.disable();
    this.#delay = undefined;
  }

  /** One state at console time `now`, numbered `seq`; `console` is the console section. */
  sample(seq: number, now: number, consoleSection: Omit<ConsoleSection, 'tasksNotShown'>): ConsoleState {
    const tick = ++this.#tick;
    const elapsed = this.#lastTime < 0 ? 0 : now - this.#lastTime;
    this.#lastTime = now;
    const proc = this.#process();
    const longSync = proc.loopDelayMaxMs >= this.#options.warnings.longSyncMs;
    const { tasks, change, notShown, running, runningCount } = this.#walkTasks(tick, now, longSync);
    this.lastTaskChange = change;
    const metrics = this.#runtime.metrics();
    const pool = this.#pool(metrics['pool'] as PoolMetrics | undefined, elapsed);
    const queues = this.#queues(metrics, elapsed);
    const resources = this.#resources.sample(now, this.#options.warnings.starvingMs, this.#options.warnings.growingSamples, this.#options.retention.tasks);
    const spans = this.#spans.rows();
    const warnings: WarningRow[] = [];
    const w = this.#options.warnings;
    if (proc.loopDelayP99Ms > w.loopDelayMs) {
      warnings.push({ kind: 'loop_blocked', message: `event loop blocked: delay p99 ${proc.loopDelayP99Ms} ms (over ${w.loopDelayMs} ms)`, subject: 'main' });
    }
    if (longSync) {
      const names = running.map((r) => (r.name === null ? `#${r.id}` : `${r.name} (#${r.id})`));
      warnings.push({
        kind: 'long_sync',
        message: `long synchronous stretch: the main thread did not yield for ${proc.loopDelayMaxMs} ms${names.length === 0 ? '' : `; tasks running then: ${names.join(', ')}${runningCount > names.length ? ` and ${runningCount - names.length} more` : ''}`}`,
        subject: runningCount === 1 ? `task #${running[0]!.id}` : 'main',
      });
    }
    const lastSpan = this.#lastSpan;
    for (let i = lastSpan === undefined ? 0 : spans.lastIndexOf(lastSpan) + 1; i < spans.length; i++) {
      const span = spans[i]!;
      if (span.tid !== 0 && span.dur >= w.longSyncMs) {
        warnings.push({ kind: 'long_sync', message: `long synchronous stretch: span '${span.name}' ran ${Math.round(span.dur)} ms on ${span.thread}`, subject: span.thread });
        break;
      }
    }
    this.#lastSpan = spans.length === 0 ? lastSpan : spans[spans.length - 1];
    for (const row of resources.growing) {
      warnings.push({ kind: 'channel_growing', message: `unbounded channel #${row.id} keeps growing (${row.length} messages)`, subject: `resource #${row.id}` });
    }
    for (const { row, forMs } of resources.starving) {
      warnings.push({ kind: 'semaphore_starving', message: `${row.kind} #${row.id}: ${row.waiters} waiter(s) for ${Math.round(forMs)} ms`, subject: `resource #${row.id}` });
    }
    if (pool !== null && pool.injectorDepth > 0 && pool.workers.some((lane) => lane.parkedPerSec > 0)) {
      warnings.push({ kind: 'injector_while_parked', message: `${pool.injectorDepth} task(s) wait in the injector while workers park`, subject: 'pool' });
    }
    if (consoleSection.dropped > 0) {
      warnings.push({ kind: 'dropped_events', message: `${consoleSection.dropped} console frame(s) dropped for slow clients`, subject: 'console' });
    }
    return {
      schema: CONSOLE_SCHEMA,
      seq,
      time: now,
      // A getter: the record of every task is built only when serialised or read.
      get tasks(): Record<string, TaskRow> {
        return tasks();
      },
      pool,
      queues,
      resources: resources.rows,
      http: this.#http.section(now),
      process: proc,
      spans,
      warnings,
      console: { ...consoleSection, tasksNotShown: notShown },
    };
  }

  #walkTasks(tick: number, now: number, longSync: boolean): { tasks: () => Record<string, TaskRow>; change: KeyedChange<TaskRow>; notShown: number; running: TaskRow[]; runningCount: number } {
    const map = this.#tasks;
    const limit = this.#options.retention.tasks;
    const upsert: TaskRow[] = [];
    const remove: number[] = [];
    const running: TaskRow[] = [];
    const ownTaskName = this.#ownTaskName;
    let runningCount = 0;
    let shown = 0;
    let notShown = 0;
    for (let record: TaskRecord | undefined = this.#executor.firstLive; record !== undefined; record = record.next) {
      if (ownTaskName !== undefined && record.name === ownTaskName) continue; // the console's own responses (its streams)
      let entry = map.get(record.id);
      if (entry === undefined) {
        // Every kept row (live or lingering) counts against the retention: memory stays bounded.
        if (map.size >= limit) {
          notShown++;
          continue;
        }
        entry = { row: this.#row(record, now, NO_WARNINGS), seen: tick, record, endedAt: -1 };
        map.set(record.id, entry);
        upsert.push(entry.row);
      } else {
        entry.seen = tick;
      }
      shown++;
      let row = entry.row;
      const state = STATE_NAMES[record.state]!;
      if (row.state !== state || row.warnings !== NO_WARNINGS) {
        row = { ...row, state, warnings: NO_WARNINGS };
        entry.row = row;
        upsert.push(row);
      }
      if (state === 'running' && runningCount++ < 5) running.push(row);
    }
    // A local task that awaits is `running` too, so a stretch without a yield is pinned on
    // a task only when it was the one running task; otherwise the warning lists candidates.
    if (longSync && runningCount === 1) {
      const entry = map.get(running[0]!.id)!;
      entry.row = { ...entry.row, warnings: LONG_SYNC };
      running[0] = entry.row;
      upsert.push(entry.row);
    }
    // Ended tasks stay `retention.endedMs` with their final state, then go.
    if (map.size > shown) {
      const linger = this.#options.retention.endedMs;
      for (const [id, entry] of map) {
        if (entry.seen === tick) continue;
        if (entry.endedAt < 0) {
          entry.endedAt = now;
          entry.row = { ...entry.row, state: STATE_NAMES[entry.record!.state]!, warnings: NO_WARNINGS };
          entry.record = undefined;
          if (linger > 0) upsert.push(entry.row);
        }
        if (now - entry.endedAt >= linger) {
          map.delete(id);
          remove.push(id);
        }
      }
    }
    // The whole record is built only when somebody needs it (a snapshot, a hello).
    let tasks: Record<string, TaskRow> | undefined;
    const all = (): Record<string, TaskRow> => {
      if (tasks === undefined) {
        tasks = {};
        for (const [id, entry] of map) tasks[id] = entry.row;
      }
      return tasks;
    };
    return { tasks: all, change: { upsert, remove }, notShown, running, runningCount };
  }

  #row(record: TaskRecord, now: number, warnings: readonly string[]): TaskRow {
    const owner = record.owner;
    let scope = 0;
    if (owner !== (this.#executor as object)) {
      scope = this.#scopes.get(owner) ?? 0;
      if (scope === 0) {
        scope = this.#nextScope++;
        this.#scopes.set(owner, scope);
      }
    }
    return { id: record.id, name: record.name ?? null, state: STATE_NAMES[record.state]!, scope, spawnedAt: now, busyMs: null, warnings };
  }

  #pool(pool: PoolMetrics | undefined, elapsed: number): PoolSection | null {
    if (pool === undefined || !Array.isArray(pool.workers)) return null;
    const last = this.#lastWorkers;
    const rate = (now: number, before: number | undefined): number => (elapsed > 0 && before !== undefined ? Math.round(((now - before) * 10000) / elapsed) / 10 : 0);
    const workers: WorkerRow[] = pool.workers.map((w, index) => ({
      index,
      alive: w.alive,
      executed: w.executed,
      stolen: w.stolen,
      parked: w.parked,
      executedPerSec: rate(w.executed, last[index]?.executed),
      stolenPerSec: rate(w.stolen, last[index]?.stolen),
      parkedPerSec: rate(w.parked, last[index]?.parked),
      dequeDepth: w.dequeDepth,
      inboxDepth: w.inboxDepth,
      elu: null,
    }));
    this.#lastWorkers = pool.workers.map((w) => ({ executed: w.executed, stolen: w.stolen, parked: w.parked }));
    return { workers, injectorDepth: pool.injectorDepth, pending: pool.pending, overflow: pool.overflow, restarts: pool.restarts };
  }

  #queues(metrics: Record<string, unknown>, elapsed: number): QueuesSection {
    const tasks = metrics['tasks'] as { alive: number; queued: number; spawned: number };
    const timers = (metrics['timers'] as { armed: number; fired: number } | undefined) ?? { armed: 0, fired: 0 };
    const perSec = (now: number, before: number): number => (elapsed > 0 ? Math.round(((now - before) * 10000) / elapsed) / 10 : 0);
    const out = {
      localAlive: tasks.alive,
      localQueued: tasks.queued,
      spawned: tasks.spawned,
      spawnedPerSec: perSec(tasks.spawned, this.#lastSpawned),
      timersArmed: timers.armed,
      timersFired: timers.fired,
      timersFiredPerSec: perSec(timers.fired, this.#lastFired),
    };
    this.#lastSpawned = tasks.spawned;
    this.#lastFired = timers.fired;
    return out;
  }

  #process(): ProcessSection {
    const delay = this.#delay;
    // The histogram records each 10 ms interval's length: the delay is what exceeds it.
    const ms = (ns: number): number => Math.max(0, Math.round((ns - 10e6) / 1e4) / 100);
    let p50 = 0;
    let p99 = 0;
    let max = 0;
    if (delay !== undefined && delay.count > 0) {
      p50 = ms(delay.percentile(50));
      p99 = ms(delay.percentile(99));
      max = ms(delay.max);
      delay.reset();
    }
    const elu = performance.eventLoopUtilization(this.#elu);
    this.#elu = performance.eventLoopUtilization();
    const memory = process.memoryUsage();
    return { loopDelayP50Ms: p50, loopDelayP99Ms: p99, loopDelayMaxMs: max, elu: Math.round(elu.utilization * 1000) / 1000, rss: memory.rss, heapUsed: memory.heapUsed, heapTotal: memory.heapTotal };
  }
}
