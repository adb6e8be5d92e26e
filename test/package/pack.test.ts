/**
 * Builds the package, packs it with `npm pack`, installs the tarball into a fresh
 * temporary project, and runs a worker task from there — what a user of the published
 * package would do. zokio's own dependencies (undici, eventsource-parser) come from npm's
 * cache when it holds them (`--prefer-offline`), else from the registry; the optional peers
 * (bullmq, ioredis) are not installed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'zokio-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' } });
}

describe('the packed package', () => {
  it('installs into a fresh project and runs a task on a worker', () => {
    run(process.execPath, ['scripts/build.mjs'], root);
    const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], root)) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = packed[0]!.files.map((f) => f.path);
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/worker-entry.js');
    expect(files).toContain('dist/types/index.d.ts');
    expect(files.some((f) => f.startsWith('src/'))).toBe(false);

    const app = join(work, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    run('npm', ['install', '--prefer-offline', '--no-save', join(work, packed[0]!.filename)], app);
    expect(existsSync(join(app, 'node_modules', 'undici'))).toBe(true);
    expect(existsSync(join(app, 'node_modules', 'bullmq'))).toBe(false); // an optional peer
    writeFileSync(
      join(app, 'tasks.mjs'),
      `import { defineTasks } from 'zokio';\nexport const tasks = defineTasks(import.meta.url, { add(a, b) { return a + b; } });\n`,
    );
    writeFileSync(
      join(app, 'main.mjs'),
      [
        "import { Runtime } from 'zokio';",
        "import { channel } from 'zokio/sync';",
        "import { tasks } from './tasks.mjs';",
        'const rt = Runtime.builder().workers(1).build();',
        'const sum = await rt.exec(tasks.add, 2, 40);',
        'const [tx, rx] = channel(4);',
        'await tx.send(sum);',
        "console.log(JSON.stringify({ sum, received: await rx.recv(), flavor: rt.report.flavor }));",
        'await rt.shutdown();',
      ].join('\n'),
    );
    const out = run(process.execPath, ['main.mjs'], app).trim().split('\n').pop()!;
    expect(JSON.parse(out)).toEqual({ sum: 42, received: 42, flavor: 'multi_thread' });
  }, 180_000);
});
