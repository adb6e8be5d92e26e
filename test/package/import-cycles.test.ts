/**
 * No import cycle among the modules under src/ (type-only imports count), and no runtime
 * part importing the runtime, checked with dependency-cruiser and the committed
 * `.dependency-cruiser.cjs`. The fixture cycle in test/fixtures/import-cycle shows that the
 * same check fails when there is one.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = fileURLToPath(new URL('../../node_modules/dependency-cruiser/bin/dependency-cruiser.mjs', import.meta.url));

interface Violation {
  readonly rule: { readonly name: string };
  readonly from: string;
  readonly to: string;
  readonly cycle?: ReadonlyArray<{ readonly name: string }>;
}

interface CruiseOutput {
  readonly summary: { readonly violations: readonly Violation[]; readonly totalCruised: number };
}

/** Runs dependency-cruiser on `path` with the repository's config; resolves with its JSON report whatever the exit code. */
async function cruise(path: string): Promise<CruiseOutput> {
  const run = promisify(execFile);
  const args = [cli, path, '--config', '.dependency-cruiser.cjs', '--output-type', 'json'];
  const { stdout } = await run(process.execPath, args, { cwd: root, maxBuffer: 64 * 1024 * 1024 }).catch((err: { stdout?: string }) => {
    if (typeof err.stdout === 'string' && err.stdout.startsWith('{')) return { stdout: err.stdout };
    throw err;
  });
  return JSON.parse(stdout) as CruiseOutput;
}

function describeViolations(violations: readonly Violation[]): string[] {
  return violations.map((v) => `${v.rule.name}: ${v.from} → ${v.cycle === undefined ? v.to : v.cycle.map((step) => step.name).join(' → ')}`);
}

describe('import cycles (dependency-cruiser, .dependency-cruiser.cjs)', () => {
  it('src/ has none, and no runtime part imports the runtime (only the part contract)', async () => {
    const report = await cruise('src');
    expect(report.summary.totalCruised).toBeGreaterThan(100);
    expect(describeViolations(report.summary.violations)).toEqual([]);
  });

  it('the same check reports a cycle when there is one (fixture a.ts → b.ts → a.ts)', async () => {
    const report = await cruise('test/fixtures/import-cycle');
    const cycles = report.summary.violations.filter((v) => v.rule.name === 'no-circular');
    expect(cycles.length).toBeGreaterThan(0);
    expect(cycles[0]!.from).toMatch(/import-cycle\/(a|b)\.ts$/);
  });
});
