/**
 * The hooks a receiver implements so that `select` can wait on it without taking a
 * message from a branch that does not win.
 *
 * `poll` takes a message only if one is ready now (synchronous, so `select` stops at the
 * first branch that has one). `register` parks a waiter whose `resolve` is called with a
 * message (the channel hands it over synchronously, then `select` cancels its other
 * waiters in the same turn, so no second channel can hand one over) and whose `reject` is
 * called when the channel closes.
 */
import type { Waiter, WaiterQueue } from './waiter-queue.js';

/** @internal Returned by `poll` when no message is ready. */
export const NOT_READY: unique symbol = Symbol('zokio.select.notReady');
/** @internal Returned by `poll` when the source is closed and drained. */
export const DRAINED: unique symbol = Symbol('zokio.select.drained');
/** @internal The key under which a receiver exposes its select hooks. */
export const SELECT_SOURCE: unique symbol = Symbol('zokio.select.source');

/** @internal What `select` needs from a receiver. */
export interface SelectSource<T> {
  poll(): T | typeof NOT_READY | typeof DRAINED;
  register(w: Waiter<T>): WaiterQueue;
}

/** A receiver that `select` can wait on (mpsc `Receiver`, `OneshotReceiver`). */
export interface Selectable<T> {
  /** @internal */
  readonly [SELECT_SOURCE]: SelectSource<T>;
}
