// examples/http-sse.ts on a memory-backend runtime with a paused VirtualClock: the tick and
// heartbeat schedule is virtual time, so the test checks the order of the frames and no
// duration (nothing here waits on the wall clock, and no real port is opened).
import { describe, expect, it } from 'vitest';
import { startSseDemo } from '../../examples/http-sse.js';
import { createRuntime } from '../../src/index.js';
import { request, VirtualClock } from '../../src/testing/index.js';
import { connectTo } from '../io/http-helpers.js';

/** Ticks (`tick N`) and heartbeats (`♥`) of a raw event stream, in order. */
function frames(text: string): string[] {
  return [...text.matchAll(/: heartbeat\n\n|event: tick\nid: (\d+)\n/g)].map((m) => (m[1] === undefined ? '♥' : `tick ${m[1]}`));
}

describe('examples/http-sse.ts', () => {
  it('serves the page and streams tick events with heartbeats on the runtime clock', async () => {
    const clock = new VirtualClock();
    const rt = clock.install(createRuntime({ io: 'memory' }));
    clock.pause();
    const demo = await startSseDemo({ runtime: rt, port: 0, tickMs: 1_000, heartbeatMs: 300 });
    try {
      expect(demo.server.backend).toBe('memory');
      const page = await request(demo.server, { path: '/' });
      expect(page.status).toBe(200);
      expect(page.body).toContain('EventSource');
      expect((await request(demo.server, { path: '/nope' })).status).toBe(404);

      const client = await connectTo(rt, demo.server.port);
      await client.stream.write('GET /events HTTP/1.1\r\nhost: x\r\n\r\n');
      await client.until((t) => t.includes('event: tick\nid: 1\n'), 'the first tick');
      expect(client.text).toMatch(/content-type: text\/event-stream/i);
      expect(client.text).toMatch(/id: 1\ndata: \{"n":1,/);
      expect(frames(client.text)).toEqual(['tick 1']);
      // Ticks at 0, 1000, 2000 of virtual time; heartbeats every 300 from the stream's start.
      await clock.advance(2_000);
      await client.until((t) => t.includes('event: tick\nid: 3\n'), 'the third tick');
      expect(frames(client.text)).toEqual(['tick 1', '♥', '♥', '♥', 'tick 2', '♥', '♥', '♥', 'tick 3']);
      await client.stream.close();
    } finally {
      await demo.stop();
    }
  });
});
