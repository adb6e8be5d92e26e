/**
 * Extracts the ```ts code examples from the doc comments of src/ and typechecks each one
 * as its own module, with `zokio` and `zokio/*` mapped to the sources. Used by
 * test/docs/doc-examples.test.ts (so `npm test` fails on an example that does not compile)
 * and runnable by hand: `npx tsx scripts/doc-examples.ts`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileSnippets } from './compile-snippets.js';

const root = fileURLToPath(new URL('../', import.meta.url));

/** One example: where it is and its code. */
export interface DocExample {
  readonly file: string;
  readonly line: number;
  readonly code: string;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Every ```ts / ```typescript block inside a `/** ... *\/` comment under src/. */
export function extractExamples(): DocExample[] {
  const examples: DocExample[] = [];
  for (const file of sourceFiles(join(root, 'src'))) {
    const text = readFileSync(file, 'utf8');
    const comment = /\/\*\*[\s\S]*?\*\//g;
    for (let m = comment.exec(text); m !== null; m = comment.exec(text)) {
      const body = m[0].split('\n').map((line) => line.replace(/^\s*\*(?!\/) ?/, ''));
      const startLine = text.slice(0, m.index).split('\n').length;
      for (let i = 0; i < body.length; i++) {
        if (!/^\s*```(ts|typescript)\s*$/.test(body[i]!)) continue;
        const lines: string[] = [];
        let j = i + 1;
        for (; j < body.length && !/^\s*```\s*$/.test(body[j]!); j++) lines.push(body[j]!);
        examples.push({ file: relative(root, file), line: startLine + i, code: lines.join('\n') });
        i = j;
      }
    }
  }
  return examples;
}

const SUBPATHS: Record<string, string> = {
  zokio: 'src/index.ts',
  'zokio/sync': 'src/sync/index.ts',
  'zokio/fs': 'src/io/fs/index.ts',
  'zokio/net': 'src/io/net/index.ts',
  'zokio/http': 'src/io/http/index.ts',
  'zokio/process': 'src/io/process/index.ts',
  'zokio/trace': 'src/trace/index.ts',
  'zokio/memory': 'src/memory/index.ts',
  'zokio/testing': 'src/testing/index.ts',
  'zokio/distributed': 'src/distributed/index.ts',
};

/** Typechecks every example; returns one message per example that does not compile. */
export function checkExamples(examples: readonly DocExample[]): string[] {
  const files = new Map<string, DocExample>();
  examples.forEach((ex, i) => files.set(join(root, `.doc-examples/example-${i}.ts`), ex));
  // Each example is a module (export {}) so that top-level await and local names work.
  const sources = new Map([...files].map(([name, ex]) => [name, `${ex.code}\nexport {};\n`]));
  const results = compileSnippets(sources, {
    baseUrl: root,
    paths: Object.fromEntries(Object.entries(SUBPATHS).map(([k, v]) => [k, [v]])),
  });
  const problems: string[] = [];
  for (const [name, ex] of files) {
    const messages = results.get(name)!;
    if (messages.length > 0) problems.push(`${ex.file}:${ex.line}: ${messages.join('; ').replace(/\n/g, ' ')}`);
  }
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const examples = extractExamples();
  const problems = checkExamples(examples);
  for (const p of problems) console.log(p);
  console.log(`${examples.length} examples, ${problems.length} do not compile`);
  process.exitCode = problems.length > 0 ? 1 : 0;
}
