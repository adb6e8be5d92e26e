/**
 * The live runtime console: `rt.console(options)` serves a page and a versioned JSON/SSE
 * feed on 127.0.0.1. This module exports its types and the feed's JSON Schema; the server
 * itself is loaded by `rt.console()`.
 *
 * @module zokio/console
 */
export { CONSOLE_DEFAULTS, type ConsoleOptions, type ConsoleRetention, type RuntimeConsole } from './options.js';
export {
  CONSOLE_SCHEMA,
  type ConsoleState,
  type ConsoleUpdate,
  type ConsoleHello,
  type ConsoleTaskDetail,
  type TaskRow,
  type WorkerRow,
  type PoolSection,
  type QueuesSection,
  type ResourceRow,
  type HttpSection,
  type ProcessSection,
  type SpanRow,
  type WarningRow,
  type ConsoleSection,
  type KeyedChange,
} from './model.js';
export { CONSOLE_JSON_SCHEMA } from './schema.js';
export { applyUpdate, diffStates } from './diff.js';
