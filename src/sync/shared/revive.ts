/**
 * The protocol that lets shared-memory objects (`SharedSemaphore`, `SharedMutex`,
 * `SharedChannel`, `SharedSlab`, ...) be passed as worker task arguments.
 *
 * Structured clone copies an instance's own fields (the SharedArrayBuffer stays shared)
 * but drops its prototype. Each shared class therefore puts an own enumerable field
 * `[SHARED_KIND]`-named `__zokioShared` holding its kind, and registers a reviver for that
 * kind. The worker side calls {@link reviveShared} on every argument before the task runs,
 * which turns the plain copy back into an instance over the same memory.
 */

/** The own field that marks a shared object and names its kind. */
export const SHARED_KIND_FIELD = '__zokioShared';

// One registry per thread, kept on globalThis under a Symbol.for key: a bundle (dist/) or
// an app that ends up with two copies of this module must still see every registration.
const REVIVERS = Symbol.for('zokio.sharedRevivers');
const revivers: Map<string, (data: Record<string, unknown>) => unknown> = ((globalThis as { [REVIVERS]?: Map<string, (data: Record<string, unknown>) => unknown> })[REVIVERS] ??= new Map());

/** Registers how to rebuild a shared object of `kind` from its cloned fields. */
export function registerShared(kind: string, revive: (data: Record<string, unknown>) => unknown): void {
  revivers.set(kind, revive);
}

/** Rebuilds `value` if it is a cloned shared object (top level, arrays and plain objects one level deep). */
export function reviveShared(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const kind = (value as Record<string, unknown>)[SHARED_KIND_FIELD];
  if (typeof kind === 'string') {
    const revive = revivers.get(kind);
    return revive === undefined ? value : revive(value as Record<string, unknown>);
  }
  return value;
}
