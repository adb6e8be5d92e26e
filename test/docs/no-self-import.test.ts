/**
 * Examples, tests and benches run from a fresh clone, before any build: importing the
 * package by its own name ('zokio', 'zokio/sync', ...) resolves through `exports` to dist/,
 * which does not exist yet. They must import the sources by relative path.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
// These two build or rewrite on purpose: the pack test installs the built package, and the
// README test points `zokio` at the sources.
const allowed = new Set(['test/package/pack.test.ts', 'test/docs/readme.test.ts', 'test/docs/no-self-import.test.ts']);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name.startsWith('.')) return [];
    return statSync(path).isDirectory() ? files(path) : /\.(ts|mts|mjs|js)$/.test(name) ? [path] : [];
  });
}

describe('no package self-imports outside src/', () => {
  it('examples, tests, benches and scripts import the sources by relative path', () => {
    const offenders = ['examples', 'test', 'bench', 'scripts']
      .flatMap((dir) => files(join(root, dir)))
      .filter((file) => !allowed.has(relative(root, file)))
      .filter((file) => /from ['"]zokio(\/[a-z]+)?['"]/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(root, file));
    expect(offenders).toEqual([]);
  });
});
