import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const APP = `
import { Runtime, span } from './src/index.ts';
const rt = Runtime.builder().tracing({ exporter: 'otlp' }).build();
console.log(await rt.run(() => span('main', () => 1)));
await rt.shutdown();
`;

async function bundle(define: Record<string, string>): Promise<string> {
  const result = await build({
    stdin: { contents: APP, resolveDir: root, loader: 'ts', sourcefile: 'app.ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    write: false,
    logLevel: 'silent',
    define,
  });
  return result.outputFiles![0]!.text;
}

describe('esbuild define globalThis.__ZOKIO_TRACE__ = false', () => {
  it('removes the tracer, the buffer and every exporter from the bundle', async () => {
    const on = await bundle({});
    const off = await bundle({ 'globalThis.__ZOKIO_TRACE__': 'false' });
    for (const marker of ['resourceSpans', 'thread_name', 'zokio:trace:', 'randomFillSync', 'exception.stacktrace']) {
      expect(on).toContain(marker);
      expect(off).not.toContain(marker);
    }
    expect(off.length).toBeLessThan(on.length);
  });
});
