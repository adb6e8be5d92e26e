/**
 * The README's quick start is code people copy: this test writes its two files out
 * (`zokio` pointed at the sources), runs them, and checks the output.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = join(root, 'test', '.readme-quick-start');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README quick start', () => {
  it('is under 25 lines and runs as written', async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('## On a fresh machine'));
    const code = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
    expect(code.trimEnd().split('\n').length).toBeLessThanOrEqual(25);
    const [tasksPart, appPart] = code.split(/^\/\/ app\.ts$/m);
    const toSources = (text: string): string => text.replaceAll("from 'zokio'", "from '../../src/index.js'");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'tasks.ts'), toSources(tasksPart!));
    writeFileSync(join(dir, 'app.ts'), toSources(appPart!));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(dir, 'app.ts')], { cwd: root, timeout: 60_000 });
    expect(stdout).toContain('zokio runtime');
    expect(stdout.trim().split('\n').pop()).toBe('832040 ok');
  }, 90_000);
});
