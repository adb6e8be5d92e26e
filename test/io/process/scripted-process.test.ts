// Scripted processes on the memory backend: the same Subprocess API, deterministic. A
// flooding script shows the backpressure exactly (how much it managed to write), a script
// that ignores SIGTERM shows the escalation on virtual time, and shutdown reaps them all.
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../../../src/runtime/runtime.js';
import { VirtualClock } from '../../../src/testing/index.js';
import { output, scriptedProcesses, spawnProcess } from '../../../src/io/process/index.js';

let rt: ReturnType<typeof createRuntime> | undefined;
afterEach(async () => {
  await rt?.shutdown();
  rt = undefined;
});

describe('scripted processes on the memory backend', () => {
  it('runs a script with args, stdin and stdout, and returns its exit code', async () => {
    rt = createRuntime({ io: 'memory' });
    scriptedProcesses(rt).define('upper', async (p) => {
      for (;;) {
        const line = await p.stdin.readLine();
        if (line === null) return 0;
        if (line === 'fail') throw new Error('asked to fail');
        await p.stdout.write(`${p.args[0]}${line.toUpperCase()}\n`);
      }
    });
    await rt.run(async () => {
      await using child = await spawnProcess('upper', ['> ']);
      await child.stdin.write('abc\n');
      expect(await child.stdout.readLine()).toBe('> ABC');
      await child.stdin.end();
      expect(await child.wait()).toEqual({ code: 0, signal: null });
      const failed = await output('upper', [''], { input: 'x\nfail\n' });
      expect(failed.code).toBe(1);
      expect(Buffer.from(failed.stdout).toString()).toBe('X\n');
      expect(Buffer.from(failed.stderr).toString()).toBe('asked to fail\n');
      await expect(spawnProcess('unknown', [])).rejects.toMatchObject({ code: 'ENOENT' });
    });
  });

  it('a flooding script is paused while nobody reads: what it wrote stays within the pipe buffers', async () => {
    rt = createRuntime({ io: 'memory' });
    let written = 0;
    const chunk = Buffer.alloc(1024, 120);
    scriptedProcesses(rt).define('flood', async (p) => {
      for (let i = 0; i < 10_000; i++) {
        await p.stdout.write(chunk);
        written += chunk.length;
      }
    });
    await rt.run(async () => {
      await using child = await spawnProcess('flood', []);
      for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
      // The pipe's writable and readable buffers and the reader's queue: three high-water
      // marks and a chunk, whatever the script tried to write.
      expect(written).toBeLessThanOrEqual(3 * 16 * 1024 + chunk.length);
      expect(written).toBeGreaterThan(0);
      expect(child.stdout.bufferedBytes).toBeLessThanOrEqual(2 * child.stdout.highWaterMark + chunk.length);
      let received = 0;
      for await (const c of child.stdout) received += c.byteLength;
      expect(received).toBe(10_000 * chunk.length);
      expect(await child.wait()).toEqual({ code: 0, signal: null });
    });
  });

  it('escalates to SIGKILL for a script that ignores SIGTERM, after killGraceMs of virtual time', async () => {
    const clock = new VirtualClock();
    rt = clock.install(createRuntime({ io: 'memory' }));
    clock.pause();
    let terms = 0;
    scriptedProcesses(rt).define('stubborn', (p) => {
      p.onSignal('SIGTERM', () => terms++);
      return new Promise<void>(() => undefined);
    });
    await rt.run(async () => {
      const child = await spawnProcess('stubborn', [], { killGraceMs: 3_000 });
      const disposed = child[Symbol.asyncDispose]();
      await clock.advance(2_999);
      expect(terms).toBe(1);
      expect(child.exitStatus).toBeUndefined();
      await clock.advance(1);
      await disposed;
      expect(child.exitStatus).toEqual({ code: null, signal: 'SIGKILL' });
    });
  });

  it('runtime shutdown reaps every live scripted process', async () => {
    rt = createRuntime({ io: 'memory' });
    scriptedProcesses(rt).define('forever', (p) => new Promise<void>((resolve) => p.signal.addEventListener('abort', () => resolve())));
    const children = await rt.run(async () => Promise.all([spawnProcess('forever', []), spawnProcess('forever', [])]));
    await rt.shutdown();
    expect(children.map((c) => c.exitStatus)).toEqual([{ code: null, signal: 'SIGTERM' }, { code: null, signal: 'SIGTERM' }]);
  });

  it('scriptedProcesses() needs the memory backend', () => {
    rt = createRuntime({ io: 'node' });
    expect(() => scriptedProcesses(rt)).toThrow(expect.objectContaining({ code: 'ZOKIO_ERR_CONFIG' }));
  });
});
