import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const child = fileURLToPath(new URL('../../fixtures/pool-logs-child.ts', import.meta.url));
function run(mode: string): { status: number | null; stdout: string[]; stderr: string[] } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', child, mode], { encoding: 'utf8', timeout: 60_000 });
  const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '');
  return { status: r.status, stdout: lines(r.stdout), stderr: lines(r.stderr) };
}

describe('what pool workers print', () => {
  it('is written, all of it, when a fire-and-forget exec ends the process by itself', () => {
    const r = run('fire-and-forget');
    expect(r.status).toBe(0);
    expect(r.stdout.sort()).toEqual(['ff line 0', 'ff line 1', 'ff line 2', 'main line']);
    expect(r.stderr).toEqual(['ff err']);
  });

  it("comes out before the task's result is delivered", () => {
    const r = run('ordered');
    expect(r.status).toBe(0);
    expect(r.stdout).toEqual(['t0 line 0', 't0 line 1', 'main after t0', 't1 line 0', 't1 line 1', 'main after t1', 't2 line 0', 't2 line 1', 'main after t2']);
    expect(r.stderr).toEqual(['t0 err', 't1 err', 't2 err']);
  });

  it('is not lost at shutdown', () => {
    const r = run('shutdown');
    expect(r.status).toBe(0);
    expect(r.stdout.length).toBe(8 * 5 + 1);
    expect(r.stdout.at(-1)).toBe('main done');
    for (let i = 0; i < 8; i++) expect(r.stdout.filter((l) => l.startsWith(`s${i} line`))).toEqual([0, 1, 2, 3, 4].map((k) => `s${i} line ${k}`));
    expect(r.stderr.length).toBe(8);
  });
});
