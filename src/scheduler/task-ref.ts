/**
 * Typed references to functions registered with `defineTasks`, the only functions that
 * can run on worker threads.
 */

/** A reference to a registered worker task taking `Args` and returning `Result`. */
export interface TaskRef<Args extends readonly unknown[] = readonly unknown[], Result = unknown> {
  /** URL of the module that registered the task. */
  readonly module: string;
  /** Name of the task inside its module. */
  readonly name: string;
  /** Stable id of the module (`defineTasks(url, fns, { id })`), for tasks run on other machines. */
  readonly id?: string;
  /** @internal Phantom field carrying the signature; never set at run time. */
  readonly __signature?: (...args: Args) => Result;
}

/** The argument list of a task reference. */
export type TaskArgs<T> = T extends TaskRef<infer A, unknown> ? A : never;
/** The (awaited) result of a task reference. */
export type TaskResult<T> = T extends TaskRef<readonly unknown[], infer R> ? Awaited<R> : never;

/** @internal True for a task reference (an object with a string `module` and `name`). */
export function isTaskRef(value: unknown): value is TaskRef {
  return typeof value === 'object' && value !== null && typeof (value as TaskRef).module === 'string' && typeof (value as TaskRef).name === 'string';
}
