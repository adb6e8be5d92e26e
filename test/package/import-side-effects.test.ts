/**
 * Importing Zokio does nothing: a child process imports every public entry point (the
 * `exports` of package.json, from source) and nothing is registered or started by the
 * imports alone — no handle or timer, no process listener, no global, no worker thread,
 * no default runtime, no HTTP request tracer, no live tracer — and the optional peers of
 * `zokio/distributed` (bullmq, ioredis) are not loaded. The same child then uses a
 * runtime and loads those peers, and the same probes see each of those things start (the
 * control). A static check finds any top-level statement under src/ that would act at
 * import.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = fileURLToPath(new URL('../fixtures/package-import-entries.ts', import.meta.url));

interface Snapshot {
  readonly resources: string[];
  readonly listeners: Record<string, number>;
  readonly globals: string[];
  readonly nextThreadId: number;
  /** Packages under node_modules resolved so far, by name. */
  readonly packages: string[];
  readonly defaultRuntimeBuilt: boolean;
  readonly requestTracer: boolean;
  readonly tracingActive: boolean;
}

interface Report {
  readonly entries: Record<string, number>;
  readonly before: Snapshot;
  readonly after: Snapshot;
  readonly control: Snapshot;
}

/** Handles other than the module loader's file reads, which come and go while modules load. */
function lasting(resources: readonly string[]): string[] {
  return resources.filter((r) => !r.startsWith('FSReq'));
}

describe('importing every public entry point', () => {
  it('registers and starts nothing; using a runtime then shows on every probe', async () => {
    const run = promisify(execFile);
    // The child exits by itself: a handle left open by an import would keep it alive (and time out).
    // tsx compiles with esbuild, whose synchronous API runs on a worker thread of its own the first
    // time a file misses tsx's cache; that thread would count as one an import started, so esbuild
    // is told to compile on the calling thread.
    const env = { ...process.env, ESBUILD_WORKER_THREADS: '0' };
    const { stdout } = await run(process.execPath, ['--import', 'tsx', fixture], { cwd: root, env, timeout: 50_000 });
    const { entries, before, after, control } = JSON.parse(stdout) as Report;

    expect(Object.keys(entries).sort()).toEqual(['.', './distributed', './fs', './http', './memory', './net', './process', './sync', './testing', './trace']);
    for (const count of Object.values(entries)) expect(count).toBeGreaterThan(0);

    expect(lasting(after.resources)).toEqual(lasting(before.resources));
    expect(after.listeners).toEqual(before.listeners);
    expect(after.globals).toEqual(before.globals);
    // Each snapshot starts one probe worker, so one more thread id means no other thread started.
    expect(after.nextThreadId).toBe(before.nextThreadId + 1);
    expect(after.defaultRuntimeBuilt).toBe(false);
    expect(after.requestTracer).toBe(false);
    expect(after.tracingActive).toBe(false);
    // BullMQ and ioredis load on the first remote call, never with zokio/distributed.
    expect(after.packages).not.toContain('bullmq');
    expect(after.packages).not.toContain('ioredis');

    // The control: a blocking thread, a timer, a signal listener, the default runtime and tracing.
    expect(control.nextThreadId).toBeGreaterThan(after.nextThreadId + 1);
    expect(lasting(control.resources)).toContain('Timeout');
    expect(control.listeners.SIGHUP).toBe(after.listeners.SIGHUP! + 1);
    expect(control.defaultRuntimeBuilt).toBe(true);
    expect(control.requestTracer).toBe(true);
    expect(control.tracingActive).toBe(true);
    expect(control.packages).toEqual(expect.arrayContaining(['bullmq', 'ioredis']));
    expect(control.globals).toContain('Symbol(zokio.taskRegistry)'); // made by defineTasks, not by the import
  });

  it('no module under src/ runs a statement at top level (thread entries aside)', () => {
    const offenders: string[] = [];
    for (const file of sourceFiles(join(root, 'src'))) {
      const rel = relative(root, file);
      if (THREAD_ENTRIES.has(rel)) continue;
      const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
      for (const statement of source.statements) {
        if (acts(statement)) offenders.push(`${rel}:${source.getLineAndCharacterOfPosition(statement.getStart()).line + 1}: ${statement.getText().split('\n')[0]}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the top-level check sees a registration and a bare import', () => {
    const sample = ts.createSourceFile('x.ts', "import './y.js';\nregister(() => 1);\nexport const z = 1;\nif (flag) start();\n", ts.ScriptTarget.Latest, true);
    expect(sample.statements.map(acts)).toEqual([true, true, false, true]);
  });
});

/** Worker thread entries: loaded by `new Worker(url)`, never imported, they act when loaded by design. */
const THREAD_ENTRIES = new Set(['src/scheduler/pool/worker-entry.ts', 'src/scheduler/blocking/worker.ts']);

/** True for a top-level statement that does something when its module is loaded. */
function acts(statement: ts.Statement): boolean {
  if (ts.isImportDeclaration(statement)) return statement.importClause === undefined; // `import './x.js'`
  return ts.isExpressionStatement(statement) || ts.isIfStatement(statement) || ts.isIterationStatement(statement, false) || ts.isBlock(statement) || ts.isTryStatement(statement);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.m?ts$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}
