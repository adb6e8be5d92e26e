import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const example = fileURLToPath(new URL('../../examples/distributed.ts', import.meta.url));

describe('examples/distributed.ts', () => {
  it('runs a producer and two worker processes on Redis, prints where each job ran, and exits by itself', () => {
    // The kill timer is a safety net against a hang, not an assertion on time.
    const child = spawnSync(process.execPath, ['--import', 'tsx', example], { encoding: 'utf8', timeout: 90_000 });
    expect(child.signal, child.stderr).toBeNull();
    expect(child.status, child.stderr).toBe(0);
    const lines = child.stdout.trim().split('\n');
    const fibs = [6765, 10946, 17711, 28657, 46368, 75025, 121393, 196418];
    for (const [i, n] of [20, 21, 22, 23, 24, 25, 26, 27].entries()) {
      expect(lines[i]).toMatch(new RegExp(`^fib\\(${n}\\) = ${fibs[i]} ran in worker [AB] \\(pid \\d+, thread \\d+\\)$`));
    }
    expect(lines[8]).toMatch(/^workers used: (A|B|A, B)$/);
  });
});
