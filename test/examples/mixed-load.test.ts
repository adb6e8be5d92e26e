import { describe, expect, it } from 'vitest';
import { startMixedLoad, tasks } from '../../examples/mixed-load.js';
import { NotImplementedError } from '../../src/errors.js';
import { Runtime } from '../../src/index.js';

/** True once the work-stealing pool is registered (until then rt.exec throws NotImplementedError). */
async function poolAvailable(): Promise<boolean> {
  const rt = Runtime.builder().workers(1).build();
  try {
    await rt.exec(tasks.spin, 0);
    return true;
  } catch (err) {
    if (err instanceof NotImplementedError) return false;
    throw err;
  } finally {
    await rt.shutdown();
  }
}
import { request } from '../io/http-helpers.js';

describe('examples/mixed-load.ts', () => {
  it('/health answers while /cpu requests run on the worker pool', async (ctx) => {
    const demo = await startMixedLoad({ port: 0, workers: 2 });
    try {
      const port = demo.server.port;
      expect((await request(port, '/health')).body).toBe('ok');
      if (!(await poolAvailable())) ctx.skip(); // the work-stealing pool has not landed yet
      const probe = await request(port, '/cpu');
      expect(probe.status).toBe(200);
      expect(JSON.parse(probe.body).turns).toBeGreaterThan(0);
      // Saturate /cpu and ask /health at the same time: every request completes.
      const cpu = Array.from({ length: 40 }, () => request(port, '/cpu'));
      const health = Array.from({ length: 20 }, () => request(port, '/health'));
      const results = await Promise.all([...cpu, ...health]);
      expect(results.every((r) => r.status === 200)).toBe(true);
    } finally {
      await demo.stop();
    }
  });
});
