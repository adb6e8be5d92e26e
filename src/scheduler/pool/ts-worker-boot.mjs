// Boots the TypeScript pool worker entry in development and tests (never used by dist/).
//
// On Node 20, `--import tsx` in a worker's execArgv does not register tsx inside the
// worker, so a `.ts` entry fails with "Unknown file extension". This plain-JS entry
// registers tsx's ESM hooks in the worker first, then imports the real entry, so the entry
// and the task modules it loads can be TypeScript. A failure here exits the worker, which
// the pool reports as a boot failure.
import { register } from 'tsx/esm/api';

register();
await import(new URL('./worker-entry.ts', import.meta.url).href);
