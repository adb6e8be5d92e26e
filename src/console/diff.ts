/**
 * Diffing console states into update frames, and applying a frame to a state.
 *
 * Implementation note. The sampler reuses a row object while the row does not change, so
 * `diffStates` compares task and resource rows by reference first and only then field by
 * field; small sections (pool, queues, http, process, warnings, console) are compared as
 * JSON. `applyUpdate` is also the page's own code: the server embeds its source
 * (`applyUpdate.toString()`) in the page script, so it is written with no imports, no
 * nested functions and no helpers — one copy, tested here and run in the browser.
 *
 * *Ordering*: frames apply in `seq` order; `applyUpdate` ignores a frame whose `seq` is not
 * greater than the state's.
 */
import type { ConsoleState, ConsoleUpdate, KeyedChange, ResourceRow, TaskRow } from './model.js';

function sameRow(a: object, b: object): boolean {
  if (a === b) return true;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  for (const key in ra) {
    const x = ra[key];
    const y = rb[key];
    if (x === y) continue;
    if (Array.isArray(x) && Array.isArray(y) && x.length === y.length && x.every((v, i) => v === y[i])) continue;
    return false;
  }
  return true;
}

function diffKeyed<R extends { readonly id: number }>(prev: Readonly<Record<string, R>>, next: Readonly<Record<string, R>>): KeyedChange<R> | undefined {
  const upsert: R[] = [];
  const remove: number[] = [];
  for (const key in next) {
    const before = prev[key];
    const row = next[key]!;
    if (before === undefined || !sameRow(before, row)) upsert.push(row);
  }
  for (const key in prev) if (next[key] === undefined) remove.push(prev[key]!.id);
  return upsert.length === 0 && remove.length === 0 ? undefined : { upsert, remove };
}

function sameJson(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The frame that turns `prev` into `next`: only the sections and rows that changed. Spans
 * are sent as the ones `next` has beyond `prev` (both are windows of the same stream).
 * `taskChange`, when given, is the task rows' change as the sampler computed it.
 */
export function diffStates(prev: ConsoleState, next: ConsoleState, taskChange?: KeyedChange<TaskRow>): ConsoleUpdate {
  const update: { -readonly [K in keyof ConsoleUpdate]: ConsoleUpdate[K] } = { schema: next.schema, seq: next.seq, time: next.time };
  // The sampler knows which task rows changed (it walked them): with thousands of tasks that
  // is much cheaper than comparing two records key by key.
  const tasks = taskChange !== undefined ? (taskChange.upsert.length === 0 && taskChange.remove.length === 0 ? undefined : taskChange) : diffKeyed<TaskRow>(prev.tasks, next.tasks);
  if (tasks !== undefined) update.tasks = tasks;
  const resources = diffKeyed<ResourceRow>(prev.resources, next.resources);
  if (resources !== undefined) update.resources = resources;
  if (!sameJson(prev.pool, next.pool)) update.pool = next.pool;
  if (!sameJson(prev.queues, next.queues)) update.queues = next.queues;
  if (!sameJson(prev.http, next.http)) update.http = next.http;
  if (!sameJson(prev.process, next.process)) update.process = next.process;
  if (!sameJson(prev.warnings, next.warnings)) update.warnings = next.warnings;
  if (!sameJson(prev.console, next.console)) update.console = next.console;
  const last = prev.spans.length === 0 ? undefined : prev.spans[prev.spans.length - 1];
  const from = last === undefined ? 0 : next.spans.lastIndexOf(last) + 1;
  if (from < next.spans.length) update.spans = next.spans.slice(from);
  return update;
}

/**
 * Applies an update frame to a state and returns the new state (the input is not
 * changed). Keeps at most `spanLimit` spans. Self-contained on purpose: the page runs this
 * very function (see the file's note).
 */
export function applyUpdate(state: ConsoleState, update: ConsoleUpdate, spanLimit: number): ConsoleState {
  if (update.seq <= state.seq) return state;
  const out = Object.assign({}, state, { seq: update.seq, time: update.time }) as unknown as Record<string, unknown>;
  const keyed = ['tasks', 'resources'] as const;
  for (let k = 0; k < keyed.length; k++) {
    const change = update[keyed[k]!] as KeyedChange<{ id: number }> | undefined;
    if (change === undefined) continue;
    const rows: Record<string, unknown> = Object.assign({}, state[keyed[k]!]);
    for (let i = 0; i < change.remove.length; i++) delete rows[String(change.remove[i])];
    for (let i = 0; i < change.upsert.length; i++) rows[String(change.upsert[i]!.id)] = change.upsert[i];
    out[keyed[k]!] = rows;
  }
  const plain = ['pool', 'queues', 'http', 'process', 'warnings', 'console'] as const;
  for (let k = 0; k < plain.length; k++) {
    if (Object.prototype.hasOwnProperty.call(update, plain[k]!)) out[plain[k]!] = update[plain[k]!];
  }
  if (update.spans !== undefined && update.spans.length > 0) {
    const spans = state.spans.concat(update.spans);
    out['spans'] = spans.length > spanLimit ? spans.slice(spans.length - spanLimit) : spans;
  }
  return out as unknown as ConsoleState;
}
