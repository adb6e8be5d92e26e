/**
 * Zokio: an async runtime for Node.js.
 *
 * @module zokio
 */
export { Runtime } from './runtime/entry.js';
export {
  createRuntime,
  type RuntimeBase,
  type ParallelMembers,
  type RunContext,
  type ShutdownOptions,
  type MapOptions,
  type BlockOnOptions,
  type SpawnBlockingOptions,
  type ExecOptions,
  type RuntimeMetrics,
  type HasWorkers,
  type HasRemote,
  type RemoteMembers,
  type FlavorOf,
} from './runtime/runtime.js';
export { RuntimeBuilder } from './runtime/builder.js';
export {
  RULES,
  DEFAULTS,
  type RuntimeConfig,
  type ResolvedConfig,
  type Strategy,
  type IoBackendName,
  type MemoryStrategy,
  type TracingExporterName,
  type TimerConfig,
  type MemoryConfig,
  type TracingConfig,
  type WorkerResourceLimits,
  type HttpClientConfig,
} from './runtime/config.js';
export { type RuntimeReport } from './runtime/report.js';
export { type PlatformCapabilities } from './runtime/platform.js';
export {
  ZokioError,
  ConfigError,
  NestedRuntimeError,
  ChannelClosedError,
  WorkerCrashedError,
  TaskAbortedError,
  TaskArgumentError,
  TaskNotFoundError,
  TimeoutError,
  RuntimeClosedError,
  ClosedError,
  PoolError,
  NotImplementedError,
  QueueFullError,
  FrameTooLargeError,
  FrameDecodeError,
  UnexpectedEofError,
  SocketPathTooLongError,
  OutputTooLargeError,
  RemoteTaskError,
  RemoteUnavailableError,
  type ZokioErrorCode,
} from './errors.js';
export { isTask, type Task, type TaskHandle, type TaskContext, type TaskState, type SpawnOptions, type TaskBody } from './scheduler/task.js';
export { type Scope, type ScopeOptions } from './scheduler/scope.js';
export { type LocalTaskMetrics } from './scheduler/local-executor.js';
export { spawn, yieldNow, joinAll, allSettled, race, currentRuntime } from './scheduler/combinators.js';
export { JoinSet, type JoinResult, type JoinOptions } from './scheduler/join-set.js';
export {
  sleep,
  timeout,
  deadline,
  now,
  type SleepOptions,
  type TimeoutOptions,
  type TimeoutContext,
  type TimedWork,
  type TimerMetrics,
} from './scheduler/time.js';
export { Sleep, sleepUntil, sleepFor } from './scheduler/sleep-handle.js';
export { interval, intervalAt, Interval, type IntervalOptions, type MissedTickBehavior } from './scheduler/interval.js';
export { TimerWheel, type TimerWheelOptions, type TimerCallback } from './scheduler/timer-wheel.js';
export { SystemClock, type Clock, type Alarm } from './scheduler/clock.js';
export { type TaskRef, type TaskArgs, type TaskResult } from './scheduler/task-ref.js';
export {
  channel,
  unboundedChannel,
  Sender,
  UnboundedSender,
  Receiver,
  SendPermit,
  oneshot,
  OneshotSender,
  OneshotReceiver,
  broadcast,
  BroadcastSender,
  BroadcastReceiver,
  watch,
  WatchSender,
  WatchReceiver,
  Semaphore,
  Mutex,
  RwLock,
  RwLockReadGuard,
  RwLockWriteGuard,
  Notify,
  Barrier,
  select,
  after,
  SharedSemaphore,
  SharedMutex,
  SharedChannel,
  type ChannelWaitOptions,
  type TrySendResult,
  type TryRecvResult,
  type OneshotRecvOptions,
  type BroadcastResult,
  type BroadcastTryResult,
  type BroadcastWaitOptions,
  type WatchWaitOptions,
  type Permit,
  type AcquireOptions,
  type MutexGuard,
  type LockOptions,
  type RwLockOptions,
  type RwLockConfig,
  type NotifiedOptions,
  type BarrierWaitResult,
  type BarrierWaitOptions,
  type SelectBranch,
  type SelectBranchValue,
  type SelectResult,
  type SelectOptions,
  type TimeoutBranch,
  type Selectable,
  type SharedSemaphoreHandle,
  type SharedAcquireOptions,
  type SharedMutexGuard,
  type SharedMutexHandle,
  type SharedLockOptions,
  type SharedChannelHandle,
  type SharedChannelMode,
  type SharedChannelOptions,
  type SharedChannelWaitOptions,
} from './sync/index.js';
export { defineTasks, type Cloneable, type IsCloneable, type CheckTask, type TaskFunction, type TaskRefs, type DefineTasksOptions, type SendableArgs } from './scheduler/task-registry.js';
export { join, exec, type JoinSide, type NestedExecOptions } from './scheduler/pool/join.js';
export { move } from './scheduler/pool/move.js';
export { currentTaskSignal, currentWorkerTaskContext, type TaskTraceContext } from './scheduler/pool/worker-context.js';
export { type PoolMetrics, type PoolWorkerMetrics } from './scheduler/pool/worker-pool.js';
export { type PoolTiming, type DurationStats } from './scheduler/pool/timing.js';
export { span, currentSpan, injectTraceparent, extractTraceparent, type Span, type SpanOptions } from './trace/index.js';
export { type SignalHandler, type OnSignalOptions, type SignalSubscription } from './io/signals.js';
export { type BlockingMetrics } from './scheduler/blocking/index.js';
