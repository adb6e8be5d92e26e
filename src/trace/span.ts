/**
 * Spans: timed, named units of work with attributes, events and a status, linked into a
 * trace by their parent.
 *
 * Implementation note. The current span lives in the runtime's AsyncLocalStorage store
 * (`store.span`). `span()` enters a *copy* of the current store with the new span in it
 * and runs `fn` there, so everything `fn` starts, including tasks it spawns (a task runs in
 * the store it was spawned in), sees the span as its parent. Code that runs outside any
 * runtime store (worker threads, plain scripts) uses a second, span-only storage.
 *
 * With tracing off, `span()` reads one module counter (live tracers in this thread, 0) and
 * calls `fn`; the counter is read first so that the off path never touches `globalThis`.
 * Every branch that reaches the tracer is also guarded by `globalThis.__ZOKIO_TRACE__ !== false`, so
 * an esbuild build with `define: { 'globalThis.__ZOKIO_TRACE__': 'false' }` removes it.
 *
 * Times: `performance.timeOrigin + performance.now()`, a monotonic clock anchored to the
 * wall clock of the thread's start, in epoch milliseconds with a fraction.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { isMainThread, threadId } from 'node:worker_threads';
import { contextStorage, type ContextStore } from '../runtime/context.js';

/** Where a span sits in a request flow (OpenTelemetry span kinds). */
export type SpanKind = 'internal' | 'server' | 'client' | 'producer' | 'consumer';

/** A value an attribute can hold. */
export type AttributeValue = string | number | boolean | readonly string[] | readonly number[] | readonly boolean[];

/** Key/value pairs describing a span or an event. */
export type Attributes = Record<string, AttributeValue>;

/** Whether a span succeeded: `unset` until someone says, `error` after an exception. */
export type SpanStatusCode = 'unset' | 'ok' | 'error';

/** The status of a span. */
export interface SpanStatus {
  /** `unset`, `ok` or `error`. */
  readonly code: SpanStatusCode;
  /** Why, usually the error's message; from `setStatus(code, message)` or `recordException`. */
  readonly message?: string;
}

/** Something that happened at a point in a span's life. */
export interface SpanEvent {
  /** What happened, e.g. `cache miss` or `exception`. */
  readonly name: string;
  /** Epoch milliseconds, with a fraction. */
  readonly time: number;
  /** Details of the event, if any. */
  readonly attributes?: Attributes;
}

/** The identity of a span as it travels between threads and processes. */
export interface SpanContext {
  /** 32 lowercase hex digits. */
  readonly traceId: string;
  /** 16 lowercase hex digits. */
  readonly spanId: string;
  /** Whether the trace is recorded (the W3C `sampled` flag). */
  readonly sampled: boolean;
  /** True for a context that came from another thread or process. */
  readonly remote?: boolean;
}

/**
 * A finished span as exporters receive it: plain data that survives `structuredClone`.
 */
export interface SpanData {
  /** The trace this span belongs to: 32 lowercase hex digits. */
  readonly traceId: string;
  /** This span's id: 16 lowercase hex digits. */
  readonly spanId: string;
  /** The parent's span id, or undefined for a root span. */
  readonly parentSpanId: string | undefined;
  /** The name given to `span()`. */
  readonly name: string;
  /** Where the span sits in a request flow. */
  readonly kind: SpanKind;
  /** Epoch milliseconds (monotonic clock anchored to wall time), with a fraction. */
  readonly startTime: number;
  /** Epoch milliseconds, with a fraction; `startTime` plus the measured duration. */
  readonly endTime: number;
  /** Attributes set while the span ran. */
  readonly attributes: Attributes;
  /** Events recorded while the span ran, in the order they happened. */
  readonly events: readonly SpanEvent[];
  /** The final status (`unset` unless someone set it or `fn` threw). */
  readonly status: SpanStatus;
  /** `worker_threads.threadId` of the thread that ran the span (0 on the main thread). */
  readonly threadId: number;
  /** `main`, or the name the worker pool gave the thread. */
  readonly threadName: string;
}

/**
 * A span that is running: read its ids, add attributes and events, set its status.
 *
 * @example
 * ```ts
 * import { span } from 'zokio/trace';
 * await span('load user', async (s) => {
 *   s.setAttribute('user.id', 42);
 *   s.addEvent('cache miss');
 * });
 * ```
 */
export interface Span extends SpanContext {
  /** The name given to `span()`. */
  readonly name: string;
  /** Where the span sits in a request flow (`SpanOptions.kind`). */
  readonly kind: SpanKind;
  /** The parent's span id, or undefined for a root span. */
  readonly parentSpanId: string | undefined;
  /** False for spans that are not sampled (and for every span with tracing off): calls on it do nothing. */
  readonly isRecording: boolean;
  /** Sets one attribute. */
  setAttribute(key: string, value: AttributeValue): this;
  /** Sets several attributes. */
  setAttributes(attributes: Attributes): this;
  /** Records an event at the current time. */
  addEvent(name: string, attributes?: Attributes): this;
  /** Sets the status; `span()` sets `error` by itself when `fn` throws. */
  setStatus(code: SpanStatusCode, message?: string): this;
  /** Records an exception as an `exception` event (OpenTelemetry semantic conventions). */
  recordException(error: unknown): this;
}

/** Options for {@link span}. */
export interface SpanOptions {
  /** Attributes set when the span starts. */
  readonly attributes?: Attributes;
  /**
   * The span kind.
   * @default 'internal'
   */
  readonly kind?: SpanKind;
}

/** @internal What creates spans: the tracer of a runtime, or a worker's sink. */
export interface SpanFactory {
  start(name: string, parent: SpanBase | undefined, options: SpanOptions | undefined): SpanBase;
  onEnd(span: RecordingSpan): void;
}

const ORIGIN = performance.timeOrigin;
/** @internal Epoch milliseconds from the monotonic clock. */
export function nowMs(): number {
  return ORIGIN + performance.now();
}

let threadName = isMainThread ? 'main' : `worker ${threadId}`;

/** @internal Names this thread in exported spans (the worker pool calls it, e.g. `worker 1`). */
export function setTraceThreadName(name: string): void {
  threadName = name;
}

const NO_EVENTS: readonly SpanEvent[] = /* @__PURE__ */ Object.freeze([]);
const UNSET: SpanStatus = /* @__PURE__ */ Object.freeze({ code: 'unset' });

/** @internal Common base of recording and non-recording spans. */
export abstract class SpanBase implements Span {
  abstract readonly isRecording: boolean;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly kind: SpanKind;
  readonly sampled: boolean;
  readonly remote: boolean;
  /** @internal The factory children of this span are created by (undefined: tracing off). */
  readonly tracer: SpanFactory | undefined;

  constructor(tracer: SpanFactory | undefined, traceId: string, spanId: string, parentSpanId: string | undefined, name: string, kind: SpanKind, sampled: boolean, remote: boolean) {
    this.tracer = tracer;
    this.traceId = traceId;
    this.spanId = spanId;
    this.parentSpanId = parentSpanId;
    this.name = name;
    this.kind = kind;
    this.sampled = sampled;
    this.remote = remote;
  }

  setAttribute(_key: string, _value: AttributeValue): this {
    return this;
  }
  setAttributes(_attributes: Attributes): this {
    return this;
  }
  addEvent(_name: string, _attributes?: Attributes): this {
    return this;
  }
  setStatus(_code: SpanStatusCode, _message?: string): this {
    return this;
  }
  recordException(_error: unknown): this {
    return this;
  }
  /** @internal Ends the span (no-op unless recording). */
  end(): void {}
  /** @internal Marks the span failed with `error` and records it. */
  fail(error: unknown): void {
    this.recordException(error);
    this.setStatus('error', error instanceof Error ? error.message : String(error));
  }
  /** The ids only, for logs: `JSON.stringify(span)` never walks the tracer. */
  toJSON(): object {
    return { traceId: this.traceId, spanId: this.spanId, parentSpanId: this.parentSpanId, name: this.name, sampled: this.sampled };
  }
}

/** @internal A span that is not recorded: an unsampled span, a remote parent, or the no-op span. */
export class NonRecordingSpan extends SpanBase {
  readonly isRecording = false;
}

/** @internal A span that records its timing, attributes, events and status. */
export class RecordingSpan extends SpanBase implements SpanData {
  readonly isRecording = true;
  readonly startTime: number;
  endTime = 0;
  attributes: Attributes;
  events: readonly SpanEvent[] = NO_EVENTS;
  status: SpanStatus = UNSET;
  readonly threadId = threadId;
  readonly threadName = threadName;
  /** True when the parent came from another thread or process (the local root). */
  readonly parentIsRemote: boolean;
  #ended = false;

  constructor(tracer: SpanFactory, traceId: string, spanId: string, parent: SpanBase | undefined, name: string, options: SpanOptions | undefined) {
    super(tracer, traceId, spanId, parent?.spanId, name, options?.kind ?? 'internal', true, false);
    this.parentIsRemote = parent !== undefined && parent.remote;
    this.attributes = options?.attributes !== undefined ? { ...options.attributes } : {};
    this.startTime = nowMs();
  }

  override setAttribute(key: string, value: AttributeValue): this {
    if (!this.#ended) this.attributes[key] = value;
    return this;
  }
  override setAttributes(attributes: Attributes): this {
    if (!this.#ended) Object.assign(this.attributes, attributes);
    return this;
  }
  override addEvent(name: string, attributes?: Attributes): this {
    if (this.#ended) return this;
    const event: SpanEvent = attributes === undefined ? { name, time: nowMs() } : { name, time: nowMs(), attributes: { ...attributes } };
    this.events = this.events === NO_EVENTS ? [event] : [...this.events, event];
    return this;
  }
  override setStatus(code: SpanStatusCode, message?: string): this {
    if (!this.#ended) this.status = message === undefined ? { code } : { code, message };
    return this;
  }
  override recordException(error: unknown): this {
    const attributes: Attributes =
      error instanceof Error
        ? { 'exception.type': error.name, 'exception.message': error.message, 'exception.stacktrace': error.stack ?? '' }
        : { 'exception.type': typeof error, 'exception.message': String(error) };
    return this.addEvent('exception', attributes);
  }
  override end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.endTime = nowMs();
    this.tracer!.onEnd(this);
  }
  /** @internal The plain data of this span (what crosses a thread boundary). */
  toData(): SpanData {
    return {
      traceId: this.traceId,
      spanId: this.spanId,
      parentSpanId: this.parentSpanId,
      name: this.name,
      kind: this.kind,
      startTime: this.startTime,
      endTime: this.endTime,
      attributes: this.attributes,
      events: this.events,
      status: this.status,
      threadId: this.threadId,
      threadName: this.threadName,
    };
  }
  override toJSON(): object {
    return this.toData();
  }
}

/** The span every `span()` call passes to `fn` while tracing is off. */
const NOOP_SPAN: Span = new NonRecordingSpan(undefined, '0'.repeat(32), '0'.repeat(16), undefined, 'noop', 'internal', false, false);

// ---------------------------------------------------------------------------------------
// Which tracer serves which code.
// ---------------------------------------------------------------------------------------

/** Number of live tracers in this thread; 0 means `span()` calls `fn` directly. */
let activeTracers = 0;
const runtimeTracers = /* @__PURE__ */ new WeakMap<object, SpanFactory>();
/**
 * Spans of code that runs outside any runtime store (worker threads, plain scripts).
 * @internal Exported for the bench runner only (see bench/harness.ts `dropContextHooks`).
 */
export const detachedStorage = /* @__PURE__ */ new AsyncLocalStorage<SpanBase>();
let remoteAccessor: (() => SpanBase | undefined) | undefined;

/** @internal Counts a tracer in (+1) or out (-1) of this thread. */
export function countTracer(delta: 1 | -1): void {
  activeTracers += delta;
}

/** @internal True when some tracer is live in this thread. */
export function tracingActive(): boolean {
  return activeTracers !== 0;
}

/** @internal Makes `tracer` serve spans started in `runtime`'s stores (undefined: none). */
export function setRuntimeTracer(runtime: object, tracer: SpanFactory | undefined): void {
  if (tracer === undefined) runtimeTracers.delete(runtime);
  else runtimeTracers.set(runtime, tracer);
}

/** @internal The tracer serving `runtime`, if tracing is on there. */
export function runtimeTracer(runtime: object): SpanFactory | undefined {
  return runtimeTracers.get(runtime);
}

/** @internal Where spans outside any store find their parent when none is current (set by worker propagation). */
export function setRemoteParentAccessor(accessor: (() => SpanBase | undefined) | undefined): void {
  remoteAccessor = accessor;
}

/** @internal The current span object (store span, detached span, or remote parent). */
export function currentSpanBase(): SpanBase | undefined {
  const store = contextStorage.getStore();
  if (store !== undefined) return store.span as SpanBase | undefined;
  return detachedStorage.getStore() ?? remoteAccessor?.();
}

/** @internal True when a detached span (one outside any runtime store) is current. */
export function detachedSpanOpen(): boolean {
  return detachedStorage.getStore() !== undefined;
}

/** @internal Runs `fn` with no detached span current (the remote parent accessor applies again). */
export function runOutsideDetachedSpans<T>(fn: () => T): T {
  return detachedStorage.run(undefined as unknown as SpanBase, fn);
}

/** @internal Runs `fn` with `parent` as the current span (a copy of the store, or the detached storage). */
export function runWithSpan<A extends unknown[], T>(parent: SpanBase, fn: (...args: A) => T, ...args: A): T {
  const store = contextStorage.getStore();
  if (store !== undefined) return contextStorage.run({ ...store, span: parent } as ContextStore, fn, ...args);
  return detachedStorage.run(parent, fn, ...args);
}

function endOk<T>(this: SpanBase, value: T): T {
  this.end();
  return value;
}

function endFailed(this: SpanBase, error: unknown): never {
  this.fail(error);
  this.end();
  throw error;
}

function runInSpan<T>(s: SpanBase, fn: (span: Span) => T): T {
  let result: T;
  try {
    result = fn(s);
  } catch (error) {
    s.fail(error);
    s.end();
    throw error;
  }
  if (result instanceof Promise) return result.then(endOk.bind(s), endFailed.bind(s)) as T;
  if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
    return Promise.resolve(result).then(endOk.bind(s), endFailed.bind(s)) as T;
  }
  s.end();
  return result;
}

function tracedCall<T>(name: string, fn: (span: Span) => T, options: SpanOptions | undefined): T {
  const store = contextStorage.getStore();
  let parent: SpanBase | undefined;
  let tracer: SpanFactory | undefined;
  if (store !== undefined) {
    parent = store.span as SpanBase | undefined;
    tracer = parent !== undefined ? parent.tracer : runtimeTracers.get(store.runtime);
    if (tracer === undefined) return fn(NOOP_SPAN);
    return contextStorage.run({ ...store, span: tracer.start(name, parent, options) } as ContextStore, runStoreSpan, fn);
  }
  parent = detachedStorage.getStore() ?? remoteAccessor?.();
  tracer = parent?.tracer;
  if (tracer === undefined) return fn(NOOP_SPAN);
  const s = tracer.start(name, parent, options);
  return detachedStorage.run(s, runInSpan, s, fn) as T;
}

function runStoreSpan<T>(fn: (span: Span) => T): T {
  return runInSpan(contextStorage.getStore()!.span as SpanBase, fn);
}

/**
 * Runs `fn` inside a new span named `name`, child of the current span, and returns what
 * `fn` returns. When `fn` returns a promise, the span ends when it settles. When `fn`
 * throws or rejects, the span is marked `error`, the exception is recorded as an event,
 * and the same error is rethrown.
 *
 * Use it around any unit of work you want to see in a trace: a request, a query, a batch.
 * Tasks spawned and scopes opened inside `fn` are children of the span; so are worker
 * tasks that `rt.exec` starts, when the pool carries the trace context.
 *
 * With tracing off (no tracer in this runtime), `fn` is called directly with a
 * non-recording span; an esbuild build with `globalThis.__ZOKIO_TRACE__` defined as
 * `false` removes the tracer entirely.
 *
 * @example
 * ```ts
 * import { Runtime } from 'zokio';
 * import { span } from 'zokio/trace';
 * const rt = Runtime.builder().tracing({ exporter: 'console' }).build();
 * const total = await rt.run(() =>
 *   span('checkout', async (s) => {
 *     s.setAttribute('cart.items', 3);
 *     return 42;
 *   }, { attributes: { 'user.id': 7 } }),
 * );
 * await rt.shutdown(); // flushes the spans
 * ```
 *
 * *Cancellation*: `span` does not add any; an abort inside `fn` that makes it reject
 * ends the span with status `error`.
 */
export function span<T>(name: string, fn: (span: Span) => T, options?: SpanOptions): T {
  if (activeTracers !== 0 && (globalThis as { __ZOKIO_TRACE__?: boolean }).__ZOKIO_TRACE__ !== false) return tracedCall(name, fn, options);
  return fn(NOOP_SPAN);
}

/**
 * The span that is current here, or undefined (no span, or tracing off).
 *
 * Use it to annotate the enclosing span from code that did not create it.
 *
 * @example
 * ```ts
 * import { currentSpan } from 'zokio/trace';
 * currentSpan()?.addEvent('retry', { attempt: 2 });
 * ```
 */
export function currentSpan(): Span | undefined {
  if (activeTracers !== 0 && (globalThis as { __ZOKIO_TRACE__?: boolean }).__ZOKIO_TRACE__ !== false) return currentSpanBase();
  return undefined;
}
