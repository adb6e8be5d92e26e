import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/runtime/runtime.js';
import { sleep } from '../../src/scheduler/time.js';
import { formatSseEvent, serve, sse, type SseBody } from '../../src/io/http/index.js';
import { until } from './http-helpers.js';

describe('sse()', () => {
  it('formats events in the text/event-stream format', () => {
    expect(formatSseEvent('hi')).toBe('data: hi\n\n');
    expect(formatSseEvent({ event: 'tick', id: 3, data: { n: 1 } })).toBe('event: tick\nid: 3\ndata: {"n":1}\n\n');
    expect(formatSseEvent({ data: 'a\nb', retry: 10 })).toBe('retry: 10\ndata: a\ndata: b\n\n');
  });

  it('streams events and heartbeats on the runtime clock; client disconnect stops the producer', async () => {
    const rt = createRuntime({ io: 'node' });
    let body: SseBody | undefined;
    let producerFinished = false;
    const server = await rt.run(() =>
      serve(() => {
        body = sse(async function* (signal) {
          try {
            yield { event: 'hello', data: 'first' };
            // Then silence: only heartbeats flow until the client leaves.
            await sleep(1_000_000, { signal }).catch(() => undefined);
          } finally {
            producerFinished = true;
          }
        }, { heartbeatMs: 5 });
        return body;
      }, { port: 0 }),
    );
    const socket = connect({ host: '127.0.0.1', port: server.port });
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString()));
    socket.write('GET /events HTTP/1.1\r\nhost: x\r\n\r\n');
    await until(() => (text.match(/: heartbeat/g) ?? []).length >= 2, 'two heartbeats');
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text).toMatch(/content-type: text\/event-stream/i);
    expect(text).toContain('event: hello\ndata: first\n\n');
    expect(body!.stats.events).toBe(1);
    expect(body!.stats.heartbeats).toBeGreaterThanOrEqual(2);
    socket.destroy();
    await until(() => body!.stats.ended !== undefined && producerFinished, 'stream ended after disconnect');
    expect(body!.stats.ended).toBe('client');
    await server.close();
    await rt.shutdown();
  });

  it('stops producing while the client is slow, resumes when it reads again', async () => {
    const rt = createRuntime({ io: 'node' });
    let produced = 0;
    let body: SseBody | undefined;
    const event = 'x'.repeat(16 * 1024);
    const server = await rt.run(() =>
      serve(() => {
        body = sse(async function* () {
          for (;;) {
            produced++;
            yield event;
          }
        }, { heartbeatMs: 0, highWaterMark: 64 * 1024 });
        return body;
      }, { port: 0 }),
    );
    const socket = connect({ host: '127.0.0.1', port: server.port });
    let received = 0;
    socket.on('data', (c: Buffer) => (received += c.length));
    socket.write('GET /events HTTP/1.1\r\nhost: x\r\n\r\n');
    await until(() => received > 0, 'first bytes');
    socket.pause(); // the client stops reading
    await until(() => (body?.stats.pauses ?? 0) >= 1, 'the stream pauses on backpressure');
    // Let every buffer between the two ends fill, then check that production has stopped.
    let last = -1;
    await until(() => {
      const stable = produced === last;
      last = produced;
      return stable;
    }, 'production stops', 10_000);
    const stalledAt = produced;
    for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 5));
    expect(produced).toBe(stalledAt);
    socket.resume(); // the client reads again
    await until(() => produced > stalledAt + 10, 'production resumes');
    socket.destroy();
    await until(() => body!.stats.ended !== undefined, 'stream ended');
    await server.close();
    await rt.shutdown();
  });

  it('graceful shutdown ends open SSE streams', async () => {
    const rt = createRuntime({ io: 'node' });
    let body: SseBody | undefined;
    const server = await rt.run(() =>
      serve(() => (body = sse(async function* (signal) {
        yield 'open';
        await sleep(1_000_000, { signal }).catch(() => undefined);
      }, { heartbeatMs: 0 })), { port: 0 }),
    );
    const socket = connect({ host: '127.0.0.1', port: server.port });
    let text = '';
    let closed = false;
    socket.on('data', (c: Buffer) => (text += c.toString()));
    socket.on('close', () => (closed = true));
    socket.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    await until(() => text.includes('data: open'), 'first event');
    await server.close();
    expect(body!.stats.ended).toBe('shutdown');
    await until(() => closed, 'client sees the end');
    await rt.shutdown();
  });
});
