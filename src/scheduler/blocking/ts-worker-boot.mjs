// Boots a TypeScript worker entry in development and tests (never used by the built dist/).
//
// On Node 20, `--import tsx` in a worker's execArgv does not register tsx inside the worker
// (tsx registers there only on newer Node), so a `.ts` worker entry fails with "Unknown
// file extension". This plain-JS entry registers tsx's ESM hooks in the worker, then imports
// the real entry named by `workerData.entry`, so it and the task modules it loads can be
// TypeScript.
import { workerData } from 'node:worker_threads';

const { register } = await import('tsx/esm/api');
register();
await import(workerData.entry);
