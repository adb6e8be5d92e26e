/**
 * Entry point of a pool worker thread (bundled as `dist/worker-entry.js`).
 *
 * It imports only the pool protocol, the task registry and the worker half of trace
 * propagation, never `src/index.ts`; task modules are imported by URL when a record first
 * names them. As a thread entry it is the one kind of module allowed to act when loaded.
 *
 * @module
 */
import { workerData } from 'node:worker_threads';
import { installWorkerTracing } from '../../trace/pool-bridge.js';
import { PoolWorker, type PoolWorkerData } from './pool-worker.js';

// Marks this thread as a stealing worker (blockOn refuses to run here); no import needed.
(globalThis as Record<symbol, unknown>)[Symbol.for('zokio.worker-thread')] = 'stealing';
// Spans a task opens join the trace its record carries (compiled out with tracing off).
if ((globalThis as { __ZOKIO_TRACE__?: boolean }).__ZOKIO_TRACE__ !== false) installWorkerTracing();

await new PoolWorker(workerData as PoolWorkerData).run();
