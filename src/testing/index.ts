/**
 * Test helpers: a virtual clock (and, with the I/O work, the in-memory backend) so that
 * tests never wait on wall-clock time.
 *
 * @module zokio/testing
 */
export { VirtualClock, type VirtualClockOptions } from './virtual-clock.js';
export { memoryBackend, request, type MemoryBackend, type TestRequest, type TestResponse } from '../io/testing.js';
export { scriptedProcesses, ScriptedProcesses, type ProcessScript, type ScriptContext } from '../io/testing.js';
