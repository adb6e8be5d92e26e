// serve() on the memory backend: the server parses connections of the in-memory loopback,
// so these tests open no real port (the last test checks that).
import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/runtime/runtime.js';
import { HttpError, json, serve, type HttpServer, type ServeOptions } from '../../src/io/http/index.js';
import { memoryBackend, request, VirtualClock } from '../../src/testing/index.js';
import { connectTo, gatedServer, rawOver, responsesIn, settle, type StreamReader } from './http-helpers.js';

type Rt = ReturnType<typeof createRuntime>;

async function handler(req: { path: string; method: string; json(): Promise<unknown>; text(): Promise<string> }) {
  switch (req.path) {
    case '/health':
      return { status: 200, body: 'ok' };
    case '/echo':
      return json({ method: req.method, got: await req.json() });
    case '/text':
      return { body: await req.text() };
    case '/teapot':
      throw new HttpError(418, 'short and stout');
    default:
      return { status: 404, body: 'not found' };
  }
}

/** Number of listening TCP server handles in this process. */
function tcpServerHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
}

describe('serve() on the memory backend', () => {
  let rt: Rt;
  let server: HttpServer | undefined;
  beforeEach(() => {
    rt = createRuntime({ io: 'memory' });
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await rt.shutdown();
  });

  const start = (options?: ServeOptions): Promise<HttpServer> =>
    rt.run(async () => (server = await serve(handler, { host: '127.0.0.1', port: 0, ...options })));

  it('answers /health, a JSON body and 404 over the in-memory loopback', async () => {
    const s = await start();
    expect(s.backend).toBe('memory');
    const health = await request(s, { path: '/health' });
    expect([health.status, health.body]).toEqual([200, 'ok']);
    expect(health.headers['content-type']).toMatch(/text\/plain/);
    const echo = await request(s, { method: 'POST', path: '/echo', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
    expect(echo.status).toBe(200);
    expect(echo.json()).toEqual({ method: 'POST', got: { a: 1 } });
    expect((await request(s, { method: 'POST', path: '/echo', body: 'not json' })).status).toBe(400);
    const teapot = await request(s, { path: '/teapot' });
    expect([teapot.status, teapot.body]).toEqual([418, 'short and stout']);
    const missing = await request(s, { path: '/nope' });
    expect([missing.status, missing.body]).toEqual([404, 'not found']);
    expect(s.requests).toBe(5);
  });

  it('keeps a connection alive across requests', async () => {
    const s = await start();
    const conn = await connectTo(rt, s.port);
    await conn.stream.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\n');
    await conn.until((t) => responsesIn(t) === 1, 'first reply');
    await conn.stream.write('GET /nope HTTP/1.1\r\nhost: x\r\n\r\n');
    await conn.until((t) => responsesIn(t) === 2, 'second reply');
    expect(conn.text.match(/HTTP\/1\.1 \d+/g)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 404']);
    expect(conn.text).toContain('\r\ncontent-length: 2\r\n');
    expect(conn.text).toMatch(/\r\n\r\nok(HTTP|$)/);
    expect(conn.text.endsWith('\r\n\r\nnot found')).toBe(true);
    await conn.stream.close();
  });

  it('malformed request line → 400, then a good request succeeds', async () => {
    const s = await start();
    const bad = await rawOver(rt, s.port, 'THIS IS NOT HTTP\r\n\r\n');
    expect(bad.response).toMatch(/^HTTP\/1\.1 400 /);
    expect(bad.closed).toBe(true);
    expect((await request(s, { path: '/health' })).status).toBe(200);
  });

  it('oversized headers → 431, then a good request succeeds', async () => {
    const s = await start({ limits: { headerBytes: 1024 } });
    const bad = await rawOver(rt, s.port, `GET /health HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(4096)}\r\n\r\n`);
    expect(bad.response).toMatch(/^HTTP\/1\.1 431 /);
    expect(bad.closed).toBe(true);
    expect((await request(s, { path: '/health' })).status).toBe(200);
  });

  it('body over the limit → 413 (Content-Length and chunked), then a good request succeeds', async () => {
    const s = await start({ limits: { bodyBytes: 100 } });
    expect((await request(s, { method: 'POST', path: '/text', body: 'x'.repeat(500) })).status).toBe(413);
    const chunked = await rawOver(rt, s.port, `POST /text HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n1f4\r\n${'y'.repeat(500)}\r\n0\r\n\r\n`);
    expect(chunked.response).toMatch(/^HTTP\/1\.1 413 /);
    const ok = await request(s, { method: 'POST', path: '/text', body: 'small' });
    expect([ok.status, ok.body]).toEqual([200, 'small']);
  });

  it('request() rejects with the signal reason when aborted', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let aborted = false;
    server = await rt.run(() =>
      serve(async (req) => {
        req.signal.addEventListener('abort', () => (aborted = true));
        await gate;
        return { body: 'late' };
      }, { port: 0 }),
    );
    const controller = new AbortController();
    const pending = request(server, { path: '/', signal: controller.signal });
    await settle(() => server!.requests === 1, 'request reached the handler');
    controller.abort(new Error('gave up'));
    await expect(pending).rejects.toThrow('gave up');
    await settle(() => aborted, 'the handler saw the client leave');
    release();
  });
});

/** Lets every pending continuation and stream event run (no timers, no clock). */
async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/** Starts reading `conn` to its end in the background; `conn.ended` turns true when the server closes it. */
function watchClose(conn: StreamReader): Promise<string> {
  return conn.toEnd();
}

describe('serve() on the memory backend: timeouts on the runtime clock (paused VirtualClock)', () => {
  let rt: Rt;
  let clock: VirtualClock;
  let server: HttpServer | undefined;
  beforeEach(() => {
    clock = new VirtualClock();
    rt = clock.install(createRuntime({ io: 'memory' }));
    clock.pause();
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await rt.shutdown();
  });

  const start = (limits: ServeOptions['limits']): Promise<HttpServer> =>
    rt.run(async () => (server = await serve(handler, { port: 0, limits })));

  it('an idle keep-alive connection is closed keepAliveTimeoutMs (+ 1 s of grace, as node:http gives) after its last response, not before', async () => {
    const s = await start({ keepAliveTimeoutMs: 2_000 });
    const conn = await connectTo(rt, s.port);
    await conn.stream.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\n');
    await conn.until((t) => responsesIn(t) === 1, 'the reply');
    expect(conn.text).toMatch(/keep-alive: timeout=2/i);
    const closed = watchClose(conn);
    await clock.advance(2_000);
    await turns();
    expect(conn.ended).toBe(false);
    await clock.advance(999); // the server waits keepAliveTimeout + 1000 ms before closing (as node:http does)
    await turns();
    expect(conn.ended).toBe(false);
    await clock.advance(1);
    await closed;
    expect(conn.ended).toBe(true);
    expect(responsesIn(conn.text)).toBe(1);
    await conn.stream.close();
    // The server itself is fine.
    expect((await request(s, { path: '/health' })).body).toBe('ok');
  });

  it('a keep-alive connection that sends its next request in time stays open; the idle limit restarts after each response', async () => {
    const s = await start({ keepAliveTimeoutMs: 2_000 });
    const conn = await connectTo(rt, s.port);
    const closed = (async () => {
      for (let n = 1; n <= 3; n++) {
        await conn.stream.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\n');
        await conn.until((t) => responsesIn(t) === n, `reply ${n}`);
        if (n < 3) await clock.advance(2_500); // idle, but under the 3 000 ms the server allows
      }
      return watchClose(conn);
    })();
    await settle(() => responsesIn(conn.text) === 3, 'three replies on one connection');
    await turns();
    expect(conn.ended).toBe(false);
    expect(clock.now()).toBe(5_000); // longer than one idle period in total
    await clock.advance(2_999);
    await turns();
    expect(conn.ended).toBe(false);
    await clock.advance(1);
    await closed;
    expect(conn.ended).toBe(true);
    expect(conn.text.match(/HTTP\/1\.1 \d+/g)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 200']);
    await conn.stream.close();
  });

  it('a client that sends headers too slowly gets 408 and is closed after requestTimeoutMs, not before; a good request then succeeds', async () => {
    const s = await start({ requestTimeoutMs: 1_000 });
    const slow = await connectTo(rt, s.port);
    await slow.stream.write('GET /health HTTP/1.1\r\nhost: x\r\n'); // the blank line never comes
    const closed = watchClose(slow);
    await clock.advance(999);
    await turns();
    expect(slow.ended).toBe(false);
    await clock.advance(1);
    expect(await closed).toMatch(/^HTTP\/1\.1 408 /);
    expect(slow.ended).toBe(true);
    await slow.stream.close();
    const ok = await request(s, { path: '/health' });
    expect([ok.status, ok.body]).toEqual([200, 'ok']);
  });

  it('requestTimeoutMs counts from the opening of a silent connection and covers a slow body', async () => {
    const s = await start({ requestTimeoutMs: 1_000 });
    const silent = await connectTo(rt, s.port);
    const silentClosed = watchClose(silent);
    await clock.advance(400);
    const slowBody = await connectTo(rt, s.port);
    await slowBody.stream.write('POST /text HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\nabc');
    const bodyClosed = watchClose(slowBody);
    await clock.advance(599);
    await turns();
    expect([silent.ended, slowBody.ended]).toEqual([false, false]);
    await clock.advance(1); // t = 1000: the silent connection's limit
    await silentClosed;
    expect(silent.ended).toBe(true);
    await clock.advance(300);
    await slowBody.stream.write('defg'); // more body, still not all of it: the limit counts from the first byte
    await clock.advance(99);
    await turns();
    expect(slowBody.ended).toBe(false);
    await clock.advance(1); // t = 1400
    expect(await bodyClosed).toMatch(/^HTTP\/1\.1 408 /);
    await Promise.all([silent.stream.close(), slowBody.stream.close()]);
    expect((await request(s, { method: 'POST', path: '/text', body: 'whole' })).body).toBe('whole');
  });

  it('between keep-alive requests only keepAliveTimeoutMs counts; the next request gets its own requestTimeoutMs', async () => {
    const s = await start({ requestTimeoutMs: 1_000, keepAliveTimeoutMs: 10_000 });
    const conn = await connectTo(rt, s.port);
    await conn.stream.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\n');
    await conn.until((t) => responsesIn(t) === 1, 'first reply');
    await clock.advance(5_000); // idle well past requestTimeoutMs
    await turns();
    await conn.stream.write('GET /health HTTP/1.1\r\n'); // the next request starts, slowly
    const closed = watchClose(conn);
    await clock.advance(999);
    await turns();
    expect(conn.ended).toBe(false);
    await clock.advance(1);
    const text = await closed;
    expect(text.match(/HTTP\/1\.1 \d+/g)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 408']);
    await conn.stream.close();
  });
});

describe('serve() on the memory backend: graceful shutdown', () => {
  it('stops accepting, finishes in-flight requests, closes idle keep-alive connections, then resolves', async () => {
    const rt = createRuntime({ io: 'memory' });
    const { server, release, started } = await gatedServer(rt);
    // An idle keep-alive connection: one request done, connection left open.
    const idle = await connectTo(rt, server.port);
    await idle.stream.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\n');
    await idle.until((t) => responsesIn(t) === 1, 'keep-alive reply');
    expect(idle.text).toMatch(/^HTTP\/1\.1 200 [\s\S]*\r\n\r\nok$/);

    const inflight = request(server, { path: '/slow' });
    await settle(() => started() === 1, 'slow request started');
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    await idle.toEnd(); // the server closes the idle connection
    expect(idle.ended).toBe(true);
    expect(closed).toBe(false);
    await expect(request(server, { path: '/health' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(memoryBackend(rt).net.ports()).not.toContain(server.port);
    release();
    const res = await inflight;
    expect([res.status, res.body, res.headers.connection]).toEqual([200, 'finished', 'close']);
    await closing;
    expect(closed).toBe(true);
    await idle.stream.close();
    await rt.shutdown();
  });

  it('the signal option shuts the server down, and runtime shutdown closes servers', async () => {
    const rt = createRuntime({ io: 'memory' });
    const controller = new AbortController();
    const a = await rt.run(() => serve(() => ({ body: 'a' }), { port: 0, signal: controller.signal }));
    const b = await rt.run(() => serve(() => ({ body: 'b' }), { port: 0 }));
    expect(a.port).not.toBe(b.port);
    expect((await request(a, { path: '/' })).body).toBe('a');
    expect((await request(b, { path: '/' })).body).toBe('b');
    controller.abort();
    await a.closed;
    await rt.shutdown();
    await b.closed;
    expect(b.closing).toBe(true);
  });
});

describe('serve() on the memory backend opens no real port', () => {
  it('listens on the in-memory network only; a real TCP connection never reaches it', async () => {
    const rt = createRuntime({ io: 'memory' });
    const before = tcpServerHandles();
    const server = await rt.run(() => serve(() => ({ body: 'memory' }), { host: '127.0.0.1', port: 0 }));
    expect(server.backend).toBe('memory');
    expect(tcpServerHandles()).toBe(before);
    expect(memoryBackend(rt).net.ports()).toContain(server.port);
    expect((await request(server, { path: '/' })).body).toBe('memory');
    const handled = server.requests;
    // Whatever answers (or refuses) on the real 127.0.0.1 at this number, it is not this server.
    await new Promise<void>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: server.port });
      socket.on('connect', () => socket.end('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'));
      socket.on('data', () => undefined);
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
    });
    expect(server.requests).toBe(handled);
    await server.close();
    await rt.shutdown();
  });

  it('the same check on the node backend does see a listening socket (control), and request() works there too', async () => {
    const rt = createRuntime({ io: 'node' });
    const before = tcpServerHandles();
    const server = await rt.run(() => serve(() => ({ body: 'node' }), { host: '127.0.0.1', port: 0 }));
    expect(server.backend).toBe('node');
    expect(tcpServerHandles()).toBe(before + 1);
    expect((await request(server, { path: '/' })).body).toBe('node');
    await server.close();
    await rt.shutdown();
  });
});
