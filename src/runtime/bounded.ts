/**
 * `bounded`: waits for work, but no longer than a budget. The shutdown paths use it (the
 * runtime's wait for live tasks, the pool's for running jobs, the tracer's flush, Redis
 * connections closing), so that `rt.shutdown({ timeoutMs })` ends even when the work
 * never does.
 *
 * @module
 * @internal
 */

/**
 * Resolves with true when `work` settles (fulfilled or rejected: the caller reads the
 * outcome elsewhere), or with false after `ms` of wall-clock time, whichever is first.
 * The budget is the host's time, not a runtime clock: a paused virtual clock must not
 * hold a shutdown for ever.
 */
export async function bounded(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, ms))));
  try {
    return await Promise.race([work.then(() => true, () => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}
