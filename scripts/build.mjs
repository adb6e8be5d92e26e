// `npm run build`: esbuild bundles the public entry points and the worker entries into
// dist/ (ESM, code splitting so that shared state such as the task registry exists once),
// then tsc emits the .d.ts files into dist/types. `--no-tracing` builds with tracing
// compiled out (`globalThis.__ZOKIO_TRACE__ = false`, the define every tracing branch is
// guarded by) into dist-no-tracing/ for size comparison.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const noTracing = process.argv.includes('--no-tracing');
const outdir = noTracing ? 'dist-no-tracing' : 'dist';

/** Public entry points (package.json `exports`) and worker entries, by output name. */
const entries = {
  index: 'src/index.ts',
  sync: 'src/sync/index.ts',
  fs: 'src/io/fs/index.ts',
  net: 'src/io/net/index.ts',
  http: 'src/io/http/index.ts',
  process: 'src/io/process/index.ts',
  trace: 'src/trace/index.ts',
  memory: 'src/memory/index.ts',
  testing: 'src/testing/index.ts',
  distributed: 'src/distributed/index.ts',
  // Worker entries: each module that starts a worker resolves `./<name>.js` next to itself,
  // which in the bundle is dist/ (chunks live there too).
  'worker-entry': 'src/scheduler/pool/worker-entry.ts',
  worker: 'src/scheduler/blocking/worker.ts',
  // The distributed runner task: serveTasks' pool threads import it by URL (runner.ts).
  'distributed-runner': 'src/distributed/runner-task.ts',
  // The console's server: ConsolePart loads it by URL on the first rt.console().
  'console-server': 'src/console/server.ts',
};

const missing = Object.entries(entries).filter(([, file]) => !existsSync(file));
for (const [name] of missing) delete entries[name];
if (missing.length > 0) console.warn(`build: skipping entries not present yet: ${missing.map(([n, f]) => `${n} (${f})`).join(', ')}`);

rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: entries,
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  entryNames: '[name]',
  chunkNames: 'chunk-[hash]',
  ...(noTracing ? { define: { 'globalThis.__ZOKIO_TRACE__': 'false' } } : {}),
  logLevel: 'warning',
});

if (!noTracing) {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}

let bytes = 0;
for (const file of readdirSync(outdir)) if (file.endsWith('.js')) bytes += statSync(join(outdir, file)).size;
console.log(`build: ${outdir}/ written (${Object.keys(entries).length} entries, ${bytes} bytes of JS${noTracing ? ', tracing compiled out' : ''})`);
