/**
 * Importing Zokio does nothing: a child process imports every public entry point (the
 * `exports` of package.json, from source) and nothing is registered or started by the
 * imports alone — no handle or timer, no process listener, no global, no worker thread,
 * no default runtime, no HTTP request tracer, no live tracer. The same child then uses a
 * runtime, and the same probes see each of those things start (the control).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = fileURLToPath(new URL('../fixtures/package-import-entries.ts', import.meta.url));

interface Snapshot {
  readonly resources: string[];
  readonly listeners: Record<string, number>;
  readonly globals: string[];
  readonly nextThreadId: number;
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
    const { stdout } = await run(process.execPath, ['--import', 'tsx', fixture], { cwd: root, timeout: 50_000 });
    const { entries, before, after, control } = JSON.parse(stdout) as Report;

    expect(Object.keys(entries).sort()).toEqual(['.', './fs', './http', './memory', './net', './sync', './testing', './trace']);
    for (const count of Object.values(entries)) expect(count).toBeGreaterThan(0);

    expect(lasting(after.resources)).toEqual(lasting(before.resources));
    expect(after.listeners).toEqual(before.listeners);
    expect(after.globals).toEqual(before.globals);
    // Each snapshot starts one probe worker, so one more thread id means no other thread started.
    expect(after.nextThreadId).toBe(before.nextThreadId + 1);
    expect(after.defaultRuntimeBuilt).toBe(false);
    expect(after.requestTracer).toBe(false);
    expect(after.tracingActive).toBe(false);

    // The control: a blocking thread, a timer, a signal listener, the default runtime and tracing.
    expect(control.nextThreadId).toBeGreaterThan(after.nextThreadId + 1);
    expect(lasting(control.resources)).toContain('Timeout');
    expect(control.listeners.SIGHUP).toBe(after.listeners.SIGHUP! + 1);
    expect(control.defaultRuntimeBuilt).toBe(true);
    expect(control.requestTracer).toBe(true);
    expect(control.tracingActive).toBe(true);
  });
});
