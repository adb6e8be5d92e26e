/**
 * Worker tasks of `scripts/console-screenshot.ts` (a module of its own: pool workers load
 * it, so it must not start anything at import).
 */
import { defineTasks } from '../src/index.js';

export const tasks = defineTasks(import.meta.url, {
  /** About `ms` of CPU on a worker thread. */
  crunch(ms: number): number {
    const end = performance.now() + ms;
    let n = 0;
    while (performance.now() < end) n++;
    return n;
  },
});
