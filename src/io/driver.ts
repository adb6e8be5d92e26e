/**
 * How `zokio/fs`, `zokio/net` and `zokio/http` reach the I/O driver of the current
 * runtime. The driver itself (the runtime part `io`) is in `io-driver.ts`.
 *
 * @module
 */
import { currentRuntimeObject } from '../runtime/current.js';
import type { PartHost } from '../runtime/part.js';
import type { IoDriver } from './io-driver.js';

export { DEFAULT_FS_CONCURRENCY, IoDriver, setBackendProbe, type BackendProbe, type IoBackendKind, type IoCloseable, type IoMetrics } from './io-driver.js';

/** @internal The I/O driver of `runtime` (default: the current runtime). */
export function ioDriver(runtime?: object): IoDriver {
  const driver = ((runtime ?? currentRuntimeObject()) as PartHost).part<IoDriver>('io');
  if (driver === undefined) throw new Error('zokio: this runtime has no I/O driver');
  return driver;
}
