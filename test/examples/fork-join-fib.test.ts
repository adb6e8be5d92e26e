import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('examples/fork-join-fib.ts', () => {
  it('computes fib(32) on the pool, matches the sequential result, and reports join metrics', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/fork-join-fib.ts'], { cwd: root, timeout: 120_000 });
    expect(stdout).toContain('fib(32) on 2 workers = 2178309');
    expect(stdout).toContain('fib(32) sequential   = 2178309');
    const joins = [...stdout.matchAll(/worker \d: joins (\d+)/g)].map((m) => Number(m[1]));
    expect(joins).toHaveLength(2);
    expect(joins.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  }, 150_000);
});
