/**
 * Bridging synchronous code and async work with the blocking pool
 * (`npx tsx examples/blocking-bridge.ts`).
 *
 * Some code has to stay synchronous: a plugin hook a library calls without awaiting, a
 * sync `require`-time config loader, a CLI step in the middle of legacy code. `rt.blockOn`
 * runs a registered task (sync or async) on a blocking thread and sleeps the caller with
 * `Atomics.wait` until it returns. Inside the runtime that would stall every other task, so
 * there it throws `NestedRuntimeError`, which says to `await rt.spawnBlocking(...)` instead.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { NestedRuntimeError, Runtime, TimeoutError, defineTasks } from '../src/index.js';

/** Tasks the blocking threads run. Blocking threads import this module to find them. */
export const tasks = defineTasks(import.meta.url, {
  /** Async work: read and parse a JSON file, return a summary. */
  async readManifest(path: string): Promise<{ name: string; dependencies: number }> {
    const manifest = JSON.parse(await readFile(path, 'utf8')) as { name: string; devDependencies?: Record<string, string> };
    return { name: manifest.name, dependencies: Object.keys(manifest.devDependencies ?? {}).length };
  },
  /** Blocking CPU work: a digest repeated `rounds` times. */
  digest(text: string, rounds: number): string {
    let out = text;
    for (let i = 0; i < rounds; i++) out = createHash('sha256').update(out).digest('hex');
    return out.slice(0, 16);
  },
  /** Never returns until `gate[0]` turns non-zero: shows the timeout form. */
  waitFor(gate: Int32Array): string {
    Atomics.wait(gate, 0, 0);
    return 'opened';
  },
});

const manifestPath = fileURLToPath(new URL('../package.json', import.meta.url));
const rt = isMainThread ? Runtime.builder().workers(1).blockingThreads(2).build() : undefined;

/** A synchronous API that needs async work underneath: this is where blockOn belongs. */
function loadManifestSync(): { name: string; dependencies: number } {
  return rt!.blockOn(tasks.readManifest, manifestPath);
}

async function main(): Promise<void> {
  const runtime = rt!;

  // 1. Plain synchronous code, outside rt.run: blockOn returns the value.
  const manifest = loadManifestSync();
  console.log(`blockOn from sync code: ${manifest.name} (${manifest.dependencies} dev dependencies)`);
  console.log(`blockOn with a blocking task: digest = ${runtime.blockOn(tasks.digest, 'zokio', 1000)}`);

  // 2. The timeout form: options first. The task never returns, so the wait gives up.
  const gate = new Int32Array(new SharedArrayBuffer(4));
  try {
    runtime.blockOn({ timeoutMs: 50 }, tasks.waitFor, gate);
  } catch (err) {
    if (!(err instanceof TimeoutError)) throw err;
    console.log(`blockOn({ timeoutMs: 50 }): ${err.code}`);
  }
  Atomics.store(gate, 0, 1); // let the abandoned task finish
  Atomics.notify(gate, 0);

  // 3. The nested case: the same sync helper called from inside the runtime.
  await runtime.run(async () => {
    try {
      loadManifestSync();
    } catch (err) {
      if (!(err instanceof NestedRuntimeError)) throw err;
      console.log(`inside rt.run: ${err.name} (${err.code})`);
      console.log(`  ${err.message}`);
    }
    // What the message says to do instead:
    const again = await runtime.spawnBlocking(tasks.readManifest, manifestPath);
    console.log(`inside rt.run, await rt.spawnBlocking: ${again.name}`);
  });

  const { completed, failed, timedOut } = runtime.metrics().blocking as { completed: number; failed: number; timedOut: number };
  console.log(`blocking pool: ${completed} completed, ${failed} failed, ${timedOut} timed out`);
  await runtime.shutdown();
}

// Blocking threads import this module to find `tasks`; only the main thread runs the example.
if (isMainThread) await main();
