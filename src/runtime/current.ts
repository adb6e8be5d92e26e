/**
 * The runtime free functions (`spawn`, `sleep`, `timeout`, fs, net, http, ...) act on: the
 * one of the code running now, or the default runtime, built on first use.
 *
 * Implementation note. The default runtime is built by `createRuntime()` (so by the same
 * composition function as every other runtime) the first time free functions run outside
 * any runtime, never when a module is imported. Once it has shut down, the next use
 * builds a new one. This module imports the runtime class, so a runtime part must not
 * import it: parts read the current store from `context.ts` and get their runtime from
 * the composition function.
 *
 * @module
 */
import { contextStorage } from './context.js';
import { createRuntime, type ZokioRuntime } from './runtime.js';

let defaultRuntime: ZokioRuntime | undefined;

/** @internal The current runtime, or the default runtime built on first use. */
export function currentRuntimeObject(): object {
  const store = contextStorage.getStore();
  if (store !== undefined) return store.runtime;
  if (defaultRuntime === undefined || defaultRuntime.stopped) defaultRuntime = createRuntime() as unknown as ZokioRuntime;
  return defaultRuntime;
}

/** @internal The default runtime if it has been built and not shut down, without building one. */
export function defaultRuntimeIfBuilt(): object | undefined {
  return defaultRuntime === undefined || defaultRuntime.stopped ? undefined : defaultRuntime;
}
