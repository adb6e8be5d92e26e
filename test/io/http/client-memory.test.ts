// The HTTP client on the memory backend: undici's pools over the runtime's in-memory
// loopback, deadlines, retries and reconnects on a VirtualClock (no wall-clock time).
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../../../src/runtime/runtime.js';
import { ConfigError, TimeoutError } from '../../../src/errors.js';
import { HttpClientError, TlsError, events, fetch, json, request, serve, sse, type Handler, type HttpServer } from '../../../src/io/http/index.js';
import { VirtualClock } from '../../../src/testing/index.js';
import { now, sleep } from '../../../src/scheduler/time.js';
import { settle } from '../http-helpers.js';
import { makeTestCerts, type TestCerts } from '../net/tls-certs.js';

type Rt = ReturnType<typeof createRuntime>;

describe('HTTP client on the memory backend', () => {
  let rt: Rt;
  let clock: VirtualClock;
  let server: HttpServer | undefined;
  beforeEach(() => {
    clock = new VirtualClock();
    rt = clock.install(createRuntime({ io: 'memory' }));
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await rt.shutdown();
  });

  const start = async (handler: Handler): Promise<string> => {
    server = await rt.run(() => serve(handler, { port: 0, limits: { requestTimeoutMs: 0 } }));
    return `http://127.0.0.1:${server.port}`;
  };

  it('sends GET and POST through the in-memory loopback and reads json, text, bytes and chunks', async () => {
    const base = await start(async (req) => {
      if (req.path === '/echo') return json({ method: req.method, got: await req.json(), type: req.headers['content-type'] });
      if (req.path === '/chunks') return { body: (async function* () { yield 'a'; yield 'b'; yield 'c'; })() };
      return { body: 'hello' };
    });
    await rt.run(async () => {
      const res = await request(`${base}/hi`);
      expect([res.status, res.ok, await res.text()]).toEqual([200, true, 'hello']);
      const echo = await request(`${base}/echo`, { json: { n: 1 } });
      expect(await echo.json()).toEqual({ method: 'POST', got: { n: 1 }, type: 'application/json' });
      const bytes = await (await request(`${base}/hi`)).bytes();
      expect(Buffer.from(bytes).toString()).toBe('hello');
      const parts: string[] = [];
      for await (const chunk of (await request(`${base}/chunks`)).body) parts.push(Buffer.from(chunk).toString());
      expect(parts.join('')).toBe('abc');
      const viaFetch = await fetch(`${base}/hi`);
      expect([viaFetch.status, await viaFetch.text()]).toEqual([200, 'hello']);
    });
  });

  it('reads a body only once', async () => {
    const base = await start(() => ({ body: 'once' }));
    await rt.run(async () => {
      const res = await request(base);
      await res.text();
      await expect(res.text()).rejects.toThrow(/already read/);
    });
  });

  it('a port nobody listens on is HttpClientError refused', async () => {
    await rt.run(async () => {
      const err = await request('http://127.0.0.1:4999/').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HttpClientError);
      expect((err as HttpClientError).kind).toBe('refused');
      expect((err as HttpClientError).code).toBe('ZOKIO_ERR_HTTP_CLIENT');
    });
  });

  it('timeoutMs bounds the wait for the head on the virtual clock', async () => {
    const base = await start(async () => {
      await sleep(60_000);
      return { body: 'late' };
    });
    await rt.run(async () => {
      const t0 = now();
      const err = await request(`${base}/slow`, { timeoutMs: 250 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TimeoutError);
      expect(now() - t0).toBe(250);
    });
  });

  it('fetch() timeoutMs is a TimeoutError on the virtual clock; its signal aborts it', async () => {
    const base = await start(async () => {
      await sleep(60_000);
      return { body: 'late' };
    });
    await rt.run(async () => {
      const t0 = now();
      await expect(fetch(`${base}/slow`, { timeoutMs: 300 })).rejects.toBeInstanceOf(TimeoutError);
      expect(now() - t0).toBe(300);
      const controller = new AbortController();
      const pending = fetch(`${base}/slow`, { signal: controller.signal, timeoutMs: 0 });
      await sleep(5);
      controller.abort(new Error('stop'));
      await expect(pending).rejects.toThrow('stop');
    });
  });

  /** A body that sends 'first', then nothing for `ms`. */
  const stallAfterFirst = (ms: number): Handler => () => ({
    body: (async function* () {
      yield 'first';
      await sleep(ms);
      yield 'never';
    })(),
  });

  it('timeoutMs bounds each wait for a body chunk', async () => {
    const base = await start(stallAfterFirst(10_000));
    await rt.run(async () => {
      const res = await request(base, { timeoutMs: 500 });
      const got: string[] = [];
      const err = await (async () => {
        for await (const c of res.body) got.push(Buffer.from(c).toString());
      })().catch((e: unknown) => e);
      expect(got).toEqual(['first']);
      expect(err).toBeInstanceOf(TimeoutError);
    });
  });

  it('text() of a body of unknown length: the deadline restarts per chunk, and a stall is TimeoutError', async () => {
    const base = await start((req) => ({
      body: (async function* () {
        // Five chunks 400 ms apart: 2 s in all, each wait under the 500 ms deadline.
        for (let i = 0; i < 5; i++) {
          if (i > 0) await sleep(400);
          yield `c${i}`;
        }
        if (req.path === '/stall') {
          await sleep(10_000);
          yield 'never';
        }
      })(),
    }));
    await rt.run(async () => {
      const started = now();
      expect(await (await request(`${base}/slow`, { timeoutMs: 500 })).text()).toBe('c0c1c2c3c4');
      expect(now() - started).toBeGreaterThanOrEqual(1600);
      const stalled = await request(`${base}/stall`, { timeoutMs: 500 });
      const err = await stalled.text().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TimeoutError);
      expect(stalled.bodyUsed).toBe(true);
      // the connection was freed: the next request is served
      expect(await (await request(`${base}/slow`, { timeoutMs: 500 })).text()).toBe('c0c1c2c3c4');
    });
  });

  it('bytes() of a body of unknown length rejects with the signal reason when aborted mid-body', async () => {
    const base = await start(stallAfterFirst(60_000));
    await rt.run(async () => {
      const controller = new AbortController();
      const res = await request(base, { signal: controller.signal, timeoutMs: 0 });
      const reading = res.bytes();
      await sleep(10);
      controller.abort(new Error('caller left'));
      await expect(reading).rejects.toThrow('caller left');
      await expect(res.text()).rejects.toThrow(/already read/);
    });
  });

  it('a consumer slower than timeoutMs is not timed out: only waits for the server are', async () => {
    const base = await start(() => ({ body: (async function* () { yield 'a'; yield 'b'; yield 'c'; })() }));
    await rt.run(async () => {
      const got: string[] = [];
      for await (const c of (await request(base, { timeoutMs: 100 })).body) {
        got.push(Buffer.from(c).toString());
        await sleep(1000);
      }
      expect(got.join('')).toBe('abc');
    });
  });

  it('retries an idempotent request after 503 with backoff on the virtual clock, and never a POST', async () => {
    let hits = 0;
    const base = await start(() => (++hits <= 2 ? { status: 503, body: 'busy' } : { body: 'ok' }));
    await rt.run(async () => {
      const t0 = now();
      const res = await request(base, { retry: { retries: 3, minDelayMs: 100, maxDelayMs: 1000 } });
      expect([res.status, await res.text(), hits]).toEqual([200, 'ok', 3]);
      const waited = now() - t0;
      // backoff 100 then 200, each scaled by a factor in [0.5, 1]
      expect(waited).toBeGreaterThanOrEqual(50 + 100);
      expect(waited).toBeLessThanOrEqual(100 + 200 + 2);
      hits = 0;
      const post = await request(base, { method: 'POST', body: 'x', retry: 3 });
      expect([post.status, hits]).toEqual([503, 1]);
      await post.cancel();
      const metrics = (rt.metrics() as unknown as Record<string, { requests: number; retries: number; inFlight: number }>)['http-client']!;
      expect(metrics).toMatchObject({ requests: 4, retries: 2, inFlight: 0 });
    });
  });

  it('honours Retry-After (seconds) and retries a refused connection', async () => {
    let hits = 0;
    const base = await start(() => (++hits === 1 ? { status: 429, headers: { 'retry-after': '2' }, body: '' } : { body: 'ok' }));
    await rt.run(async () => {
      const t0 = now();
      const res = await request(base, { retry: { retries: 1, maxDelayMs: 60_000 } });
      expect(res.status).toBe(200);
      await res.cancel();
      expect(now() - t0).toBe(2000);
      const err = await request('http://127.0.0.1:4998/', { retry: { retries: 2, minDelayMs: 10 } }).catch((e: unknown) => e);
      expect((err as HttpClientError).kind).toBe('refused');
    });
  });

  it('options.signal aborts a pending request with its reason and the server sees the connection close', async () => {
    let aborted = 0;
    const base = await start(async (req) => {
      await sleep(60_000, { signal: req.signal }).catch(() => aborted++);
      return { body: 'late' };
    });
    await rt.run(async () => {
      const controller = new AbortController();
      const pending = request(`${base}/hang`, { signal: controller.signal, timeoutMs: 0 });
      await sleep(10);
      controller.abort(new Error('caller gave up'));
      await expect(pending).rejects.toThrow('caller gave up');
      await settle(() => aborted === 1, 'the server saw the request aborted');
      // the pool opens a fresh connection for the next request
      await controller.signal.reason;
    });
  });

  it('a failing scope aborts the requests of its other children', async () => {
    let aborted = 0;
    const base = await start(async (req) => {
      await sleep(60_000, { signal: req.signal }).catch(() => aborted++);
      return { body: 'late' };
    });
    await rt.run(async () => {
      let requestError: unknown;
      const outcome = rt.scope(async (scope) => {
        scope.spawn(() => request(`${base}/hang`, { timeoutMs: 0 }).catch((e: unknown) => {
          requestError = e;
        }));
        scope.spawn(async () => {
          await sleep(10);
          throw new Error('sibling failed');
        });
      });
      await expect(outcome).rejects.toThrow('sibling failed');
      expect((requestError as Error).message).toBe('sibling failed');
      await settle(() => aborted === 1, 'the server saw the request aborted');
    });
  });

  it('maxBodyBytes: a larger body is HttpClientError too_large', async () => {
    const base = await start(() => ({ body: 'x'.repeat(5000) }));
    await rt.run(async () => {
      const err = await (await request(base, { maxBodyBytes: 1000 })).text().catch((e: unknown) => e);
      expect((err as HttpClientError).kind).toBe('too_large');
      const streamed = await start(() => ({ body: (async function* () { for (let i = 0; i < 10; i++) yield 'y'.repeat(500); })() }));
      const err2 = await (await request(streamed, { maxBodyBytes: 1000 })).text().catch((e: unknown) => e);
      expect((err2 as HttpClientError).kind).toBe('too_large');
    });
  });

  it('events() parses SSE and reconnects with Last-Event-ID after the server retry', async () => {
    const seen: Array<string | undefined> = [];
    let connections = 0;
    const base = await start((req) => {
      connections++;
      seen.push(req.headers['last-event-id'] as string | undefined);
      const from = Number(req.headers['last-event-id'] ?? 0);
      return sse((async function* () {
        if (from === 0) yield { data: 'hello', retry: 750 };
        yield { id: String(from + 1), event: 'tick', data: `n${from + 1}` };
        yield { id: String(from + 2), event: 'tick', data: `n${from + 2}` };
      })(), { heartbeatMs: 0 });
    });
    await rt.run(async () => {
      const got: string[] = [];
      const times: number[] = [];
      const t0 = now();
      for await (const e of events(`${base}/feed`)) {
        got.push(`${e.event}:${e.data}:${e.id ?? ''}`);
        times.push(now() - t0);
        if (got.length === 5) break;
      }
      expect(got).toEqual(['message:hello:', 'tick:n1:1', 'tick:n2:2', 'tick:n3:3', 'tick:n4:4']);
      expect(seen).toEqual([undefined, '2']);
      expect(connections).toBe(2);
      expect(times[3]).toBe(750); // the server's retry, on the virtual clock
    });
  });

  it('events() with lastEventId sends it; a non-SSE answer is a protocol error; a signal stops the loop', async () => {
    const base = await start((req) => {
      if (req.path === '/plain') return { body: 'nope' };
      return sse((async function* () {
        yield { id: 'x', data: String(req.headers['last-event-id']) };
        await sleep(60_000);
      })(), { heartbeatMs: 0 });
    });
    await rt.run(async () => {
      const controller = new AbortController();
      const got: string[] = [];
      const err = await (async () => {
        for await (const e of events(`${base}/feed`, { lastEventId: '41', signal: controller.signal })) {
          got.push(e.data);
          controller.abort(new Error('enough'));
        }
      })().catch((e: unknown) => e);
      expect(got).toEqual(['41']);
      expect((err as Error).message).toBe('enough');
      const bad = await (async () => {
        for await (const _ of events(`${base}/plain`)) void _;
      })().catch((e: unknown) => e);
      expect((bad as HttpClientError).kind).toBe('protocol');
    });
  });

  describe('HTTPS over the in-memory loopback', () => {
    let certs: TestCerts;
    beforeAll(() => {
      certs = makeTestCerts();
    });
    afterAll(() => certs.cleanup());

    it('serve({ tls }) answers request() and fetch() that trust the CA, timed on the virtual clock; an untrusted certificate is TlsError', async () => {
      server = await rt.run(() => serve(async (req) => (req.path === '/slow' ? (await sleep(5000), { body: 'late' }) : { body: 'secure' }), { port: 0, tls: { key: certs.key, cert: certs.cert }, limits: { requestTimeoutMs: 0 } }));
      const url = `https://127.0.0.1:${server.port}`;
      const trust = { ca: certs.ca };
      await rt.run(async () => {
        expect(await (await request(`${url}/`, { tls: trust })).text()).toBe('secure');
        expect(await (await fetch(`${url}/`, { tls: trust })).text()).toBe('secure');
        // The deadline runs on the runtime's clock over TLS too.
        const t0 = now();
        expect(await request(`${url}/slow`, { tls: trust, timeoutMs: 1000 }).catch((e: unknown) => e)).toBeInstanceOf(TimeoutError);
        expect(now() - t0).toBe(1000);
        for (const call of [() => request(`${url}/`, { tls: { ca: certs.otherCa } }), () => fetch(`${url}/`, { tls: { ca: certs.otherCa } })]) {
          const err = await call().catch((e: unknown) => e);
          expect(err).toBeInstanceOf(TlsError);
          expect((err as TlsError).reason).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/);
        }
        // Plain http to the TLS port: the server drops the connection, the client gets no answer.
        const plain = await request(`http://127.0.0.1:${server!.port}/`).catch((e: unknown) => e);
        expect(plain).toBeInstanceOf(HttpClientError);
      });
    });
  });

  it('.http() pool options: run-time values are checked by build()', () => {
    const value = (v: unknown) => v as number;
    expect(() => createRuntime({ http: { connections: value(0) } })).toThrow(ConfigError);
    expect(() => createRuntime({ http: { pipelining: value(1.5) } })).toThrow(/http fields must be integers >= 1/);
    expect(() => createRuntime({ http: { keepAliveTimeoutMs: value('1') } })).toThrow(ConfigError);
    expect(() => createRuntime({ http: { bogus: 1 } as never })).toThrow(/unknown http field/);
    const ok = createRuntime({ http: { connections: 4, pipelining: 2, keepAliveTimeoutMs: 1000, connectTimeoutMs: 500 } });
    expect(ok.config.http).toEqual({ connections: 4, pipelining: 2, keepAliveTimeoutMs: 1000, connectTimeoutMs: 500 });
    void ok.shutdown();
  });
});
