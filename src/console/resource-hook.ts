/**
 * The one hook the sync primitives call from their constructors, so that a running console
 * can list semaphores, mutexes, rwlocks and channels.
 *
 * Implementation note. `resourceHook` is a module-level nullable function: while no console
 * runs it is `undefined` and a constructor pays one load and one compare
 * (`resourceHook?.(this)`). The console sets it when it starts and clears it when it stops.
 * This file imports nothing, so `zokio/sync` pulls no console code in.
 */

/** Called with each new sync primitive while a console runs. */
export let resourceHook: ((resource: object) => void) | undefined;

/** @internal Sets (or, with `undefined`, clears) the hook. Returns the previous one. */
export function setResourceHook(hook: ((resource: object) => void) | undefined): ((resource: object) => void) | undefined {
  const previous = resourceHook;
  resourceHook = hook;
  return previous;
}
