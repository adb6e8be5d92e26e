/**
 * Synchronization primitives: channels (mpsc, oneshot, broadcast, watch), Semaphore,
 * Mutex, RwLock, Notify, Barrier, select, and the cross-worker Shared* versions.
 *
 * @module zokio/sync
 */
export {
  channel,
  unboundedChannel,
  Sender,
  SendPermit,
  UnboundedSender,
  Receiver,
  type ChannelWaitOptions,
  type TrySendResult,
  type TryRecvResult,
} from './channel.js';
export { oneshot, OneshotSender, OneshotReceiver, type OneshotRecvOptions } from './oneshot.js';
export {
  broadcast,
  BroadcastSender,
  BroadcastReceiver,
  type BroadcastResult,
  type BroadcastTryResult,
  type BroadcastWaitOptions,
} from './broadcast.js';
export { watch, WatchSender, WatchReceiver, type WatchWaitOptions } from './watch.js';
export { Semaphore, type Permit, type AcquireOptions } from './semaphore.js';
export { Mutex, type MutexGuard, type LockOptions } from './mutex.js';
export { RwLock, RwLockReadGuard, RwLockWriteGuard, type RwLockOptions, type RwLockConfig } from './rwlock.js';
export { Notify, type NotifiedOptions } from './notify.js';
export { Barrier, type BarrierWaitResult, type BarrierWaitOptions } from './barrier.js';
export {
  select,
  after,
  type SelectBranch,
  type SelectBranchValue,
  type SelectResult,
  type SelectOptions,
  type TimeoutBranch,
} from './select.js';
export { type Selectable } from './internal/selectable.js';
export { SharedSemaphore, type SharedSemaphoreHandle, type SharedAcquireOptions } from './shared/shared-semaphore.js';
export { SharedMutex, type SharedMutexGuard, type SharedMutexHandle, type SharedLockOptions } from './shared/shared-mutex.js';
export {
  SharedChannel,
  type SharedChannelHandle,
  type SharedChannelMode,
  type SharedChannelOptions,
  type SharedChannelWaitOptions,
} from './shared/shared-channel.js';
