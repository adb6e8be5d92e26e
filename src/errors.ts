/**
 * Errors thrown by Zokio.
 *
 * Every error is a {@link ZokioError} with a stable `code`. Each instance also carries a
 * `Symbol.for('zokio.error')` brand, so `instanceof` keeps working for errors that were
 * rebuilt on the other side of a worker boundary (the same trick undici uses): the check
 * looks at the brand and the code, not at the prototype chain.
 *
 * @module
 */

const BRAND: unique symbol = Symbol.for('zokio.error') as never;

/** Every stable error code Zokio uses. */
export type ZokioErrorCode =
  | 'ZOKIO_ERR_CONFIG'
  | 'ZOKIO_ERR_NESTED_RUNTIME'
  | 'ZOKIO_ERR_CHANNEL_CLOSED'
  | 'ZOKIO_ERR_CHANNEL_FULL'
  | 'ZOKIO_ERR_WORKER_CRASHED'
  | 'ZOKIO_ERR_TASK_ABORTED'
  | 'ZOKIO_ERR_TASK_ARGUMENT'
  | 'ZOKIO_ERR_TASK_NOT_FOUND'
  | 'ZOKIO_ERR_TIMEOUT'
  | 'ZOKIO_ERR_RUNTIME_CLOSED'
  | 'ZOKIO_ERR_CLOSED'
  | 'ZOKIO_ERR_POOL'
  | 'ZOKIO_ERR_NOT_IMPLEMENTED'
  | 'ZOKIO_ERR_INVALID_ARGUMENT'
  | 'ZOKIO_ERR_HTTP'
  | 'ZOKIO_ERR_QUEUE_FULL'
  | 'ZOKIO_ERR_HTTP_CLIENT'
  | 'ZOKIO_ERR_TLS'
  | 'ZOKIO_ERR_FRAME_TOO_LARGE'
  | 'ZOKIO_ERR_FRAME_DECODE'
  | 'ZOKIO_ERR_UNEXPECTED_EOF'
  | 'ZOKIO_ERR_SOCKET_PATH_TOO_LONG'
  | 'ZOKIO_ERR_OUTPUT_TOO_LARGE'
  | 'ZOKIO_ERR_REMOTE'
  | 'ZOKIO_ERR_REMOTE_UNAVAILABLE';

/**
 * Base class of every error Zokio throws.
 *
 * Use `err instanceof ZokioError` or `err.code === 'ZOKIO_ERR_...'` to branch on it; both
 * hold for errors that crossed a worker boundary.
 *
 * @example
 * ```ts
 * import { ZokioError } from 'zokio';
 * try {
 *   throw new ZokioError('ZOKIO_ERR_TIMEOUT', 'too slow');
 * } catch (err) {
 *   if (err instanceof ZokioError) console.log(err.code);
 * }
 * ```
 */
export class ZokioError extends Error {
  /** The stable code of this error, e.g. `ZOKIO_ERR_CONFIG`. */
  readonly code: ZokioErrorCode;
  /**
   * The `Symbol.for('zokio.error')` brand, set on every instance; `instanceof` checks it so
   * that errors rebuilt on the other side of a worker boundary still match.
   */
  declare readonly [BRAND]: true;

  constructor(code: ZokioErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true, enumerable: false });
    Object.defineProperty(this, 'name', { value: new.target.name, enumerable: false, configurable: true, writable: true });
  }

  /** The code every instance of this class carries; `undefined` on the base class. */
  static readonly code: ZokioErrorCode | undefined = undefined;

  /**
   * `err instanceof SomeZokioError`: true for real instances, and for any object that
   * carries the Zokio brand and this class's `code` (any code for `ZokioError` itself), so
   * the check survives a worker boundary.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false;
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    if ((value as { [BRAND]?: unknown })[BRAND] !== true) return false;
    const code = (this as unknown as { code?: ZokioErrorCode }).code;
    return code === undefined || (value as { code?: unknown }).code === code;
  }
}

/**
 * A runtime configuration broke a rule. The message names the field and the rule, in the
 * same words the compiler uses for literal values.
 */
export class ConfigError extends ZokioError {
  static override readonly code = 'ZOKIO_ERR_CONFIG' as const;
  /** The config field that broke its rule, e.g. `workers` or `timer.resolutionMs`. */
  readonly field: string;
  constructor(field: string, rule: string, received: unknown) {
    super('ZOKIO_ERR_CONFIG', `invalid config: ${rule} (received ${describeValue(received)})`);
    this.field = field;
  }
}

/** A synchronous wait on the runtime was attempted from inside the runtime. */
export class NestedRuntimeError extends ZokioError {
  static override readonly code = 'ZOKIO_ERR_NESTED_RUNTIME' as const;
  constructor(message: string) {
    super('ZOKIO_ERR_NESTED_RUNTIME', message);
  }
}

/** The other side of a channel is gone, or the channel was closed. */
export class ChannelClosedError extends ZokioError {
  static override readonly code = 'ZOKIO_ERR_CHANNEL_CLOSED' as const;
  constructor(message = 'channel closed') {
    super('ZOKIO_ERR_CHANNEL_CLOSED', message);
  }
}

/** A worker thread died while running a task. */
export class WorkerCrashedError extends ZokioError {
  static override readonly code = 'ZOKIO_ERR_WORKER_CRASHED' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super('ZOKIO_ERR_WORKER_CRASHED', message, options);
  }
}

/** The task was aborted before it finished; `cause` holds the abort reason. */
export class TaskAbortedError extends ZokioError {
  static override readonly code = 'ZOKIO_ERR_TASK_ABORTED' as const;
  constructor(message = 'task aborted', options?: { cause?: unknown }) {
    super('ZOKIO_ERR_TASK_ABORTED', message, options);
  }
}

/** A worker task was given an argument that cannot be sent to another thread. */
export class TaskArgumentError extends ZokioError {
  static override readonly code = 'ZOKIO_ERR_TASK_ARGUMENT' as const;
  constructor(message: string) {
    super('ZOKIO_ERR_TASK_ARGUMENT', message);
  }
}

/**
 * The worker pool's queue holds `maxQueue` tasks and the call asked not to wait for room
 * (`rt.exec({ onFull: 'reject' }, ...)` or the builder's default).
 */
export class QueueFullError extends ZokioError {
  static override readonly code = 'ZOKIO_ERR_QUEUE_FULL' as const;
  constructor(message: string) {
    super('ZOKIO_ERR_QUEUE_FULL', message);
  }
}

/** A worker task module or task name could not be found. */
export class TaskNotFoundError extends ZokioError {
  static override readonly code = 'ZOKIO_ERR_TASK_NOT_FOUND' as const;
  constructor(message: string) {
    super('ZOKIO_ERR_TASK_NOT_FOUND', message);
  }
}

/** A deadline passed before the work finished. */
export class TimeoutError extends ZokioError {
  static override readonly code = 'ZOKIO_ERR_TIMEOUT' as const;
  constructor(message = 'timed out') {
    super('ZOKIO_ERR_TIMEOUT', message);
  }
}

/** The runtime is shutting down or shut down and takes no new work. */
export class RuntimeClosedError extends ZokioError {
  static override readonly code = 'ZOKIO_ERR_RUNTIME_CLOSED' as const;
  constructor(message = 'runtime is shut down') {
    super('ZOKIO_ERR_RUNTIME_CLOSED', message);
  }
}

/** A primitive (semaphore, pool, stream) was closed while the caller waited on it. */
export class ClosedError extends ZokioError {
  static override readonly code = 'ZOKIO_ERR_CLOSED' as const;
  constructor(message = 'closed') {
    super('ZOKIO_ERR_CLOSED', message);
  }
}

/** Misuse of an object pool: double release, or an object the pool never gave out. */
export class PoolError extends ZokioError {
  static override readonly code = 'ZOKIO_ERR_POOL' as const;
  constructor(message: string) {
    super('ZOKIO_ERR_POOL', message);
  }
}

/** A feature that is part of the API but not built yet. */
export class NotImplementedError extends ZokioError {
  static override readonly code = 'ZOKIO_ERR_NOT_IMPLEMENTED' as const;
  constructor(feature: string) {
    super('ZOKIO_ERR_NOT_IMPLEMENTED', `${feature} is not implemented yet`);
  }
}

/**
 * A frame (a length-prefixed message, a line) is longer than the codec's limit, or a length
 * prefix announces one. The stream it came from is closed: nothing past the prefix is read.
 */
export class FrameTooLargeError extends ZokioError {
  static override readonly code = 'ZOKIO_ERR_FRAME_TOO_LARGE' as const;
  /** The frame's size in bytes as announced or seen so far (a lower bound for a line). */
  readonly bytes: number;
  /** The codec's limit in bytes. */
  readonly maxBytes: number;
  constructor(bytes: number, maxBytes: number, what = 'frame') {
    super('ZOKIO_ERR_FRAME_TOO_LARGE', `${what} of ${bytes} bytes exceeds the limit of ${maxBytes} bytes`);
    this.bytes = bytes;
    this.maxBytes = maxBytes;
  }
}

/** A complete frame could not be decoded (a `jsonLines` line that is not JSON, a line that is not UTF-8). */
export class FrameDecodeError extends ZokioError {
  static override readonly code = 'ZOKIO_ERR_FRAME_DECODE' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super('ZOKIO_ERR_FRAME_DECODE', message, options);
  }
}

/**
 * The stream ended inside a unit that must be whole: `readExact(n)` got fewer than `n`
 * bytes, or a framed stream ended inside a frame.
 */
export class UnexpectedEofError extends ZokioError {
  static override readonly code = 'ZOKIO_ERR_UNEXPECTED_EOF' as const;
  /** Bytes of the unit that arrived before the end. */
  readonly received: number;
  /** Bytes the unit needed, when known. */
  readonly expected: number | undefined;
  constructor(received: number, expected: number | undefined, what = 'stream') {
    super('ZOKIO_ERR_UNEXPECTED_EOF', `${what} ended after ${received} of ${expected === undefined ? 'more' : expected} bytes`);
    this.received = received;
    this.expected = expected;
  }
}

/** A Unix socket path is longer than the OS allows in `sockaddr_un.sun_path` (checked before any syscall). */
export class SocketPathTooLongError extends ZokioError {
  static override readonly code = 'ZOKIO_ERR_SOCKET_PATH_TOO_LONG' as const;
  /** The path as given. */
  readonly path: string;
  /** Its length in bytes (UTF-8). */
  readonly bytes: number;
  /** The most bytes this platform allows. */
  readonly maxBytes: number;
  constructor(path: string, bytes: number, maxBytes: number) {
    super('ZOKIO_ERR_SOCKET_PATH_TOO_LONG', `Unix socket path is ${bytes} bytes, longer than the ${maxBytes} bytes ${process.platform} allows (use a shorter directory, e.g. under os.tmpdir()): ${path}`);
    this.path = path;
    this.bytes = bytes;
    this.maxBytes = maxBytes;
  }
}

/** `output()` collected more than `maxOutputBytes` from a child's stdout or stderr; the child was killed. */
export class OutputTooLargeError extends ZokioError {
  static override readonly code = 'ZOKIO_ERR_OUTPUT_TOO_LARGE' as const;
  constructor(stream: 'stdout' | 'stderr', maxBytes: number) {
    super('ZOKIO_ERR_OUTPUT_TOO_LARGE', `child process wrote more than ${maxBytes} bytes to ${stream} (maxOutputBytes)`);
  }
}

/**
 * A task run on another machine (`rt.remote.exec`) threw. `message` is the original
 * message; `remoteName`, `remoteCode` and `remoteStack` are the original name, `code` and
 * stack as the worker saw them.
 */
export class RemoteTaskError extends ZokioError {
  static override readonly code = 'ZOKIO_ERR_REMOTE' as const;
  /** `name` of the error the task threw, e.g. `RangeError`. */
  readonly remoteName: string;
  /** `code` of the error the task threw, when it had one. */
  readonly remoteCode: string | undefined;
  /** Stack of the error the task threw, on the worker machine. */
  readonly remoteStack: string | undefined;
  constructor(remote: { readonly name: string; readonly message: string; readonly code?: string; readonly stack?: string }) {
    super('ZOKIO_ERR_REMOTE', remote.message);
    this.remoteName = remote.name;
    this.remoteCode = remote.code;
    this.remoteStack = remote.stack;
    if (remote.stack !== undefined) this.stack = `${this.name}: ${remote.name}: ${remote.message}\n    [remote stack]\n${remote.stack.split('\n').slice(1).join('\n')}`;
  }
}

/** The distributed engine (Redis) cannot be reached, so the call was not submitted. */
export class RemoteUnavailableError extends ZokioError {
  static override readonly code = 'ZOKIO_ERR_REMOTE_UNAVAILABLE' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super('ZOKIO_ERR_REMOTE_UNAVAILABLE', message, options);
  }
}

/** The plain-data form of an error, for sending across a worker boundary. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly code?: string;
  readonly zokio: boolean;
  /** The built-in class it was an instance of (`TypeError`, `RangeError`, ...), if any. */
  readonly type?: BuiltinErrorName;
  /** `cause`: an error (as wire data, recursively) or any cloneable value. */
  readonly cause?: { readonly error: WireError } | { readonly value: unknown };
  /** Own enumerable properties that structured clone can copy (`status`, `details`, ...). */
  readonly props?: Readonly<Record<string, unknown>>;
}

/** The built-in error classes an error keeps across a worker boundary. */
export type BuiltinErrorName = 'Error' | 'TypeError' | 'RangeError' | 'SyntaxError' | 'ReferenceError' | 'EvalError' | 'URIError' | 'AggregateError';

const BUILTIN_ERRORS: Readonly<Record<BuiltinErrorName, ErrorConstructor>> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  AggregateError: AggregateError as unknown as ErrorConstructor,
};

/** How deep `cause` chains are kept; deeper causes are cut (a cycle would never end). */
const MAX_CAUSE_DEPTH = 8;

function builtinOf(err: Error): BuiltinErrorName | undefined {
  // The nearest built-in class on the prototype chain: a `class HttpError extends TypeError`
  // arrives as a TypeError named `HttpError`.
  for (let p: unknown = Object.getPrototypeOf(err); p !== null && p !== undefined; p = Object.getPrototypeOf(p)) {
    const ctor = (p as { constructor?: unknown }).constructor;
    if (typeof ctor === 'function' && Object.hasOwn(BUILTIN_ERRORS, ctor.name) && BUILTIN_ERRORS[ctor.name as BuiltinErrorName] === ctor) return ctor.name as BuiltinErrorName;
  }
  return undefined;
}

function cloneable(value: unknown): boolean {
  if (typeof value === 'function' || typeof value === 'symbol') return false;
  if (typeof value !== 'object' || value === null) return true;
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Turns any thrown value into plain data that structured clone keeps whole: name, message,
 * stack, code, the built-in class, `cause` (recursively, up to 8 levels) and the own
 * enumerable properties that can be cloned (others are left out).
 */
export function errorToWire(err: unknown, depth = 0): WireError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    let props: Record<string, unknown> | undefined;
    for (const key of Object.keys(err)) {
      if (key === 'code' || key === 'cause' || key === 'name' || key === 'message' || key === 'stack') continue;
      const v = (err as unknown as Record<string, unknown>)[key];
      if (!cloneable(v)) continue;
      (props ??= {})[key] = v;
    }
    let cause: WireError['cause'];
    if ('cause' in err && depth < MAX_CAUSE_DEPTH) {
      const c = err.cause;
      if (c instanceof Error) cause = { error: errorToWire(c, depth + 1) };
      else if (cloneable(c)) cause = { value: c };
      else cause = { value: String(c) };
    }
    return {
      name: err.name,
      message: err.message,
      stack: err.stack,
      code: typeof code === 'string' ? code : undefined,
      zokio: (err as { [BRAND]?: unknown })[BRAND] === true,
      type: builtinOf(err),
      cause,
      props,
    };
  }
  return { name: 'Error', message: String(err), zokio: false };
}

/**
 * Rebuilds an error from {@link errorToWire} output: a Zokio error keeps its code (and
 * `instanceof` its class), a built-in class stays that class, a custom class keeps its
 * name; `cause` and the copied properties come back too.
 */
export function errorFromWire(wire: WireError): Error {
  const Builtin = wire.type === undefined ? Error : BUILTIN_ERRORS[wire.type] ?? Error;
  const err: Error = wire.zokio && wire.code
    ? new ZokioError(wire.code as ZokioErrorCode, wire.message)
    : Builtin === (AggregateError as unknown) ? new AggregateError([], wire.message) : new Builtin(wire.message);
  Object.defineProperty(err, 'name', { value: wire.name, enumerable: false, configurable: true, writable: true });
  if (wire.stack !== undefined) err.stack = wire.stack;
  if (wire.code !== undefined && !wire.zokio) (err as { code?: string }).code = wire.code;
  if (wire.props !== undefined) {
    for (const key of Object.keys(wire.props)) {
      if (key === '__proto__') continue;
      (err as unknown as Record<string, unknown>)[key] = wire.props[key];
    }
  }
  if (wire.cause !== undefined) {
    const cause = 'error' in wire.cause ? errorFromWire(wire.cause.error) : wire.cause.value;
    Object.defineProperty(err, 'cause', { value: cause, enumerable: false, configurable: true, writable: true });
  }
  return err;
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
}
