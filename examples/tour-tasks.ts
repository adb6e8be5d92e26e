/**
 * Worker tasks used by the tour. Every worker imports this module by its URL; only the
 * functions registered here can run on the pool.
 */
import { defineTasks, join, span } from '../src/index.js';

function seqFib(n: number): number {
  return n < 2 ? n : seqFib(n - 1) + seqFib(n - 2);
}

export const tasks = defineTasks(import.meta.url, {
  /** Fibonacci with rayon-style fork-join: each call splits itself across workers. */
  fib(n: number): number {
    if (n < 25) return seqFib(n);
    const [a, b] = join([tasks.fib, n - 1], [tasks.fib, n - 2]);
    return a + b;
  },
  /** A traced piece of CPU work: its span joins the caller's trace on the worker's lane. */
  checksum(size: number): number {
    return span('checksum', () => {
      let h = 2166136261;
      for (let i = 0; i < size; i++) h = Math.imul(h ^ (i & 0xff), 16777619);
      return h >>> 0;
    }, { attributes: { size } });
  },
  square(n: number): number {
    return n * n;
  },
});
