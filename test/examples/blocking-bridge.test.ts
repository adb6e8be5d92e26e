import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const example = fileURLToPath(new URL('../../examples/blocking-bridge.ts', import.meta.url));

describe('examples/blocking-bridge.ts', () => {
  it('bridges sync code with blockOn, prints the nested-runtime error, and exits by itself', () => {
    // The kill timer is a safety net against a hang, not an assertion on time.
    const child = spawnSync(process.execPath, ['--import', 'tsx', example], { encoding: 'utf8', timeout: 45_000 });
    expect(child.signal, child.stderr).toBeNull();
    expect(child.status, child.stderr).toBe(0);
    const lines = child.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^blockOn from sync code: zokio \(\d+ dev dependencies\)$/);
    expect(lines[1]).toMatch(/^blockOn with a blocking task: digest = [0-9a-f]{16}$/);
    expect(lines[2]).toBe('blockOn({ timeoutMs: 50 }): ZOKIO_ERR_TIMEOUT');
    expect(lines[3]).toBe('inside rt.run: NestedRuntimeError (ZOKIO_ERR_NESTED_RUNTIME)');
    expect(lines[4]).toContain('Use `await rt.spawnBlocking(tasks.readManifest, ...)` instead.');
    expect(lines[5]).toBe('inside rt.run, await rt.spawnBlocking: zokio');
    expect(lines[6]).toMatch(/^blocking pool: \d+ completed, 0 failed, 1 timed out$/);
  });
});
