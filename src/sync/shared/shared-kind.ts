/**
 * The own field that marks a shared-memory object (`SharedSemaphore`, `SharedMutex`,
 * `SharedChannel`, `SharedSlab`) and names its kind, so that a worker can rebuild it from
 * its structured clone (see `revive.ts`).
 *
 * @module
 */

/** The own field that marks a shared object and names its kind. */
export const SHARED_KIND_FIELD = '__zokioShared';
