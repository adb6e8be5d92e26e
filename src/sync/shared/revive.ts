/**
 * The protocol that lets shared-memory objects (`SharedSemaphore`, `SharedMutex`,
 * `SharedChannel`, `SharedSlab`, ...) be passed as worker task arguments.
 *
 * Structured clone copies an instance's own fields (the SharedArrayBuffer stays shared)
 * but drops its prototype. Each shared class therefore puts an own enumerable field
 * `[SHARED_KIND]`-named `__zokioShared` holding its kind (`shared-kind.ts`), and has a
 * reviver for that kind in the table below (a table, not registration at import, so no
 * module acts when loaded). The worker side calls {@link reviveShared} on every argument
 * before the task runs, which turns the plain copy back into an instance over the same
 * memory.
 */

import { reviveSharedSlab } from '../../memory/shared-slab.js';
import { SHARED_KIND_FIELD } from './shared-kind.js';
import { SharedChannel, type SharedChannelHandle } from './shared-channel.js';
import { SharedMutex, type SharedMutexHandle } from './shared-mutex.js';
import { SharedSemaphore, type SharedSemaphoreHandle } from './shared-semaphore.js';

export { SHARED_KIND_FIELD } from './shared-kind.js';

/** How to rebuild each kind of shared object from its cloned fields (a new shared class adds its line here). */
const REVIVERS: Readonly<Record<string, (data: Record<string, unknown>) => unknown>> = {
  SharedChannel: (data) => SharedChannel.from(data as unknown as SharedChannelHandle),
  SharedMutex: (data) => SharedMutex.from(data as unknown as SharedMutexHandle),
  SharedSemaphore: (data) => SharedSemaphore.from(data as unknown as SharedSemaphoreHandle),
  SharedSlab: reviveSharedSlab,
};

/** Rebuilds `value` if it is a cloned shared object (top level, arrays and plain objects one level deep). */
export function reviveShared(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const kind = (value as Record<string, unknown>)[SHARED_KIND_FIELD];
  if (typeof kind === 'string') {
    const revive = Object.hasOwn(REVIVERS, kind) ? REVIVERS[kind] : undefined;
    return revive === undefined ? value : revive(value as Record<string, unknown>);
  }
  return value;
}
