// output(): exit status and both streams collected, input fed to stdin, a timeout on the
// runtime clock (TimeoutError after the child is reaped), and the output size limit.
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../../../src/runtime/runtime.js';
import { OutputTooLargeError, TimeoutError } from '../../../src/errors.js';
import { VirtualClock } from '../../../src/testing/index.js';
import { output } from '../../../src/io/process/index.js';

let rt: ReturnType<typeof createRuntime> | undefined;
afterEach(async () => {
  await rt?.shutdown();
  rt = undefined;
});

describe('output on the node backend', () => {
  it('returns the exit code and both streams; a non-zero exit is not an error', async () => {
    rt = createRuntime({ io: 'node' });
    await rt.run(async () => {
      const result = await output('sh', ['-c', 'echo out; echo err >&2; exit 3']);
      expect(result.code).toBe(3);
      expect(result.signal).toBeNull();
      expect(Buffer.from(result.stdout).toString()).toBe('out\n');
      expect(Buffer.from(result.stderr).toString()).toBe('err\n');
      const cat = await output('cat', [], { input: 'fed through stdin' });
      expect(Buffer.from(cat.stdout).toString()).toBe('fed through stdin');
      expect((await output('true')).code).toBe(0);
    });
  });

  it('kills the child past maxOutputBytes', async () => {
    rt = createRuntime({ io: 'node' });
    await rt.run(async () => {
      await expect(output('head', ['-c', '100000', '/dev/zero'], { maxOutputBytes: 1000 })).rejects.toBeInstanceOf(OutputTooLargeError);
      expect((rt!.metrics() as unknown as { process: { alive: number } }).process.alive).toBe(0);
    });
  });

  it('times out on the runtime clock: TimeoutError once the child is reaped', async () => {
    const clock = new VirtualClock();
    rt = clock.install(createRuntime({ io: 'node' }));
    clock.pause();
    await rt.run(async () => {
      const pending = output('sleep', ['1000'], { timeoutMs: 2_000 });
      const settled = pending.catch((e: unknown) => e);
      await clock.advance(2_000);
      const err = await settled;
      expect(err).toBeInstanceOf(TimeoutError);
      expect((err as Error).message).toContain('SIGTERM');
    });
  });
});
