/**
 * `move(value, transferList)`: a task's result whose ArrayBuffers are moved back to the
 * caller instead of copied, as piscina's `Piscina.move`.
 *
 * @module
 */

const MOVED = Symbol.for('zokio.move');

/** @internal The marker `move` returns. */
export interface Moved {
  readonly [MOVED]: true;
  readonly value: unknown;
  readonly transfer: readonly ArrayBuffer[];
}

/**
 * Marks a task's result so that the ArrayBuffers in `transferList` move to the caller
 * (they are detached in the worker) instead of being copied.
 *
 * Use it for large binary results (image tiles, compressed blocks). It only has an effect
 * as the value a worker task returns to `rt.exec`/`rt.map`'s caller on the main thread;
 * anywhere else the value is copied as usual.
 *
 * @example
 * ```ts
 * import { defineTasks, move } from 'zokio';
 * export const tasks = defineTasks(import.meta.url, {
 *   tile(size: number): Uint8Array {
 *     const out = new Uint8Array(size);
 *     return move(out, [out.buffer]);
 *   },
 * });
 * ```
 *
 * *Cancellation*: none (a marker). *Ordering*: none.
 */
export function move<T>(value: T, transferList: readonly ArrayBuffer[]): T {
  return { [MOVED]: true, value, transfer: transferList } satisfies Moved as unknown as T;
}

/** @internal True for a {@link move} marker. */
export function isMoved(value: unknown): value is Moved {
  return typeof value === 'object' && value !== null && (value as { [MOVED]?: unknown })[MOVED] === true;
}
