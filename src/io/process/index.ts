/**
 * `zokio/process`: child processes on the current runtime, with pipes that honour
 * backpressure and a lifetime bounded by `await using`, a signal, a timeout and the
 * runtime's shutdown. On the `memory` backend, scripted processes stand in for tests.
 *
 * @module zokio/process
 */
export { scriptedProcesses, spawnProcess, Subprocess, type SpawnOptions, type WaitOptions } from './subprocess.js';
export { output, type Output, type OutputOptions } from './output.js';
export { ProcessInput, ProcessOutput } from './process-pipe.js';
export { type ExitStatus, type StdioMode } from './backend.js';
export { ScriptedProcesses, type ProcessScript, type ScriptContext, type ScriptWriter } from './scripted-process.js';
export { type ProcessMetrics } from './process-part.js';
export { OutputTooLargeError } from '../../errors.js';
