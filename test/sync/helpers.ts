/** Helpers for the sync tests. */
import type fc from 'fast-check';

/** A point where the fast-check scheduler decides who runs next. */
export function step(s: fc.Scheduler, label: string): Promise<void> {
  return s.schedule(Promise.resolve(), label);
}

/** Aborts `controller` at a point the scheduler picks (if `when` is true). */
export function abortLater(s: fc.Scheduler, controller: AbortController, when: boolean, label: string): void {
  if (when) void s.schedule(Promise.resolve(), label).then(() => controller.abort());
}

/** Expects `fn` to throw a ZokioError with `code`. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}
