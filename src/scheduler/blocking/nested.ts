/**
 * Knowing when a synchronous wait would block the runtime itself.
 *
 * Implementation note. `blockOn` sleeps the calling thread in `Atomics.wait`. That is fine
 * for plain synchronous code, and wrong anywhere the runtime is running: on the main thread
 * inside `rt.run` or a spawned task (the event loop that drives every other task would
 * stop), and on any Zokio worker thread (a stealing worker would stop stealing; a blocking
 * worker would wait on its own pool). The first case shows as a store in `contextStorage`;
 * the second as a mark that each Zokio worker entry sets on its `globalThis` under a
 * `Symbol.for` key, so worker entries need no import from here to set it.
 */
import { isMainThread } from 'node:worker_threads';
import { NestedRuntimeError } from '../../errors.js';
import { contextStorage } from '../../runtime/context.js';

/** The kinds of Zokio worker threads. */
export type ZokioThreadKind = 'stealing' | 'blocking';

/** The `globalThis` key a Zokio worker entry sets to its {@link ZokioThreadKind}. */
export const ZOKIO_THREAD_MARK: unique symbol = Symbol.for('zokio.worker-thread') as never;

/**
 * @internal Marks this thread as a Zokio worker thread; each worker entry calls it first.
 *
 * Equivalent to `globalThis[Symbol.for('zokio.worker-thread')] = kind`.
 */
export function markZokioThread(kind: ZokioThreadKind): void {
  (globalThis as Record<symbol, unknown>)[ZOKIO_THREAD_MARK] = kind;
}

/** @internal The kind of Zokio worker this thread is, or undefined (main thread, or a thread Zokio did not start). */
export function zokioThreadKind(): ZokioThreadKind | undefined {
  if (isMainThread) return undefined;
  const kind = (globalThis as Record<symbol, unknown>)[ZOKIO_THREAD_MARK];
  return kind === 'stealing' || kind === 'blocking' ? kind : undefined;
}

/**
 * @internal Throws {@link NestedRuntimeError} when the calling code runs inside a Zokio
 * runtime (a context store is present, or this is a Zokio worker thread).
 *
 * @param what How the caller was called, e.g. `rt.blockOn(tasks.fib)`.
 * @param instead The call to suggest, e.g. `await rt.spawnBlocking(tasks.fib, ...)`.
 */
export function assertNotNested(what: string, instead: string): void {
  const kind = zokioThreadKind();
  let where: string | undefined;
  if (kind === 'stealing') where = 'a worker task';
  else if (kind === 'blocking') where = 'a blocking task';
  else if (contextStorage.getStore() !== undefined) where = 'the runtime (rt.run, a spawned task or a scope)';
  if (where === undefined) return;
  throw new NestedRuntimeError(
    `${what} was called from inside ${where}: waiting synchronously there would stall the runtime that runs it. ` +
      `Use \`${instead}\` instead.`,
  );
}
