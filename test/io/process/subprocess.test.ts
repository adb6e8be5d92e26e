// spawnProcess with real child processes on the node backend: pipes with backpressure, the
// kill escalation (a child that ignores SIGTERM), timeouts and aborts on a VirtualClock,
// a child that floods stdout while nobody reads (bytes buffered stay bounded), and runtime
// shutdown with live children (none left behind: checked by pid).
import { afterEach, describe, expect, it } from 'vitest';
import { setTimeout as sleepReal } from 'node:timers/promises';
import { createRuntime } from '../../../src/runtime/runtime.js';
import { RuntimeClosedError, TaskAbortedError } from '../../../src/errors.js';
import { sleep } from '../../../src/index.js';
import { VirtualClock } from '../../../src/testing/index.js';
import { output, spawnProcess, type Subprocess } from '../../../src/io/process/index.js';

type Rt = ReturnType<typeof createRuntime>;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** A shell that ignores SIGTERM, says `ready` once the trap is set, then sleeps (the trap survives exec). */
const IGNORES_TERM = ['-c', 'trap "" TERM; echo ready; exec sleep 1000'];

let rt: Rt | undefined;
afterEach(async () => {
  await rt?.shutdown();
  rt = undefined;
});

describe('spawnProcess on the node backend', () => {
  it('talks to sh over stdin and stdout, and reaps it with its exit code', async () => {
    rt = createRuntime({ io: 'node' });
    await rt.run(async () => {
      await using sh = await spawnProcess('sh', []);
      expect(sh.pid).toBeGreaterThan(0);
      await sh.stdin.write('echo hello\necho oops >&2\nexit 7\n');
      expect(await sh.stdout.readLine()).toBe('hello');
      expect(await sh.stderr.readLine()).toBe('oops');
      expect(await sh.wait()).toEqual({ code: 7, signal: null });
      expect(sh.exitStatus).toEqual({ code: 7, signal: null });
      expect(await sh.stdout.read()).toBeNull();
      expect(sh.kill()).toBe(false);
      expect((rt!.metrics() as unknown as { process: unknown }).process).toEqual({ spawned: 1, alive: 0 });
    });
  });

  it('a task that awaited spawnProcess and terminate(), a dispose, or output() goes on as itself: its next wait stops at an abort', async () => {
    rt = createRuntime({ io: 'node' });
    const runtime = rt;
    await runtime.run(async () => {
      for (const how of ['terminate', 'dispose', 'output'] as const) {
        let resumed = false;
        const task = runtime.spawn(async () => {
          if (how === 'output') await output('true');
          else {
            const child = await spawnProcess('sh', ['-c', 'exec sleep 1000']);
            if (how === 'terminate') await child.terminate();
            else await child[Symbol.asyncDispose]();
          }
          resumed = true;
          await sleep(60_000);
        });
        while (!resumed) await sleepReal(1);
        task.abort(new Error('stop'));
        let outcome: unknown = 'still pending';
        task.catch((err: unknown) => (outcome = err));
        for (let i = 0; i < 10 && outcome === 'still pending'; i++) await new Promise((resolve) => setImmediate(resolve));
        expect(outcome).toBeInstanceOf(TaskAbortedError);
      }
    });
  });

  it('rejects an unknown command with ENOENT', async () => {
    rt = createRuntime({ io: 'node' });
    await rt.run(async () => {
      await expect(spawnProcess('zokio-no-such-command', [])).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(spawnProcess('true', [], { timeoutMs: -1 })).rejects.toMatchObject({ code: 'ZOKIO_ERR_INVALID_ARGUMENT' });
    });
  });

  it('dispose escalates to SIGKILL after killGraceMs when the child ignores SIGTERM', async () => {
    const clock = new VirtualClock();
    rt = clock.install(createRuntime({ io: 'node' }));
    clock.pause();
    const result = await rt.run(async () => {
      const child = await spawnProcess('sh', IGNORES_TERM, { killGraceMs: 10_000 });
      expect(await child.stdout.readLine()).toBe('ready');
      const disposed = child[Symbol.asyncDispose]();
      // SIGTERM was sent and ignored; SIGKILL waits for the grace period on the runtime clock.
      await clock.advance(9_999);
      expect(alive(child.pid)).toBe(true);
      expect(child.exitStatus).toBeUndefined();
      await clock.advance(1);
      await disposed;
      return { status: child.exitStatus, pid: child.pid };
    });
    expect(result.status).toEqual({ code: null, signal: 'SIGKILL' });
    expect(alive(result.pid)).toBe(false);
  });

  it('a child that exits on SIGTERM is reaped without SIGKILL', async () => {
    rt = createRuntime({ io: 'node' });
    await rt.run(async () => {
      const child = await spawnProcess('sleep', ['1000']);
      await child[Symbol.asyncDispose]();
      expect(child.exitStatus).toEqual({ code: null, signal: 'SIGTERM' });
      expect(alive(child.pid)).toBe(false);
    });
  });

  it('timeoutMs and an aborted signal terminate the child (virtual time)', async () => {
    const clock = new VirtualClock();
    rt = clock.install(createRuntime({ io: 'node' }));
    clock.pause();
    await rt.run(async () => {
      const slow = await spawnProcess('sleep', ['1000'], { timeoutMs: 5_000 });
      await clock.advance(4_999);
      expect(slow.exitStatus).toBeUndefined();
      await clock.advance(1);
      expect(await slow.wait()).toEqual({ code: null, signal: 'SIGTERM' });
      expect(slow.timedOut).toBe(true);

      const stubborn = await spawnProcess('sh', IGNORES_TERM, { timeoutMs: 1_000, killGraceMs: 2_000 });
      expect(await stubborn.stdout.readLine()).toBe('ready');
      await clock.advance(1_000);
      expect(alive(stubborn.pid)).toBe(true);
      await clock.advance(2_000);
      expect(await stubborn.wait()).toEqual({ code: null, signal: 'SIGKILL' });

      const controller = new AbortController();
      const aborted = await spawnProcess('sleep', ['1000'], { signal: controller.signal, killSignal: 'SIGINT' });
      controller.abort();
      expect(await aborted.wait()).toEqual({ code: null, signal: 'SIGINT' });
      expect(aborted.timedOut).toBe(false);
    });
  });

  it('stdin.write waits for drain while the child does not read; the wait can be aborted', async () => {
    rt = createRuntime({ io: 'node' });
    await rt.run(async () => {
      await using child = await spawnProcess('sleep', ['1000']);
      const controller = new AbortController();
      let settled = false;
      const write = child.stdin.write(Buffer.alloc(4 * 1024 * 1024), { signal: controller.signal }).finally(() => (settled = true));
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(settled).toBe(false);
      expect(child.stdin.bufferedBytes).toBeGreaterThan(0);
      controller.abort(new Error('gave up'));
      await expect(write).rejects.toThrow('gave up');
    });
  });

  it('a child that floods stdout while nobody reads is paused: the bytes buffered stay bounded', async () => {
    rt = createRuntime({ io: 'node' });
    await rt.run(async () => {
      const total = 32 * 1024 * 1024;
      await using child = await spawnProcess('head', ['-c', String(total), '/dev/zero']);
      const out = child.stdout;
      // Wait until the pipe's read buffer is full, then give the child time to write more.
      while (out.bufferedBytes < out.highWaterMark) await sleepReal(5);
      await sleepReal(300);
      // Bounded: the engine's queue and the pipe's buffer, each a high-water mark plus one
      // read of the kernel pipe (64 KiB), whatever the child tried to write.
      expect(out.bufferedBytes).toBeLessThanOrEqual(2 * (out.highWaterMark + 64 * 1024));
      // head cannot have finished: the rest of its 32 MiB has nowhere to go.
      expect(child.exitStatus).toBeUndefined();
      let received = 0;
      for await (const chunk of out) {
        received += chunk.byteLength;
        expect(out.bufferedBytes).toBeLessThanOrEqual(2 * (out.highWaterMark + 64 * 1024));
      }
      expect(received).toBe(total);
      expect(await child.wait()).toEqual({ code: 0, signal: null });
    });
  });

  it('runtime shutdown terminates live children, escalating for one that ignores SIGTERM: none is left', async () => {
    rt = createRuntime({ io: 'node' });
    const children: Subprocess[] = await rt.run(async () => {
      const list = [await spawnProcess('sleep', ['1000']), await spawnProcess('sleep', ['1000']), await spawnProcess('sh', IGNORES_TERM, { killGraceMs: 200 })];
      expect(await list[2]!.stdout.readLine()).toBe('ready');
      return list;
    });
    for (const child of children) expect(alive(child.pid)).toBe(true);
    await rt.shutdown();
    for (const child of children) expect(alive(child.pid)).toBe(false);
    expect(children.map((c) => c.exitStatus?.signal)).toEqual(['SIGTERM', 'SIGTERM', 'SIGKILL']);
    await expect(rt.run(() => spawnProcess('true', []))).rejects.toBeInstanceOf(RuntimeClosedError);
  });
});
