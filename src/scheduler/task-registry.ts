/**
 * Worker task modules: `defineTasks` registers functions under their module URL, and
 * returns typed references to them. Worker threads import the module by URL and look the
 * function up here by name; nothing else can run on a worker (no code strings, no eval).
 *
 * The `Cloneable` check is the TypeScript counterpart of a compile-time Send check: a
 * task whose parameters or result are not structured-cloneable does not compile, and the
 * message names the task and the argument.
 */
import { TaskNotFoundError } from '../errors.js';
import type { TaskRef } from './task-ref.js';

type Primitive = string | number | boolean | null | undefined | bigint;
type CloneableLeaf = Primitive | Date | RegExp | ArrayBuffer | SharedArrayBuffer | ArrayBufferView | Error;

/** True when `T` survives `structuredClone` with its meaning (no functions, symbols, methods). */
export type IsCloneable<T, Depth extends unknown[] = []> = Depth['length'] extends 8
  ? true
  : [T] extends [never]
    ? true
    : T extends CloneableLeaf
      ? true
      : T extends symbol | ((...args: never[]) => unknown)
        ? false
        : T extends Map<infer K, infer V>
          ? IsCloneable<K, [...Depth, 1]> extends true ? IsCloneable<V, [...Depth, 1]> : false
          : T extends Set<infer V>
            ? IsCloneable<V, [...Depth, 1]>
            : T extends readonly unknown[]
              ? false extends { [I in keyof T]: IsCloneable<T[I], [...Depth, 1]> }[number] ? false : true
              : T extends object
                ? false extends { [K in keyof T]-?: IsCloneable<T[K], [...Depth, 1]> }[keyof T] ? false : true
                : false;

/** A structured-cloneable value: what can travel to a worker task and back. */
export type Cloneable =
  | CloneableLeaf
  | readonly Cloneable[]
  | ReadonlyMap<Cloneable, Cloneable>
  | ReadonlySet<Cloneable>
  | { readonly [key: string]: Cloneable };

/** Any function that can be registered as a task. */
export type TaskFunction = (...args: never[]) => unknown;

type FirstBadArgument<A extends readonly unknown[], I extends unknown[] = []> = A extends readonly [infer H, ...infer Rest]
  ? IsCloneable<H> extends true ? FirstBadArgument<Rest, [...I, 1]> : [...I, 1]['length']
  : 0;

/** The function itself when its arguments and result are cloneable; otherwise a message naming the problem. */
export type CheckTask<Name extends string, F> = F extends (...args: infer A) => infer R
  ? FirstBadArgument<A> extends 0
    ? IsCloneable<Awaited<R>> extends true
      ? F
      : `task '${Name}': its result is not structured-cloneable (no functions, symbols or class instances with methods)`
    : `task '${Name}': argument ${FirstBadArgument<A> & number} is not structured-cloneable (no functions, symbols or class instances with methods)`
  : `task '${Name}' must be a function`;

/**
 * Maps each task to `unknown` (no constraint) when sendable, or to a message naming the
 * problem, so that `M & CheckTasks<M>` rejects exactly the bad tasks and quotes why.
 */
export type CheckTasks<M> = { readonly [K in keyof M]: CheckTask<K & string, M[K]> extends M[K] ? unknown : CheckTask<K & string, M[K]> };

type Ordinal<I> = I extends keyof Ordinals ? Ordinals[I] : `${I & string} (from 0)`;
interface Ordinals {
  '0': '1'; '1': '2'; '2': '3'; '3': '4'; '4': '5'; '5': '6'; '6': '7'; '7': '8';
  '8': '9'; '9': '10'; '10': '11'; '11': '12'; '12': '13'; '13': '14'; '14': '15'; '15': '16';
}
type MarkUnsendable<P extends readonly unknown[]> = {
  [I in keyof P]: IsCloneable<P[I]> extends true
    ? P[I]
    : `argument ${Ordinal<I>} cannot be sent to a worker: it is not structured-cloneable (no functions, symbols or class instances with methods)`;
};
type AllCloneable<P extends readonly unknown[]> = false extends { [I in keyof P]: IsCloneable<P[I]> }[number] ? false : true;

/**
 * The parameter type `exec` checks its arguments against: `A` (the task's parameters)
 * when `P` (the arguments as written) does not fit it, so the compiler reports the usual
 * mismatch; otherwise `P` itself, with every argument that cannot cross to a worker (a
 * closure, a class instance with methods) replaced by a message naming its position.
 */
export type SendableArgs<P extends readonly unknown[], A extends readonly unknown[]> = P extends A ? (AllCloneable<P> extends true ? P : MarkUnsendable<P>) : A;

/** Typed references to every task of a module. */
export type TaskRefs<M> = { readonly [K in keyof M]: M[K] extends (...args: infer A) => infer R ? TaskRef<A, R> : never };

// One registry per thread, shared by every copy of this module: the bundled worker entry
// (dist/worker-entry.js) and the bundled library a task module imports (dist/index.js)
// each carry their own copy of this file, and both must see the same registrations.
// Created by the first defineTasks or lookup, not when this module is imported.
const REGISTRY_KEY = Symbol.for('zokio.taskRegistry');
function tables(): Map<string, Map<string, TaskFunction>> {
  return ((globalThis as Record<symbol, unknown>)[REGISTRY_KEY] ??= new Map()) as Map<string, Map<string, TaskFunction>>;
}

/** Options of {@link defineTasks}. */
export interface DefineTasksOptions {
  /**
   * A stable name for the module, the same on every machine (a file URL is not), that
   * `rt.remote.exec` puts in the job so `serveTasks` can find the task: 1..128 characters
   * of `A-Z a-z 0-9 _ . -`. Needed only for tasks that run remotely.
   */
  readonly id?: string;
}

/**
 * Registers the functions of a task module and returns a typed reference to each.
 *
 * Call it at the top level of a module that every worker can import, passing
 * `import.meta.url`. Only functions registered this way can run on workers.
 *
 * @example
 * ```ts
 * import { defineTasks } from 'zokio';
 * export const tasks = defineTasks(import.meta.url, {
 *   add(a: number, b: number): number {
 *     return a + b;
 *   },
 * });
 * // await rt.exec(tasks.add, 1, 2) → 3
 * ```
 *
 * Tasks that also run on other machines (`zokio/distributed`) carry a stable id:
 * `defineTasks(import.meta.url, { ... }, { id: 'billing' })`.
 */
// `M` has no constraint on purpose: object-literal methods are context-sensitive (their
// `this` is contextual), and a constrained `M` then falls back to its constraint instead
// of the literal's type. The check rides along under NoInfer.
export function defineTasks<const M>(moduleUrl: string, functions: M & NoInfer<CheckTasks<M>>, options?: DefineTasksOptions): TaskRefs<M> {
  const id = options?.id;
  if (id !== undefined && (typeof id !== 'string' || !/^[A-Za-z0-9_.-]{1,128}$/.test(id))) {
    throw new TypeError(`defineTasks: id must be 1..128 characters of A-Z a-z 0-9 _ . - (received ${JSON.stringify(id)})`);
  }
  const registry = tables();
  let table = registry.get(moduleUrl);
  if (table === undefined) {
    table = new Map();
    registry.set(moduleUrl, table);
  }
  const refs: Record<string, TaskRef> = {};
  for (const [name, fn] of Object.entries(functions as Record<string, unknown>)) {
    if (typeof fn !== 'function') throw new TypeError(`defineTasks: '${name}' in ${moduleUrl} is not a function`);
    table.set(name, fn as TaskFunction);
    refs[name] = Object.freeze(id === undefined ? { module: moduleUrl, name } : { module: moduleUrl, name, id });
  }
  return Object.freeze(refs) as TaskRefs<M>;
}

/** @internal The registered function, or undefined. */
export function lookupTask(moduleUrl: string, name: string): TaskFunction | undefined {
  return tables().get(moduleUrl)?.get(name);
}

const loading = new Map<string, Promise<void>>();

/**
 * @internal Imports a task module (once) and returns the named function.
 * @throws TaskNotFoundError naming the module and the task.
 */
export async function loadTask(moduleUrl: string, name: string): Promise<TaskFunction> {
  let fn = lookupTask(moduleUrl, name);
  if (fn !== undefined) return fn;
  let pending = loading.get(moduleUrl);
  if (pending === undefined) {
    pending = import(moduleUrl).then(
      () => undefined,
      (err: unknown) => {
        loading.delete(moduleUrl);
        throw new TaskNotFoundError(`cannot load task module ${moduleUrl} (looking for task '${name}'): ${err instanceof Error ? err.message : String(err)}`);
      },
    );
    loading.set(moduleUrl, pending);
  }
  await pending;
  fn = lookupTask(moduleUrl, name);
  if (fn === undefined) {
    const known = [...(tables().get(moduleUrl)?.keys() ?? [])];
    throw new TaskNotFoundError(`task '${name}' is not registered by module ${moduleUrl} (it registers: ${known.length > 0 ? known.join(', ') : 'nothing'})`);
  }
  return fn;
}

/** @internal Synchronous lookup for code that cannot await (join inside a worker); throws the same errors. */
export function requireTask(moduleUrl: string, name: string): TaskFunction {
  const fn = lookupTask(moduleUrl, name);
  if (fn === undefined) {
    const table = tables().get(moduleUrl);
    if (table === undefined) throw new TaskNotFoundError(`task module ${moduleUrl} is not loaded in this thread (looking for task '${name}')`);
    throw new TaskNotFoundError(`task '${name}' is not registered by module ${moduleUrl} (it registers: ${[...table.keys()].join(', ') || 'nothing'})`);
  }
  return fn;
}

/**
 * @internal `execArgv` for worker threads: when this process runs TypeScript through tsx,
 * workers need the same loader to import `.ts` task modules.
 */
export function workerExecArgv(): string[] {
  const args = keepForWorkers(process.execArgv);
  const usesTsx = args.some((a) => a.includes('tsx')) || import.meta.url.endsWith('.ts');
  return usesTsx && !args.some((a) => a.includes('tsx')) ? [...args, '--import', 'tsx'] : args;
}

/** Flags (with a separate value) that a worker accepts and needs to load the same code. */
const WITH_VALUE = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader', '--conditions', '-C']);

/**
 * Keeps the loader-related flags of this process; drops those `new Worker` rejects
 * (`--expose-gc`, `--max-old-space-size`, `--inspect`, ... are per-process or V8 flags).
 */
function keepForWorkers(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.split('=')[0]!;
    if (WITH_VALUE.has(name)) {
      out.push(a);
      if (!a.includes('=') && i + 1 < argv.length) out.push(argv[++i]!);
    } else if (name.startsWith('--experimental-') || name === '--enable-source-maps' || name === '--no-warnings') {
      out.push(a);
    }
  }
  return out;
}
