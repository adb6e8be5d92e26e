import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { MEMORY_RULES, ObjectPool } from '../../src/memory/index.js';
import { ConfigError } from '../../src/errors.js';
import { compileSnippets } from '../../scripts/compile-snippets.js';

/** A value the compiler cannot see, so that only the run-time check applies. */
function runtimeValue<T>(value: T): never {
  return value as never;
}

describe('ObjectPool capacity: the compiler and the constructor state the same rule', () => {
  it('the run-time check throws ConfigError with the rule text', () => {
    for (const bad of [1000, 0, 3, 1.5]) {
      expect(() => new ObjectPool(() => ({}), { capacity: runtimeValue(bad) })).toThrow(ConfigError);
      expect(() => new ObjectPool(() => ({}), { capacity: runtimeValue(bad) })).toThrow(MEMORY_RULES.capacity);
    }
  });

  it('the compile error for a literal quotes the rule', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const snippets = ['{ capacity: 1000 }', '{ capacity: 0 }', '{ capacity: 3, reset: (o) => void o }', '{ capacity: 33554432 }'];
    const control = '{ capacity: 1024, reset: (o) => { o.n = 0; } }'; // must compile cleanly
    snippets.push(control);
    const files = new Map<string, string>();
    snippets.forEach((code, i) => {
      files.set(`${root}test/__memory_snippet_${i}.ts`, `import { ObjectPool } from '../src/memory/object-pool.js';\nnew ObjectPool(() => ({ n: 0 }), ${code});\n`);
    });
    // The snippets and object-pool.ts need no Node types; keeps the program small.
    const results = compileSnippets(files, { types: [] });
    snippets.forEach((code, i) => {
      const messages = results.get(`${root}test/__memory_snippet_${i}.ts`)!;
      if (code === control) {
        expect(messages, 'a valid capacity compiles').toEqual([]);
        return;
      }
      expect(messages.length, `${code} should not compile`).toBeGreaterThan(0);
      expect(messages.join('\n'), code).toContain(MEMORY_RULES.capacity);
    });
  }, 60_000);
});
