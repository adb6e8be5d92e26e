/**
 * The registry of sync primitives a running console shows.
 *
 * Implementation note. While a console runs, `resourceHook` (see `resource-hook.ts`) is set
 * to {@link ResourceRegistry.add}: each semaphore, mutex, rwlock and channel created from
 * then on is held through a `WeakRef` (the console never keeps a primitive alive) and read
 * at each tick through its public getters. Primitives made before the console started are
 * not seen. A `RwLock` is built on a `Semaphore` created in its field initialiser, just
 * before the lock's constructor calls the hook: the registry folds that semaphore into the
 * lock's row. Rows are reused while nothing changes, so diffing compares by reference.
 */
import { Chan } from '../sync/channel.js';
import { Mutex } from '../sync/mutex.js';
import { RwLock } from '../sync/rwlock.js';
import { Semaphore } from '../sync/semaphore.js';
import { setResourceHook } from './resource-hook.js';
import type { ResourceRow } from './model.js';

interface Entry {
  readonly id: number;
  readonly ref: WeakRef<object>;
  /** A rwlock's inner semaphore. */
  inner: WeakRef<Semaphore> | undefined;
  row: ResourceRow | undefined;
  /** Unbounded channel: samples in a row its length grew. */
  growing: number;
  /** Semaphore: console time since when it has had waiters (-1: none). */
  waitingSince: number;
}

const EMPTY: readonly string[] = Object.freeze([]);

/** @internal What the console keeps about one primitive, for warnings. */
export interface ResourceSample {
  readonly rows: Record<string, ResourceRow>;
  /** Unbounded channels that grew at each of the last `growingSamples` samples. */
  readonly growing: readonly ResourceRow[];
  /** Semaphores (and locks) whose waiters have been there longer than `starvingMs`. */
  readonly starving: ReadonlyArray<{ readonly row: ResourceRow; readonly forMs: number }>;
}

/** @internal */
export class ResourceRegistry {
  #entries: Entry[] = [];
  #nextId = 1;
  #previousHook: ((resource: object) => void) | undefined;
  #installed = false;

  /** Starts registering new primitives. */
  install(): void {
    if (this.#installed) return;
    this.#installed = true;
    this.#previousHook = setResourceHook((resource) => this.add(resource));
  }

  /** Stops registering; forgets every primitive. */
  uninstall(): void {
    if (!this.#installed) return;
    this.#installed = false;
    setResourceHook(this.#previousHook);
    this.#entries = [];
  }

  /** Registers one primitive (called from its constructor). */
  add(resource: object): void {
    if (resource instanceof RwLock) {
      const last = this.#entries[this.#entries.length - 1];
      const inner = last?.ref.deref();
      if (inner instanceof Semaphore) {
        this.#entries.pop();
        this.#entries.push({ id: this.#nextId++, ref: new WeakRef(resource), inner: new WeakRef(inner), row: undefined, growing: 0, waitingSince: -1 });
        return;
      }
    }
    this.#entries.push({ id: this.#nextId++, ref: new WeakRef(resource), inner: undefined, row: undefined, growing: 0, waitingSince: -1 });
  }

  /** Reads every live primitive at console time `now`; drops the collected ones. */
  sample(now: number, starvingMs: number, growingSamples: number, limit: number): ResourceSample {
    const rows: Record<string, ResourceRow> = {};
    const growing: ResourceRow[] = [];
    const starving: Array<{ row: ResourceRow; forMs: number }> = [];
    let kept = 0;
    const entries = this.#entries;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      const resource = entry.ref.deref();
      if (resource === undefined) continue;
      entries[kept++] = entry;
      if (kept > limit) continue;
      const before = entry.row;
      const next = readRow(entry, resource);
      const row = before !== undefined && sameResource(before, next) ? before : next;
      entry.row = row;
      rows[String(entry.id)] = row;
      if (row.kind === 'channel' && row.capacity === null) {
        entry.growing = before !== undefined && row.length! > before.length! ? entry.growing + 1 : 0;
        if (entry.growing >= growingSamples) growing.push(row);
      }
      if (row.waiters > 0 && row.kind !== 'channel') {
        if (entry.waitingSince < 0) entry.waitingSince = now;
        if (now - entry.waitingSince >= starvingMs) starving.push({ row, forMs: now - entry.waitingSince });
      } else {
        entry.waitingSince = -1;
      }
    }
    entries.length = kept;
    return { rows, growing, starving };
  }
}

function readRow(entry: Entry, resource: object): ResourceRow {
  const id = entry.id;
  if (resource instanceof Semaphore) {
    return { id, kind: 'semaphore', permits: resource.available, holders: null, waiters: resource.waiting, length: null, capacity: null, closed: resource.closed ? ['closed'] : EMPTY };
  }
  if (resource instanceof Mutex) {
    return { id, kind: 'mutex', permits: null, holders: resource.isLocked ? 1 : 0, waiters: resource.waiting, length: null, capacity: null, closed: EMPTY };
  }
  if (resource instanceof RwLock) {
    const inner = entry.inner?.deref();
    const holders = resource.isWriteLocked ? 1 : resource.readers;
    return { id, kind: 'rwlock', permits: null, holders, waiters: inner?.waiting ?? 0, length: null, capacity: null, closed: EMPTY };
  }
  const chan = resource as Chan<unknown>;
  const closed: string[] = [];
  if (chan.senders === 0) closed.push('sender');
  if (chan.receiverClosed) closed.push('receiver');
  return {
    id,
    kind: 'channel',
    permits: null,
    holders: null,
    waiters: chan.sendQ.live + chan.recvQ.live,
    length: chan.ring.length,
    capacity: chan.capacity === Infinity ? null : chan.capacity,
    closed: closed.length === 0 ? EMPTY : closed,
  };
}

function sameResource(a: ResourceRow, b: ResourceRow): boolean {
  return a.permits === b.permits && a.holders === b.holders && a.waiters === b.waiters && a.length === b.length && a.closed.join() === b.closed.join();
}
