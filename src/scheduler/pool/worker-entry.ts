/**
 * Entry point of a pool worker thread (bundled as `dist/worker-entry.js`).
 *
 * It imports only the pool protocol and the task registry, never `src/index.ts`; task
 * modules are imported by URL when a record first names them.
 *
 * @module
 */
import { workerData } from 'node:worker_threads';
import { PoolWorker, type PoolWorkerData } from './pool-worker.js';

// Marks this thread as a stealing worker (blockOn refuses to run here); no import needed.
(globalThis as Record<symbol, unknown>)[Symbol.for('zokio.worker-thread')] = 'stealing';

await new PoolWorker(workerData as PoolWorkerData).run();
