/**
 * The runner task's registration (internal): the module a pool thread of `serveTasks`
 * imports to find the runner (`runnerRef()` points here). Like a user's task module, it
 * registers its task when imported; nothing else imports it, so importing
 * `zokio/distributed` registers nothing.
 *
 * @module
 */
import { defineTasks } from '../scheduler/task-registry.js';
import { run, RUNNER_ID, type RunTask } from './runner.js';

/**
 * @internal The Cloneable check is skipped on purpose: the values were decoded from tagged
 * JSON, so they clone.
 */
export const runner = defineTasks<{ run: RunTask }>(import.meta.url, { run } as never, { id: RUNNER_ID });
