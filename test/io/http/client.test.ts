// The HTTP client over real sockets (127.0.0.1, port 0): pooling, trace propagation,
// faults (refused, reset, oversize), aborts that reach the server, backpressure, HTTPS.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../../../src/runtime/runtime.js';
import { TimeoutError } from '../../../src/errors.js';
import { HttpClientError, TlsError, events, fetch, json, request, serve, sse, type Handler, type HttpServer } from '../../../src/io/http/index.js';
import { installTracing, span } from '../../../src/trace/index.js';
import { MemoryExporter } from '../../trace/memory-exporter.js';
import { makeTestCerts, type TestCerts } from '../net/tls-certs.js';
import { settle } from '../http-helpers.js';

type Rt = ReturnType<typeof createRuntime>;

describe('HTTP client on real sockets', () => {
  let rt: Rt;
  let server: HttpServer | undefined;
  let raw: Server | undefined;
  beforeEach(() => {
    rt = createRuntime({ io: 'node', http: { connections: 4, keepAliveTimeoutMs: 10_000 } });
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    if (raw !== undefined) await new Promise((r) => raw!.close(r));
    raw = undefined;
    await rt.shutdown();
  });

  const start = async (handler: Handler): Promise<string> => {
    server = await rt.run(() => serve(handler, { port: 0 }));
    return `http://127.0.0.1:${server.port}`;
  };
  /** A node:http server for behaviour serve() would not show (resets, raw writes). */
  const startRaw = async (listener: Parameters<typeof createServer>[1]): Promise<string> => {
    raw = createServer(listener);
    await new Promise<void>((r) => raw!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
  };

  it('reuses pooled keep-alive connections for sequential requests', async () => {
    const ports = new Set<number>();
    const base = await startRaw((req, res) => {
      ports.add(req.socket.remotePort!);
      res.end('ok');
    });
    await rt.run(async () => {
      for (let i = 0; i < 20; i++) expect(await (await request(base)).text()).toBe('ok');
    });
    expect(ports.size).toBeLessThanOrEqual(2); // one, or two when a request arrives while the last response is still being finished
  });

  it('never opens more than `connections` sockets per origin', async () => {
    const ports = new Set<number>();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let arrived = 0;
    const base = await startRaw(async (req, res) => {
      ports.add(req.socket.remotePort!);
      arrived++;
      await gate;
      res.end('ok');
    });
    await rt.run(async () => {
      const all = Array.from({ length: 12 }, () => request(base).then((r) => r.text()));
      await settle(() => arrived === 4, '4 requests at the server');
      release();
      expect(await Promise.all(all)).toEqual(Array(12).fill('ok'));
    });
    expect(ports.size).toBe(4);
  });

  it('sends a client span with traceparent; the server sees the same trace', async () => {
    const exporter = new MemoryExporter();
    installTracing(rt, { exporter, flushIntervalMs: 0 });
    let seen: string | undefined;
    const base = await startRaw((req, res) => {
      seen = req.headers.traceparent as string;
      res.statusCode = 503;
      res.end('down');
    });
    await rt.run(() => span('call upstream', async () => (await request(`${base}/x`)).cancel()));
    await rt.shutdown();
    const client = exporter.byName('HTTP GET');
    expect(client.kind).toBe('client');
    expect(client.attributes['http.response.status_code']).toBe(503);
    expect(client.status.code).toBe('error');
    expect(seen).toBe(`00-${client.traceId}-${client.spanId}-01`);
    expect(client.parentSpanId).toBe(exporter.byName('call upstream').spanId);
  });

  it('refused and reset connections are HttpClientError with that kind, recorded on the span', async () => {
    const exporter = new MemoryExporter();
    installTracing(rt, { exporter, flushIntervalMs: 0 });
    const base = await startRaw((req) => req.socket.destroy());
    const closedPort = (await startClosedPort());
    await rt.run(async () => {
      const reset = await request(base).catch((e: unknown) => e);
      expect((reset as HttpClientError).kind).toBe('reset');
      const refused = await request(`http://127.0.0.1:${closedPort}/`).catch((e: unknown) => e);
      expect((refused as HttpClientError).kind).toBe('refused');
    });
    await rt.shutdown();
    const spans = exporter.spans.filter((s) => s.name === 'HTTP GET');
    expect(spans.map((s) => s.status.code)).toEqual(['error', 'error']);
    expect(spans.every((s) => s.events.some((e) => e.name === 'exception'))).toBe(true);
  });

  it('retries a GET after a reset and a 503 on real sockets; a hung server is a TimeoutError', async () => {
    let hits = 0;
    const base = await startRaw((req, res) => {
      hits++;
      if (req.url === '/hang') return;
      if (hits === 1) return req.socket.destroy();
      if (hits === 2) {
        res.statusCode = 503;
        return res.end();
      }
      res.end('third time');
    });
    await rt.run(async () => {
      const res = await request(`${base}/flaky`, { retry: { retries: 3, minDelayMs: 1, maxDelayMs: 5 } });
      expect([res.status, await res.text(), hits]).toEqual([200, 'third time', 3]);
      await expect(request(`${base}/hang`, { timeoutMs: 50 })).rejects.toBeInstanceOf(TimeoutError);
    });
  });

  it('a body cut short by the server is HttpClientError reset', async () => {
    const base = await startRaw((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('only part');
      setImmediate(() => res.socket?.destroy());
    });
    await rt.run(async () => {
      const err = await (await request(base)).text().catch((e: unknown) => e);
      expect((err as HttpClientError).kind).toBe('reset');
    });
  });

  it('a chunked body cut short by the server is HttpClientError reset from text() and json()', async () => {
    const base = await startRaw((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }); // no length: chunked
      res.write('{"partial":');
      setImmediate(() => res.socket?.destroy());
    });
    await rt.run(async () => {
      const err = await (await request(base)).text().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HttpClientError);
      expect((err as HttpClientError).kind).toBe('reset');
      const err2 = await (await request(base)).json().catch((e: unknown) => e);
      expect((err2 as HttpClientError).kind).toBe('reset');
    });
  });

  it('a chunked body of several writes is read whole by text()', async () => {
    const base = await startRaw((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      let i = 0;
      const next = (): void => {
        if (i === 20) return void res.end();
        res.write(`part${i++};`);
        setImmediate(next);
      };
      next();
    });
    await rt.run(async () => {
      const expected = Array.from({ length: 20 }, (_, i) => `part${i};`).join('');
      expect(await (await request(base)).text()).toBe(expected);
      expect(Buffer.from(await (await request(base)).bytes()).toString()).toBe(expected);
    });
  });

  it('an aborted request closes its connection: the server sees the abort', async () => {
    let closed = 0;
    const base = await startRaw((req) => {
      req.socket.on('close', () => closed++);
    });
    await rt.run(async () => {
      const controller = new AbortController();
      const pending = request(base, { signal: controller.signal, timeoutMs: 0 });
      await settle(() => raw!.listenerCount('request') > 0 && closed === 0, 'request sent');
      setImmediate(() => controller.abort(new Error('client left')));
      await expect(pending).rejects.toThrow('client left');
      await settle(() => closed === 1, 'server socket closed');
    });
  });

  it('backpressure: a client that stops reading stops the server producing', async () => {
    let produced = 0;
    const chunk = 'x'.repeat(16 * 1024);
    const base = await start(() => ({
      body: (async function* () {
        for (let i = 0; i < 10_000; i++) {
          produced += chunk.length;
          yield chunk;
        }
      })(),
    }));
    await rt.run(async () => {
      const res = await request(base);
      const it = res.body[Symbol.asyncIterator]();
      await it.next();
      // let the socket buffers fill, then look: far less than the 160 MB body was produced
      for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
      const held = produced;
      for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
      expect(produced).toBe(held);
      expect(produced).toBeLessThan(16 * 1024 * 1024);
      await it.return!();
    });
  });

  it('fetch() is undici fetch on the pools and injects traceparent', async () => {
    const exporter = new MemoryExporter();
    installTracing(rt, { exporter, flushIntervalMs: 0 });
    const base = await start((req) => json({ tp: req.headers.traceparent ?? null }));
    const body = await rt.run(() => span('root', async () => (await fetch(`${base}/`)).json())) as { tp: string };
    await rt.shutdown();
    expect(body.tp).toContain(exporter.byName('HTTP GET').spanId);
  });

  it('events() over a real socket', async () => {
    const base = await start(() => sse([{ id: '1', data: 'a' }, { id: '2', event: 'end', data: 'b' }], { heartbeatMs: 0 }));
    await rt.run(async () => {
      const got: string[] = [];
      for await (const e of events(base, { reconnect: false })) got.push(`${e.id}:${e.event}:${e.data}`);
      expect(got).toEqual(['1:message:a', '2:end:b']);
    });
  });

  describe('HTTPS', () => {
    let certs: TestCerts;
    beforeAll(() => {
      certs = makeTestCerts();
    });
    afterAll(() => certs.cleanup());

    it('serve({ tls }) answers request() and fetch() that trust the CA; an untrusted certificate is TlsError', async () => {
      server = await rt.run(() => serve(() => ({ body: 'secure' }), { port: 0, tls: { key: certs.key, cert: certs.cert } }));
      const url = `https://127.0.0.1:${server.port}/`;
      const trust = { ca: certs.ca };
      await rt.run(async () => {
        expect(await (await request(url, { tls: trust })).text()).toBe('secure');
        expect(await (await fetch(url, { tls: trust })).text()).toBe('secure');
        const err = await request(url, { tls: { ca: certs.otherCa } }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(TlsError);
        expect((err as TlsError).code).toBe('ZOKIO_ERR_TLS');
        const viaFetch = await fetch(url, { tls: { ca: certs.otherCa } }).catch((e: unknown) => e);
        expect(viaFetch).toBeInstanceOf(TlsError);
      });
    });
  });
});

/** A port that was just free: bind, read it, close. */
async function startClosedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}
