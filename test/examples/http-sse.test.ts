import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startSseDemo } from '../../examples/http-sse.js';
import { request, until } from '../io/http-helpers.js';

describe('examples/http-sse.ts', () => {
  it('serves the page and streams tick events with heartbeats', async () => {
    const demo = await startSseDemo({ port: 0, tickMs: 5, heartbeatMs: 5 });
    try {
      const page = await request(demo.server.port, '/');
      expect(page.body).toContain('EventSource');
      const socket = connect({ host: '127.0.0.1', port: demo.server.port });
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString()));
      socket.write('GET /events HTTP/1.1\r\nhost: x\r\n\r\n');
      await until(() => (text.match(/event: tick/g) ?? []).length >= 3 && text.includes(': heartbeat'), 'ticks and a heartbeat');
      expect(text).toMatch(/id: 1\ndata: \{"n":1,/);
      socket.destroy();
    } finally {
      await demo.stop();
    }
  });
});
