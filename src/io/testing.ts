/**
 * The I/O part of `zokio/testing`: the memory backend's handle and an HTTP client for
 * `serve()` servers, re-exported by `src/testing/index.ts` in one line.
 */
export { memoryBackend, type MemoryBackend } from './memory.js';
export { request, type TestRequest, type TestResponse } from './http/test-client.js';
export { ScriptedProcesses, type ProcessScript, type ScriptContext } from './process/scripted-process.js';
export { scriptedProcesses } from './process/subprocess.js';
