/**
 * The `Runtime` value: the entry point `Runtime.builder()`. It shares its name with the
 * `Runtime<C>` type, as a class and its instance type would.
 */
import { RuntimeBuilder } from './builder.js';
import type { RuntimeConfig } from './config.js';
import type { Runtime as RuntimeOf } from './runtime.js';

/**
 * A Zokio runtime. Its members follow its config: `exec`, `map`, `spawnBlocking` and
 * `blockOn` exist only on runtimes built with `.workers(...)`.
 */
export type Runtime<C extends object = RuntimeConfig> = RuntimeOf<C>;

/**
 * Entry point of the typed config builder.
 *
 * @example
 * ```ts
 * import { Runtime } from 'zokio';
 * await using rt = Runtime.builder().workers(2).build();
 * console.log(rt.describe());
 * ```
 */
export const Runtime = Object.freeze({
  /** Starts a builder with every field at its default (a current-thread runtime). */
  builder(): RuntimeBuilder<{}> {
    return new RuntimeBuilder();
  },
});
