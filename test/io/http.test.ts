import { createHook } from 'node:async_hooks';
import { get as httpGet } from 'node:http';
import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/runtime/runtime.js';
import { currentRuntime } from '../../src/scheduler/combinators.js';
import { sleep } from '../../src/scheduler/time.js';
import { VirtualClock } from '../../src/testing/index.js';
import { HttpError, json, serve, type HttpServer } from '../../src/io/http/index.js';
import { setRequestTracer } from '../../src/io/http/request-tracer.js';
import { gatedServer, parseResponses, raw, request, until } from './http-helpers.js';

describe('zokio/http serve()', () => {
  let rt: ReturnType<typeof createRuntime>;
  let server: HttpServer | undefined;
  beforeEach(() => {
    rt = createRuntime({ io: 'node' });
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await rt.shutdown();
  });

  const start = (limits?: Parameters<typeof serve>[1]): Promise<HttpServer> =>
    rt.run(async () => {
      server = await serve(async (req) => {
        switch (req.path) {
          case '/health':
            return { status: 200, body: 'ok' };
          case '/runtime':
            return { body: currentRuntime() === rt ? 'same runtime' : 'other runtime' };
          case '/echo':
            return json({ method: req.method, got: await req.json() });
          case '/text':
            return { body: await req.text() };
          case '/response':
            return new Response('from Response', { status: 201, headers: { 'x-kind': 'whatwg' } });
          case '/teapot':
            throw new HttpError(418, 'short and stout');
          case '/boom':
            throw new Error('bug');
          case '/stream':
            return { headers: { 'content-type': 'text/plain' }, body: (async function* () { yield 'a'; yield new Uint8Array([98]); yield 'c'; })() };
          default:
            return { status: 404 };
        }
      }, { host: '127.0.0.1', port: 0, ...limits });
      return server;
    });

  it('answers plain objects, JSON, WHATWG Responses, streams and errors; handlers run as runtime tasks', async () => {
    const s = await start();
    expect(s.port).toBeGreaterThan(0);
    const spawnedBefore = rt.metrics().tasks.spawned;
    const health = await request(s.port, '/health');
    expect(health.status).toBe(200);
    expect(health.body).toBe('ok');
    expect(health.headers['content-type']).toMatch(/text\/plain/);
    expect(rt.metrics().tasks.spawned).toBe(spawnedBefore + 1);
    expect((await request(s.port, '/runtime')).body).toBe('same runtime');
    const echo = await request(s.port, '/echo', { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
    expect(JSON.parse(echo.body)).toEqual({ method: 'POST', got: { a: 1 } });
    expect((await request(s.port, '/echo', { method: 'POST', body: 'not json' })).status).toBe(400);
    const resp = await request(s.port, '/response');
    expect([resp.status, resp.body, resp.headers['x-kind']]).toEqual([201, 'from Response', 'whatwg']);
    const teapot = await request(s.port, '/teapot');
    expect([teapot.status, teapot.body]).toEqual([418, 'short and stout']);
    expect((await request(s.port, '/boom')).status).toBe(500);
    expect((await request(s.port, '/stream')).body).toBe('abc');
    expect((await request(s.port, '/nope')).status).toBe(404);
  });

  it('byte bodies of every size arrive exact, after a head with a latin1 header value (one write when small, two when large)', async () => {
    const sizes = [1, 100, 16 * 1024, 16 * 1024 + 1, 100_000];
    const bodyOf = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff);
    server = await rt.run(() =>
      serve((req) => ({ headers: { 'content-type': 'application/octet-stream', 'x-name': 'caf\xe9' }, body: bodyOf(Number(req.path.slice(1))) }), { port: 0 }),
    );
    const port = server.port;
    for (const n of sizes) {
      const got = await new Promise<{ body: Buffer; name: string | undefined; length: string | undefined }>((resolve, reject) => {
        httpGet({ host: '127.0.0.1', port, path: `/${n}`, agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ body: Buffer.concat(chunks), name: res.rawHeaders[res.rawHeaders.indexOf('x-name') + 1], length: res.headers['content-length'] }));
          res.on('error', reject);
        }).on('error', reject);
      });
      expect(got.length).toBe(String(n));
      expect(got.name).toBe('caf\xe9');
      expect(got.body.equals(Buffer.from(bodyOf(n)))).toBe(true);
    }
  });

  it('malformed request line → 400, then a good request succeeds', async () => {
    const s = await start();
    const bad = await raw(s.port, 'THIS IS NOT HTTP\r\n\r\n');
    expect(bad.response).toMatch(/^HTTP\/1\.1 400 /);
    expect(bad.closed).toBe(true);
    expect((await request(s.port, '/health')).status).toBe(200);
  });

  it('oversized headers → 431, then a good request succeeds', async () => {
    const s = await start({ limits: { headerBytes: 1024 } });
    const bad = await raw(s.port, `GET /health HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(4096)}\r\n\r\n`);
    expect(bad.response).toMatch(/^HTTP\/1\.1 431 /);
    expect(bad.closed).toBe(true);
    expect((await request(s.port, '/health')).status).toBe(200);
  });

  it('body over the limit → 413 (Content-Length and chunked), then a good request succeeds', async () => {
    const s = await start({ limits: { bodyBytes: 100 } });
    const declared = await request(s.port, '/text', { method: 'POST', body: 'x'.repeat(500) });
    expect(declared.status).toBe(413);
    const chunked = await raw(s.port, `POST /text HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n1f4\r\n${'y'.repeat(500)}\r\n0\r\n\r\n`);
    expect(chunked.response).toMatch(/^HTTP\/1\.1 413 /);
    // Declared too long, to a handler that never reads the body: refused before it runs.
    const unread = await raw(s.port, `POST /health HTTP/1.1\r\nhost: x\r\nCONTENT-LENGTH: 500\r\n\r\n${'z'.repeat(500)}`);
    expect(unread.response).toMatch(/^HTTP\/1\.1 413 /);
    const ok = await request(s.port, '/text', { method: 'POST', body: 'small' });
    expect([ok.status, ok.body]).toEqual([200, 'small']);
  });

  it('a client that sends headers too slowly is closed after requestTimeoutMs, then a good request succeeds', async () => {
    const s = await start({ limits: { requestTimeoutMs: 200 } });
    // Half a request head, then silence: the server must close the connection by itself.
    const slow = await raw(s.port, 'GET /health HTTP/1.1\r\nhost: x\r\n', { keepOpenAfterWrite: true });
    expect(slow.closed).toBe(true);
    expect(slow.response === '' || /^HTTP\/1\.1 408 /.test(slow.response)).toBe(true);
    expect((await request(s.port, '/health')).status).toBe(200);
  });

  it('answers pipelined requests over TCP in order, and a request whose client already ended its side', async () => {
    const s = await start();
    const paths = ['/health', '/runtime', '/stream', '/nope', '/health'];
    const wire = paths.map((p) => `GET ${p} HTTP/1.1\r\nhost: x\r\n\r\n`).join('');
    // raw() ends the client's side right after writing: the responses still come, then the close.
    const all = await raw(s.port, wire);
    expect(parseResponses(all.response).map((r) => [r.status, r.body])).toEqual([
      [200, 'ok'],
      [200, 'same runtime'],
      [200, 'abc'],
      [404, ''],
      [200, 'ok'],
    ]);
    expect(all.closed).toBe(true);
  });

  it('calls the registered request tracer around each handler', async () => {
    const seen: string[] = [];
    const previous = setRequestTracer(async (req, next) => {
      seen.push(`${req.method} ${req.url} ${String(req.headers['traceparent'])}`);
      return next();
    });
    try {
      const s = await start();
      const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      expect((await request(s.port, '/health', { headers: { traceparent: tp } })).status).toBe(200);
      expect(seen).toEqual([`GET /health ${tp}`]);
    } finally {
      setRequestTracer(previous);
    }
  });

  it('a synchronous plain handler runs in the runtime\'s context and is answered with no task and no promise per request', async () => {
    server = await rt.run(() => serve((req) => ({ body: `${req.path} ${currentRuntime() === rt ? 'same runtime' : 'other runtime'}` }), { port: 0 }));
    const spawnedBefore = rt.metrics().tasks.spawned;
    expect((await request(server.port, '/a')).body).toBe('/a same runtime');
    expect(rt.metrics().tasks.spawned).toBe(spawnedBefore);

    // 200 pipelined requests on one raw socket (callbacks only on the client side): count
    // the promises created in this process until every response is in.
    const n = 200;
    let promises = 0;
    const hook = createHook({ init: (_id, type) => void (type === 'PROMISE' && promises++) });
    const replies = await new Promise<number>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: server!.port });
      let text = '';
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        const count = text.split('HTTP/1.1 200 ').length - 1;
        if (count === n) {
          hook.disable();
          socket.destroy();
          resolve(count);
        }
      });
      socket.on('connect', () => {
        hook.enable();
        socket.write('GET /b HTTP/1.1\r\nhost: x\r\n\r\n'.repeat(n));
      });
    });
    expect(replies).toBe(n);
    // Before: five per request (the task's async body and its awaits). A few may come from the test runner.
    expect(promises).toBeLessThan(n / 10);
  });

  it('a synchronous answer that is not an object literal (a class instance, a Response) goes through a task', async () => {
    class Answer {
      readonly status = 202;
      readonly body = 'from a class';
    }
    server = await rt.run(() => serve((req) => (req.path === '/class' ? new Answer() : new Response('whatwg', { status: 203 })), { port: 0 }));
    const spawnedBefore = rt.metrics().tasks.spawned;
    expect(await request(server.port, '/class')).toMatchObject({ status: 202, body: 'from a class' });
    expect(await request(server.port, '/response')).toMatchObject({ status: 203, body: 'whatwg' });
    expect(rt.metrics().tasks.spawned).toBe(spawnedBefore + 2);
  });

  it('a response still in flight (a promise, a stream) is a runtime task', async () => {
    server = await rt.run(() =>
      serve(async (req) => {
        if (req.path === '/stream') return { body: (async function* () { yield 'x'; yield 'y'; })() };
        await undefined;
        return { body: 'later' };
      }, { port: 0 }),
    );
    const spawnedBefore = rt.metrics().tasks.spawned;
    expect((await request(server.port, '/')).body).toBe('later');
    expect((await request(server.port, '/stream')).body).toBe('xy');
    expect(rt.metrics().tasks.spawned).toBe(spawnedBefore + 2);
    expect(rt.metrics().tasks.alive).toBe(0);
  });
});

describe('zokio/http graceful shutdown', () => {
  it('rt.shutdown() lets an in-flight handler finish its runtime sleep before the timers stop (auto-advancing VirtualClock)', async () => {
    const clock = new VirtualClock();
    const rt = clock.install(createRuntime({ io: 'node' }));
    let started = false;
    const server = await rt.run(() =>
      serve(async () => {
        started = true;
        await sleep(1_000);
        return { body: 'slept' };
      }, { port: 0 }),
    );
    const pending = request(server.port, '/');
    await until(() => started, 'the handler started');
    const shutdown = rt.shutdown();
    const res = await pending;
    expect([res.status, res.body]).toEqual([200, 'slept']);
    await shutdown;
    await server.closed;
  });

  it('stops accepting, finishes in-flight requests, closes idle keep-alive sockets, then resolves', async () => {
    const rt = createRuntime({ io: 'node' });
    const { server, release, started } = await gatedServer(rt);
    // An idle keep-alive connection: one request done, socket left open.
    const idle = connect({ host: '127.0.0.1', port: server.port });
    let idleClosed = false;
    idle.on('close', () => (idleClosed = true));
    idle.on('error', () => undefined);
    let idleReply = '';
    idle.on('data', (c: Buffer) => (idleReply += c.toString()));
    idle.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\n');
    await until(() => idleReply.includes('ok'), 'keep-alive reply');

    const inflight = request(server.port, '/slow');
    await until(() => started() === 1, 'slow request started');
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    await until(() => idleClosed, 'idle keep-alive socket closed');
    expect(closed).toBe(false);
    await expect(request(server.port, '/health')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    release();
    const res = await inflight;
    expect([res.status, res.body]).toEqual([200, 'finished']);
    await closing;
    expect(closed).toBe(true);
    await rt.shutdown();
  });

  it('the signal option shuts the server down, and runtime shutdown closes servers', async () => {
    const rt = createRuntime({ io: 'node' });
    const controller = new AbortController();
    const a = await rt.run(() => serve(() => ({ body: 'a' }), { port: 0, signal: controller.signal }));
    const b = await rt.run(() => serve(() => ({ body: 'b' }), { port: 0 }));
    expect((await request(a.port, '/')).body).toBe('a');
    controller.abort();
    await a.closed;
    await rt.shutdown();
    await b.closed;
    expect(b.closing).toBe(true);
  });
});
