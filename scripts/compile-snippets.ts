/**
 * Typechecks in-memory TypeScript files with the compiler API, without writing them to
 * disk. Used by the tests that check compile-time rules (the message must quote the rule)
 * and by the doc-example checker.
 */
import ts from 'typescript';

/** Compiler options shared by every snippet check: the project's strict NodeNext setup. */
export const SNIPPET_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  types: ['node'],
  lib: ['lib.es2023.d.ts', 'lib.esnext.disposable.d.ts'],
};

/**
 * Compiles `files` (absolute path → source text) as one program and returns, per file, the
 * flattened diagnostic messages (an empty list when the file compiles).
 */
export function compileSnippets(files: ReadonlyMap<string, string>, overrides: ts.CompilerOptions = {}): Map<string, string[]> {
  const options = { ...SNIPPET_OPTIONS, ...overrides };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.readFile = (name) => files.get(name) ?? readFile(name);
  host.fileExists = (name) => files.has(name) || fileExists(name);
  const program = ts.createProgram([...files.keys()], options, host);
  const out = new Map<string, string[]>();
  for (const name of files.keys()) {
    const diagnostics = ts.getPreEmitDiagnostics(program, program.getSourceFile(name));
    out.set(name, diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')));
  }
  return out;
}
