/**
 * Transfers: `move(value, transferList)`, a task's result whose ArrayBuffers are moved
 * back to the caller instead of copied (as piscina's `Piscina.move`), and the plan an
 * `exec` call's arguments travel by when they are moved (`{ transfer }`) or, large binary
 * arguments, copied once and moved.
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

/** @internal How an `exec` call's arguments travel as a message (see `pool-core.ts`, `P_MSG`). */
export interface TransferPlan {
  /** The arguments to post. */
  readonly args: readonly unknown[];
  /** The ArrayBuffers moved with them. */
  readonly list: readonly ArrayBuffer[];
  /** The caller's own arguments when `args` holds private copies (a forced abort can run the task again); else undefined. */
  readonly rerunArgs: readonly unknown[] | undefined;
}

/** Top-level binary arguments at least this long are copied once and moved, not serialized. */
export const COPY_TRANSFER_MIN = 256 * 1024;

/**
 * For an argument list with a top-level ArrayBuffer or view over one of at least
 * {@link COPY_TRANSFER_MIN} bytes: the plan that sends private copies of those buffers by
 * transfer (one copy, where serializing costs several); otherwise undefined. The caller's
 * buffers are untouched.
 */
export function copyTransferPlan(args: readonly unknown[]): TransferPlan | undefined {
  let out: unknown[] | undefined;
  let list: ArrayBuffer[] | undefined;
  for (let i = 0; i < args.length; i++) {
    const v = args[i];
    if (typeof v !== 'object' || v === null) continue;
    let copy: unknown;
    if (v instanceof ArrayBuffer) {
      if (v.byteLength < COPY_TRANSFER_MIN) continue;
      copy = v.slice(0);
      (list ??= []).push(copy as ArrayBuffer);
    } else if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer && v.byteLength >= COPY_TRANSFER_MIN) {
      const buffer = v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength);
      const Ctor = v.constructor as new (b: ArrayBuffer, o: number, l: number) => ArrayBufferView;
      const length = v instanceof DataView ? v.byteLength : (v as unknown as { length: number }).length;
      // Node Buffers and other subclasses: rebuilt as their class over the copy.
      copy = new Ctor(buffer, 0, length);
      (list ??= []).push(buffer);
    } else continue;
    (out ??= args.slice())[i] = copy;
  }
  return out === undefined ? undefined : { args: out, list: list!, rerunArgs: args };
}
