import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/runtime/runtime.js';
import { currentRuntime } from '../../src/scheduler/combinators.js';
import { request, until } from './http-helpers.js';

const fixture = fileURLToPath(new URL('../fixtures/io-signal-server.ts', import.meta.url));

describe('rt.onSignal', () => {
  it('runs the handler as a runtime task; unsubscribe and shutdown remove the listener', async () => {
    const rt = createRuntime({});
    const seen: string[] = [];
    const before = process.listenerCount('SIGUSR2');
    const sub = rt.onSignal('SIGUSR2', (signal) => {
      seen.push(`${signal} ${currentRuntime() === rt}`);
    });
    expect(process.listenerCount('SIGUSR2')).toBe(before + 1);
    process.kill(process.pid, 'SIGUSR2');
    await until(() => seen.length === 1, 'handler ran');
    expect(seen).toEqual(['SIGUSR2 true']);
    sub.unsubscribe();
    expect(process.listenerCount('SIGUSR2')).toBe(before);
    rt.onSignal(['SIGUSR2'], () => undefined);
    expect(process.listenerCount('SIGUSR2')).toBe(before + 1);
    await rt.shutdown();
    expect(process.listenerCount('SIGUSR2')).toBe(before);
  });

  it("'shutdown' turns SIGTERM into a graceful shutdown: the in-flight request finishes and the process exits by itself", async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await until(() => /port \d+/.test(out), 'child listening');
    const port = Number(/port (\d+)/.exec(out)![1]);
    expect((await request(port, '/health')).body).toBe('ok');
    const slow = request(port, '/slow');
    await until(() => out.includes('slow-started'), 'slow request in flight');
    child.kill('SIGTERM');
    const res = await slow;
    expect([res.status, res.body]).toEqual([200, 'slow done']);
    expect(await exited).toBe(0);
    expect(out).toContain('got-sigterm');
    expect(out).toContain('server-closed');
  });
});
