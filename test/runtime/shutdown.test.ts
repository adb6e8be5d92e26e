import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Runtime, RuntimeClosedError } from '../../src/index.js';
import { deferred, flush } from '../helpers.js';

describe('shutdown', () => {
  it('a process that leaves tasks pending and calls shutdown exits by itself', async () => {
    const script = fileURLToPath(new URL('../fixtures/shutdown-child.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    // No wall-clock assertion: the child either exits on its own or the test times out
    // (and we kill it) — a hang is the failure this test exists to catch.
    const exit = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(stderr).toBe('');
    expect(exit).toBe(0);
    const report = JSON.parse(stdout.trim().split('\n').pop()!) as { states: string[]; alive: number };
    expect(report.states).toEqual(['aborted', 'aborted', 'aborted']);
    expect(report.alive).toBe(0);
  }, 30_000);

  it('waits for tasks that finish within the timeout', async () => {
    const rt = Runtime.builder().build();
    const gate = deferred<string>();
    const task = rt.spawn(() => gate.promise);
    await flush();
    const done = rt.shutdown({ timeoutMs: 60_000 });
    gate.resolve('finished');
    await done;
    expect(await task).toBe('finished');
    expect(task.state).toBe('done');
  });

  it('refuses new work once shut down, and is idempotent', async () => {
    const rt = Runtime.builder().build();
    const first = rt.shutdown();
    expect(rt.shutdown()).toBe(first);
    await first;
    expect(() => rt.spawn(async () => 1)).toThrow(RuntimeClosedError);
    await expect(rt.run(async () => 1)).rejects.toBeInstanceOf(RuntimeClosedError);
    await expect(rt.scope(async () => 1)).rejects.toBeInstanceOf(RuntimeClosedError);
  });

  it('await using shuts the runtime down at the end of the block', async () => {
    let signal: AbortSignal | undefined;
    {
      await using rt = Runtime.builder().build();
      await rt.run(async (cx) => (signal = cx.signal));
      expect(signal!.aborted).toBe(false);
    }
    expect(signal!.aborted).toBe(true);
  });
});
