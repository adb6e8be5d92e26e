// Boots a TypeScript worker entry in development and tests (never used by the built dist/),
// for both the stealing pool and the blocking pool.
//
// Node 22 and 24 apply `--import tsx` from a worker's execArgv inside the worker (the pools
// pass it, see `workerExecArgv`), so this file no longer registers tsx itself: that was the
// Node 20 workaround. It stays for one job a `.ts` entry cannot do for itself: reporting
// that the entry failed to load. A blocking-pool thread may already have a caller asleep in
// `blockOn` waiting on it: such a thread carries `syncPort` and `wake`, so the reason goes to
// the sync port (id -1) and the wake word turns DEAD (-1), and the caller wakes with
// WorkerCrashedError naming the reason instead of waiting forever. The stealing pool reports
// the worker's exit with the error as a boot failure.
import { workerData } from 'node:worker_threads';

try {
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
