// SSE: heartbeats and event timing come from a VirtualClock installed on the runtime, so
// these tests assert counts and order and never wait on wall-clock time. Streams run on
// both backends (the memory loopback and real sockets on 127.0.0.1); the backpressure test
// runs on the memory backend, where "nothing moves any more" is a deterministic state.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/runtime/runtime.js';
import { sleep } from '../../src/scheduler/time.js';
import { formatSseEvent, serve, sse, type HttpServer, type SseBody } from '../../src/io/http/index.js';
import { VirtualClock } from '../../src/testing/index.js';
import { connectTo, settle, until, type StreamReader } from './http-helpers.js';

type Rt = ReturnType<typeof createRuntime>;

/** A runtime on `backend` whose timers run on a paused virtual clock (time moves only on advance). */
function pausedRuntime(backend: 'memory' | 'node'): { rt: Rt; clock: VirtualClock } {
  const clock = new VirtualClock();
  const rt = clock.install(createRuntime({ io: backend }));
  clock.pause();
  return { rt, clock };
}

/** The events (`event:name`, or `data:payload` for unnamed ones) and heartbeats (`♥`) of a raw SSE response, in order. */
function frames(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/: heartbeat\n\n|event: (\w+)\n(?:id: \S+\n)?data: ([^\n]*)\n\n|data: ([^\n]*)\n\n/g)) {
    if (m[0].startsWith(':')) out.push('♥');
    else if (m[1] !== undefined) out.push(`${m[1]}:${m[2]}`);
    else out.push(`data:${m[3]}`);
  }
  return out;
}

const heartbeatsIn = (text: string): number => (text.match(/: heartbeat\n\n/g) ?? []).length;

async function openEvents(rt: Rt, server: HttpServer): Promise<StreamReader> {
  const reader = await connectTo(rt, server.port);
  await reader.stream.write('GET /events HTTP/1.1\r\nhost: x\r\n\r\n');
  return reader;
}

describe('sse()', () => {
  it('formats events in the text/event-stream format', () => {
    expect(formatSseEvent('hi')).toBe('data: hi\n\n');
    expect(formatSseEvent({ event: 'tick', id: 3, data: { n: 1 } })).toBe('event: tick\nid: 3\ndata: {"n":1}\n\n');
    expect(formatSseEvent({ data: 'a\nb', retry: 10 })).toBe('retry: 10\ndata: a\ndata: b\n\n');
  });
});

describe.each(['memory', 'node'] as const)('sse() on the %s backend, virtual clock', (backend) => {
  it('writes exactly one heartbeat per heartbeatMs of virtual time; client disconnect stops the producer', async () => {
    const { rt, clock } = pausedRuntime(backend);
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
        }, { heartbeatMs: 1_000 });
        return body;
      }, { host: '127.0.0.1', port: 0 }),
    );
    expect(server.backend).toBe(backend);
    const client = await openEvents(rt, server);
    await client.until((t) => t.includes('event: hello\ndata: first\n\n'), 'the first event');
    expect(client.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(client.text).toMatch(/content-type: text\/event-stream/i);
    expect(body!.stats).toMatchObject({ events: 1, heartbeats: 0 });

    await clock.advance(999); // just short of the first heartbeat
    expect(body!.stats.heartbeats).toBe(0);
    await clock.advance(1);
    expect(body!.stats.heartbeats).toBe(1);
    await clock.advance(2_000);
    expect(body!.stats.heartbeats).toBe(3);
    await client.until((t) => heartbeatsIn(t) === 3, 'three heartbeats on the wire');
    expect(frames(client.text)).toEqual(['hello:first', '♥', '♥', '♥']);

    await client.stream.close();
    await until(() => body!.stats.ended !== undefined && producerFinished, 'stream ended after disconnect');
    expect(body!.stats.ended).toBe('client');
    expect(body!.stats.events).toBe(1);
    await server.close();
    await rt.shutdown();
  });

  it('interleaves timed events and heartbeats in virtual-time order', async () => {
    const { rt, clock } = pausedRuntime(backend);
    let body: SseBody | undefined;
    const server = await rt.run(() =>
      serve(() => (body = sse(async function* (signal) {
        for (let n = 1; n <= 3; n++) {
          yield { event: 'tick', data: n };
          await sleep(n < 3 ? 1_000 : 500, { signal });
        }
        yield { event: 'bye', data: 'done' };
      }, { heartbeatMs: 300 })), { host: '127.0.0.1', port: 0 }),
    );
    const client = await openEvents(rt, server);
    await client.until((t) => t.includes('event: tick\ndata: 1\n\n'), 'the first tick');
    // Virtual time 0..2000: ticks at 0, 1000, 2000; heartbeats at 300, 600, 900, 1200, 1500, 1800.
    await clock.advance(2_000);
    await client.until((t) => t.includes('event: tick\ndata: 3\n\n'), 'the third tick');
    expect(frames(client.text)).toEqual(['tick:1', '♥', '♥', '♥', 'tick:2', '♥', '♥', '♥', 'tick:3']);
    expect(body!.stats).toMatchObject({ events: 3, heartbeats: 6, ended: undefined });
    // At 2500 (after heartbeats at 2100 and 2400) the source says `bye` and ends, and so
    // does the response (its last chunk; the keep-alive connection stays open).
    await clock.advance(1_000);
    await client.until((t) => t.endsWith('\r\n0\r\n\r\n'), 'the end of the response');
    expect(frames(client.text)).toEqual(['tick:1', '♥', '♥', '♥', 'tick:2', '♥', '♥', '♥', 'tick:3', '♥', '♥', 'bye:done']);
    expect(body!.stats).toMatchObject({ events: 4, heartbeats: 8, ended: 'done' });
    await client.stream.close();
    await server.close();
    await rt.shutdown();
  });

  it('graceful shutdown ends open SSE streams', async () => {
    const { rt, clock } = pausedRuntime(backend);
    let body: SseBody | undefined;
    const server = await rt.run(() =>
      serve(() => (body = sse(async function* (signal) {
        yield 'open';
        await sleep(1_000_000, { signal }).catch(() => undefined);
      }, { heartbeatMs: 500 })), { host: '127.0.0.1', port: 0 }),
    );
    const client = await openEvents(rt, server);
    await client.until((t) => t.includes('data: open\n\n'), 'first event');
    await clock.advance(1_000);
    await client.until((t) => heartbeatsIn(t) === 2, 'two heartbeats');
    await server.close();
    expect(body!.stats.ended).toBe('shutdown');
    await client.toEnd(); // the client sees the end of the stream
    expect(frames(client.text)).toEqual(['data:open', '♥', '♥']);
    await client.stream.close();
    await rt.shutdown();
  });
});

describe('sse() backpressure', () => {
  it('stops producing while the client is slow, resumes when it reads again (memory backend)', async () => {
    const { rt } = pausedRuntime('memory');
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
    const client = await openEvents(rt, server);
    await client.until((t) => t.length > 0, 'first bytes');
    // The client stops reading. Everything is in memory, so once no counter moves for many
    // event-loop turns, the stream has stalled for good.
    await settle(() => (body?.stats.pauses ?? 0) >= 1, 'the stream pauses on backpressure');
    let last = -1;
    let quiet = 0;
    await settle(() => {
      quiet = produced === last ? quiet + 1 : 0;
      last = produced;
      return quiet >= 50;
    }, 'production stops');
    const stalledAt = produced;
    // Bounded: the socket buffers plus the threshold, not an unbounded queue.
    expect(stalledAt).toBeLessThan(20);
    for (let i = 0; i < 200; i++) await new Promise((r) => setImmediate(r));
    expect(produced).toBe(stalledAt);
    // The client reads again.
    while (produced <= stalledAt + 10) {
      const chunk = await client.stream.read();
      expect(chunk).not.toBeNull();
    }
    expect(body!.stats.pauses).toBeGreaterThanOrEqual(1);
    await client.stream.close();
    await settle(() => body!.stats.ended !== undefined, 'stream ended');
    expect(body!.stats.ended).toBe('client');
    await server.close();
    await rt.shutdown();
  });

  it('stops producing while a real TCP client is slow, resumes when it reads again (node backend)', async () => {
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
      }, { host: '127.0.0.1', port: 0 }),
    );
    const socket = connect({ host: '127.0.0.1', port: server.port });
    let received = 0;
    socket.on('data', (c: Buffer) => (received += c.length));
    socket.write('GET /events HTTP/1.1\r\nhost: x\r\n\r\n');
    await until(() => received > 0, 'first bytes');
    socket.pause(); // the client stops reading
    await until(() => (body?.stats.pauses ?? 0) >= 1, 'the stream pauses on backpressure');
    // Kernel buffers fill at their own pace: wait until production has not moved for a
    // while of event-loop polls (a count of polls, not a duration that is asserted).
    let last = -1;
    let quiet = 0;
    await until(() => {
      quiet = produced === last ? quiet + 1 : 0;
      last = produced;
      return quiet >= 20;
    }, 'production stops', 10_000);
    const stalledAt = produced;
    socket.resume(); // the client reads again
    await until(() => produced > stalledAt + 10, 'production resumes');
    socket.destroy();
    await until(() => body!.stats.ended !== undefined, 'stream ended');
    await server.close();
    await rt.shutdown();
  });
});
