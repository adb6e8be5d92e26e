import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const program = fileURLToPath(new URL('../../fixtures/blocking-exit.ts', import.meta.url));

/** Runs the fixture in a fresh Node process; the kill timer is a safety net, not an assertion. */
function run(mode: string): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const child = spawnSync(process.execPath, ['--import', 'tsx', program, mode], { encoding: 'utf8', timeout: 45_000 });
  return { status: child.status, signal: child.signal, stdout: child.stdout.trim(), stderr: child.stderr };
}

describe('blocking pool and process liveness', () => {
  it('idle blocking threads do not keep the process alive (no shutdown call)', () => {
    const r = run('idle');
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('[3,10]');
  });

  it('a thread stuck in an abandoned blockOn task does not keep the process alive', () => {
    const r = run('abandoned');
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('[3,10,"timeout"]');
  });

  it('shutdown terminates a thread stuck in a task and rejects the task', () => {
    const r = run('shutdown');
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('[3,10,"RuntimeClosedError"]');
  });
});
