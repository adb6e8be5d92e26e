/**
 * Structured concurrency: a scope that its children cannot outlive.
 *
 * Implementation note. A scope owns an AbortController whose signal its children see as
 * their parent: the first failure (of the body or of any child) aborts it, which aborts
 * every child still alive. The scope resolves only after its body returned and every
 * child settled, then rethrows the first failure. The body and the children run in a
 * context store whose `signal` is the scope's, so a scope opened inside them nests: its
 * parent signal is this scope's.
 */
import { TaskAbortedError } from '../errors.js';
import type { ContextStore } from '../runtime/context.js';
import type { LocalExecutor } from './local-executor.js';
import { FAILED, type SpawnOptions, type Task, type TaskBody, type TaskOwner, type TaskRecord } from './task.js';

/**
 * The handle a scope body receives: spawn children into the scope and read its signal.
 *
 * @example
 * ```ts
 * import { Runtime } from 'zokio';
 * const rt = Runtime.builder().build();
 * const [a, b] = await rt.scope(async (s) => {
 *   const x = s.spawn(async () => 1);
 *   const y = s.spawn(async () => 2);
 *   return [await x, await y];
 * });
 * await rt.shutdown();
 * ```
 */
export interface Scope {
  /**
   * Spawns a child task that the scope waits for and aborts on failure.
   *
   * *Cancellation*: the child's `cx.signal` aborts when the scope fails or is aborted.
   */
  spawn<T>(body: TaskBody<T>, options?: SpawnOptions): Task<Awaited<T>>;
  /** Aborted when the scope fails, is aborted, or its parent is aborted. */
  readonly signal: AbortSignal;
  /** Aborts every child and makes the scope reject with `reason`. */
  abort(reason?: unknown): void;
}

/** Options for `rt.scope`. */
export interface ScopeOptions {
  /** Aborts the scope (and so every child) when this signal aborts. */
  readonly signal?: AbortSignal;
}

/** @internal */
export class ScopeImpl implements Scope, TaskOwner {
  readonly #executor: LocalExecutor;
  readonly #controller = new AbortController();
  readonly #children = new Set<TaskRecord>();
  /** The store the body and the children run in. */
  readonly store: ContextStore & { signal: AbortSignal };
  #failed = false;
  #failure: unknown = undefined;
  #wake: (() => void) | undefined = undefined;

  constructor(executor: LocalExecutor, runtime: object, span: object | undefined) {
    this.#executor = executor;
    this.store = { runtime, task: undefined, span, signal: this.#controller.signal };
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  spawn<T>(body: TaskBody<T>, options?: SpawnOptions): Task<Awaited<T>> {
    if (this.#controller.signal.aborted) {
      throw new TaskAbortedError('scope is aborted: cannot spawn new children', { cause: this.#controller.signal.reason });
    }
    const task = this.#executor.spawn(body as TaskBody<Awaited<T>>, options, this, this.store);
    this.#children.add((task as unknown as { _record: TaskRecord })._record);
    return task;
  }

  abort(reason?: unknown): void {
    this.#fail(reason === undefined ? new TaskAbortedError('scope aborted') : reason);
  }

  /** @internal */
  _taskSettled(record: TaskRecord): void {
    this.#children.delete(record);
    this.#executor._taskSettled(record);
    // A child that threw fails the scope; one aborted on purpose does not.
    if (record.state === FAILED) this.#fail(record.value);
    if (this.#children.size === 0 && this.#wake !== undefined) {
      const wake = this.#wake;
      this.#wake = undefined;
      wake();
    }
  }

  #fail(err: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#failure = err;
    this.#controller.abort(err);
    for (const child of this.#children) child.abort(err);
  }

  /** Runs the body, waits for every child, rethrows the first failure. */
  async run<T>(body: (scope: Scope) => T | PromiseLike<T>, parent: AbortSignal | undefined): Promise<T> {
    const onParentAbort = (): void => this.#fail(parent!.reason ?? new TaskAbortedError('parent aborted'));
    if (parent !== undefined) {
      if (parent.aborted) onParentAbort();
      else parent.addEventListener('abort', onParentAbort, { once: true });
    }
    let result: T | undefined;
    try {
      result = await body(this);
    } catch (err) {
      this.#fail(err);
    }
    while (this.#children.size > 0) {
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    parent?.removeEventListener('abort', onParentAbort);
    if (this.#failed) throw this.#failure;
    return result as T;
  }
}
