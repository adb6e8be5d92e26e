// serve() and HttpServer.close() awaited inside a task: the task goes on as itself, so its
// next wait stops at an abort (see the Task doc comment's list of task-aware awaits).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../../../src/runtime/runtime.js';
import { sleep } from '../../../src/index.js';
import { TaskAbortedError } from '../../../src/errors.js';
import { serve, type HttpServer } from '../../../src/io/http/index.js';

type Rt = ReturnType<typeof createRuntime>;

/** Runs `step` in a task, then aborts the task once it is past the step: the sleep after it must reject at once. */
async function stopsAfter(rt: Rt, step: () => Promise<unknown>): Promise<unknown> {
  let resumed = false;
  const task = rt.spawn(async () => {
    await step();
    resumed = true;
    await sleep(60_000);
  });
  for (let i = 0; i < 100_000 && !resumed; i++) await new Promise((resolve) => setImmediate(resolve));
  expect(resumed).toBe(true);
  task.abort(new Error('stop'));
  let outcome: unknown = 'still pending';
  task.catch((err: unknown) => (outcome = err));
  for (let i = 0; i < 10 && outcome === 'still pending'; i++) await new Promise((resolve) => setImmediate(resolve));
  return outcome;
}

describe.each(['memory', 'node'] as const)('serve() inside a task, on the %s backend', (backend) => {
  let rt: Rt;
  beforeEach(() => {
    rt = createRuntime({ io: backend });
  });
  afterEach(async () => {
    await rt.shutdown({ timeoutMs: 0 });
  });

  it('after await serve(...) and after await server.close(), the next wait is the task’s own', async () => {
    await rt.run(async () => {
      let server: HttpServer | undefined;
      const started = (): Promise<HttpServer> => {
        const serving = serve(() => ({ body: 'ok' }), { host: '127.0.0.1', port: 0 });
        void serving.then((s) => (server = s));
        return serving; // the task awaits serve()'s own promise
      };
      expect(await stopsAfter(rt, started)).toBeInstanceOf(TaskAbortedError);
      const other = await serve(() => ({ body: 'ok' }), { host: '127.0.0.1', port: 0 });
      expect(await stopsAfter(rt, () => other.close())).toBeInstanceOf(TaskAbortedError);
      await server!.close();
    });
  });
});
