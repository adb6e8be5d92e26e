/**
 * The current-runtime context. One AsyncLocalStorage holds the store of whatever is
 * running: the runtime, the local task (if any) and the current span. Code started from
 * `rt.run(main)` or from a spawned task sees that store; free functions (`spawn`, `sleep`,
 * ...) read the runtime from it, or fall back to a lazily built default runtime.
 *
 * A `Task` is its own store (it has `runtime`, `task` and `span`), so entering a task costs
 * no extra allocation.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** What the AsyncLocalStorage holds while Zokio code runs. */
export interface ContextStore {
  /** The runtime that is current. Typed loosely here to keep this file free of imports. */
  readonly runtime: object;
  /** The local task being run, if any. */
  readonly task: object | undefined;
  /** The current span, if tracing is on. */
  span: object | undefined;
}

/** The one storage every part of Zokio reads the current context from. */
export const contextStorage = new AsyncLocalStorage<ContextStore>();

/** The store of the code that is running now, or undefined outside any runtime. */
export function currentStore(): ContextStore | undefined {
  return contextStorage.getStore();
}

let defaultFactory: (() => object) | undefined;
let defaultRuntime: object | undefined;

/** @internal Lets runtime.ts register how the default runtime is built (avoids an import cycle). */
export function setDefaultRuntimeFactory(factory: () => object): void {
  defaultFactory = factory;
}

/** @internal The current runtime, or the default runtime built on first use. */
export function currentRuntimeObject(): object {
  const store = contextStorage.getStore();
  if (store !== undefined) return store.runtime;
  if (defaultRuntime === undefined) {
    if (defaultFactory === undefined) throw new Error('zokio: runtime module not loaded');
    defaultRuntime = defaultFactory();
  }
  return defaultRuntime;
}

/** @internal Forgets the default runtime once it has shut down, so the next use builds a new one. */
export function clearDefaultRuntime(runtime: object): void {
  if (defaultRuntime === runtime) defaultRuntime = undefined;
}
