/**
 * The current-runtime context. One AsyncLocalStorage holds the store of whatever is
 * running: the runtime, the local task (if any) and the current span. Code started from
 * `rt.run(main)` or from a spawned task sees that store; free functions (`spawn`, `sleep`,
 * ...) read the runtime from it (`current.ts` adds the lazily built default runtime).
 * This module imports nothing of Zokio, so every part can use it.
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
