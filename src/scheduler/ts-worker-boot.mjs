// Boots a TypeScript worker entry in development and tests (never used by the built dist/),
// for both the stealing pool and the blocking pool.
//
// On Node 20, `--import tsx` in a worker's execArgv does not register tsx inside the worker
// (tsx registers there only on newer Node), so a `.ts` worker entry fails with "Unknown
// file extension". This plain-JS entry registers tsx's ESM hooks in the worker, then imports
// the real entry named by `workerData.entry`, so it and the task modules it loads can be
// TypeScript.
//
// If the entry cannot load, the worker exits with the error, which the stealing pool reports
// as a boot failure. A blocking-pool thread may already have a caller asleep in `blockOn`
// waiting on it: such a thread carries `syncPort` and `wake`, so the reason goes to the sync
// port (id -1) and the wake word turns DEAD (-1), and the caller wakes with
// WorkerCrashedError naming the reason instead of waiting forever.
import { workerData } from 'node:worker_threads';

try {
  const { register } = await import('tsx/esm/api');
  register();
  await import(workerData.entry);
} catch (err) {
  if (workerData.syncPort !== undefined && workerData.wake !== undefined) {
    const message = err instanceof Error ? err.message : String(err);
    workerData.syncPort.postMessage({ id: -1, ok: false, error: { name: 'Error', message, stack: err?.stack, zokio: false } });
    Atomics.store(workerData.wake, 0, -1);
    Atomics.notify(workerData.wake, 0);
  }
  throw err;
}
