/**
 * What an app's bundle pays for: esbuild bundles a small app from the public entry points
 * and the metafile lists the source modules that put bytes into the output. An app that
 * imports only `channel` from `zokio/sync` gets no worker pool, no HTTP and no tracing
 * module; one that imports `Runtime` does get the runtime's parts (the control that shows
 * the check can see them).
 */
import { build, type Metafile } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Bundle {
  /** Source modules (paths relative to the repository) with bytes in the output. */
  readonly modules: readonly string[];
  /** Size of the minified output, in bytes. */
  readonly bytes: number;
}

async function bundle(app: string): Promise<Bundle> {
  const result = await build({
    stdin: { contents: app, resolveDir: root, loader: 'ts', sourcefile: 'app.ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    packages: 'external',
    write: false,
    metafile: true,
    outfile: 'app.js',
    logLevel: 'silent',
  });
  const outputs = Object.values((result.metafile as Metafile).outputs);
  const modules = outputs.flatMap((o) => Object.entries(o.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([path]) => path));
  const bytes = result.outputFiles!.filter((f) => f.path.endsWith('.js')).reduce((n, f) => n + f.contents.byteLength, 0);
  return { modules, bytes };
}

/** Modules of the worker pool, of HTTP, and of tracing. */
const POOL = /^src\/scheduler\/(pool|blocking)\//;
const HTTP = /^src\/io\/http\//;
const TRACE = /^src\/trace\//;

const CHANNEL_APP = `
import { channel } from './src/sync/index.ts';
const [tx, rx] = channel<number>(4);
await tx.send(1);
console.log(await rx.recv());
`;

const RUNTIME_APP = `
import { Runtime } from './src/index.ts';
const rt = Runtime.builder().workers(2).build();
console.log(rt.describe());
await rt.shutdown();
`;

describe('tree shaking (esbuild, sideEffects: false, no import side effects)', () => {
  it('an app importing only channel from zokio/sync bundles no worker-pool, HTTP or tracing module', async () => {
    const app = await bundle(CHANNEL_APP);
    const runtime = await bundle(RUNTIME_APP);
    console.log(`bundle sizes (minified): channel-only app ${app.bytes} B (${app.modules.length} modules), Runtime app ${runtime.bytes} B (${runtime.modules.length} modules)`);

    expect(app.modules).toContain('src/sync/channel.ts');
    expect(app.modules.filter((m) => POOL.test(m) || HTTP.test(m) || TRACE.test(m))).toEqual([]);
    expect(app.modules.filter((m) => m.startsWith('src/runtime/'))).toEqual([]);

    // The control: the same check sees the parts in an app that builds a runtime.
    expect(runtime.modules).toContain('src/runtime/compose.ts');
    expect(runtime.modules.some((m) => POOL.test(m))).toBe(true);
    expect(runtime.modules.some((m) => TRACE.test(m))).toBe(true);
    expect(app.bytes).toBeLessThan(runtime.bytes);
  });
});
