// The console's HTTP surface on the memory backend (no real port): token (401), Host
// header (403), read-only (405), no CORS, the Content-Security-Policy, the client limit,
// option checks, and every payload validated against the JSON Schema.
import { describe, expect, it } from 'vitest';
import { consoleInternals } from '../../src/console/server.js';
import { ConfigError, sleep } from '../../src/index.js';
import { currentRequestTracer } from '../../src/io/http/request-tracer.js';
import { request } from '../../src/testing/index.js';
import { installTracing, span } from '../../src/trace/index.js';
import { expectPayload, virtualRuntime } from './helpers.js';

describe('console server', () => {
  it('answers 401 without the token, 403 for a foreign Host, 405 for writes, and never sends CORS headers', async () => {
    const { rt } = virtualRuntime();
    await rt.run(async () => {
      await using c = await rt.console({ token: 'a-test-token-of-32-characters-xx' });
      const { server } = consoleInternals(c);
      const host = `127.0.0.1:${c.port}`;
      expect(c.url).toBe(`http://127.0.0.1:${c.port}/?token=a-test-token-of-32-characters-xx`);
      for (const path of ['/', '/app.js', '/api/v1/snapshot', '/api/v1/stream', '/api/v1/tasks/1', '/api/v1/trace.json']) {
        const res = await request(server, { path, headers: { host } });
        expect(res.status, path).toBe(401);
        expectPayload('error', res.json());
      }
      expect((await request(server, { path: '/api/v1/snapshot?token=wrong-token-of-32-characters-xxx', headers: { host } })).status).toBe(401);
      expect((await request(server, { path: `/api/v1/snapshot?token=${c.token}`, headers: { host: `evil.example:${c.port}` } })).status).toBe(403);
      expect((await request(server, { path: `/api/v1/snapshot?token=${c.token}`, headers: { host: `localhost:${c.port}` } })).status).toBe(200);
      expect((await request(server, { method: 'POST', path: `/api/v1/snapshot?token=${c.token}`, headers: { host } })).status).toBe(405);
      const ok = await request(server, { path: '/api/v1/snapshot', headers: { host, authorization: `Bearer ${c.token}`, origin: 'http://evil.example' } });
      expect(ok.status).toBe(200);
      expect(Object.keys(ok.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
      expect(ok.headers['content-security-policy']).toContain("default-src 'none'");
      expect(ok.headers['cache-control']).toBe('no-store');
      expectPayload('state', ok.json());
    });
    await rt.shutdown();
  });

  it('serves one self-contained page: no inline script or style, no external origin', async () => {
    const { rt } = virtualRuntime();
    await rt.run(async () => {
      await using c = await rt.console();
      const { server } = consoleInternals(c);
      const get = (path: string) => request(server, { path: `${path}${path.includes('?') ? '&' : '?'}token=${c.token}`, headers: { host: `127.0.0.1:${c.port}` } });
      const page = await get('/');
      expect(page.status).toBe(200);
      expect(page.headers['content-security-policy']).toBe("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data: blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
      expect(page.body).not.toMatch(/<script>|<style>|style="|https?:\/\//);
      const script = await get('/app.js');
      expect(script.headers['content-type']).toMatch(/javascript/);
      expect(script.body).not.toMatch(/https?:\/\/(?!json-schema)/);
      expect(() => new Function(script.body)).not.toThrow(); // it parses
      expect((await get('/app.css')).status).toBe(200);
      expect((await get('/nope')).status).toBe(404);
      expect(c.token).toMatch(/^[0-9a-f]{32}$/); // random by default
    });
    await rt.shutdown();
  });

  it('task detail, trace.json and snapshot validate against the schema; no argument or result is shown', async () => {
    const { rt, clock } = virtualRuntime();
    installTracing(rt, { exporter: { export: () => undefined } });
    await rt.run(async () => {
      await using c = await rt.console();
      const { server } = consoleInternals(c);
      const get = (path: string) => request(server, { path: `${path}?token=${c.token}`, headers: { host: `127.0.0.1:${c.port}` } });
      const secret = { password: 'hunter2-argument' };
      const task = rt.spawn(async () => {
        await span('load user', async (s) => {
          s.setAttribute('user.password', secret.password);
          await sleep(10);
        });
        await sleep(60_000);
        return 'hunter2-result';
      }, { name: 'worker-task' });
      await clock.advance(20);
      const detail = await get(`/api/v1/tasks/${task.id}`);
      expect(detail.status).toBe(200);
      expectPayload('taskDetail', detail.json());
      expect(detail.json<{ task: { name: string } }>().task.name).toBe('worker-task');
      expect((await get('/api/v1/tasks/999999')).status).toBe(404);
      const trace = await get('/api/v1/trace.json');
      expectPayload('trace', trace.json());
      expect(trace.json<{ traceEvents: Array<{ name: string; ph: string }> }>().traceEvents.filter((e) => e.ph === 'X').map((e) => e.name)).toContain('load user');
      const snapshot = await get('/api/v1/snapshot');
      expectPayload('state', snapshot.json());
      for (const body of [detail.body, trace.body, snapshot.body]) expect(body).not.toContain('hunter2');
      task.abort();
    });
    await rt.shutdown();
  });

  it('counts HTTP requests by status class only while a client is connected', async () => {
    const { rt } = virtualRuntime();
    await rt.run(async () => {
      await using c = await rt.console();
      const { server, feed } = consoleInternals(c);
      const get = (path: string) => request(server, { path, headers: { host: `127.0.0.1:${c.port}`, authorization: `Bearer ${c.token}` } });
      const before = currentRequestTracer(); // tracing's, when its module is loaded
      await get('/api/v1/snapshot');
      expect(currentRequestTracer()).toBe(before); // no client: no hook on the request path
      const client = feed.attach(undefined)!;
      expect(currentRequestTracer()).not.toBe(before);
      await get('/api/v1/snapshot');
      await get('/api/v1/nope');
      feed.tick();
      const http = feed.snapshot().http;
      expect(http.status).toMatchObject({ '2xx': 1, '4xx': 1 });
      expect(http.requests).toBe(2);
      expect(http.latencyCounts.reduce((a, b) => a + b, 0)).toBe(2);
      expect(http.inFlight).toBe(0);
      client.close();
      const it = client[Symbol.asyncIterator]();
      await it.next(); // the loop sees the close and detaches
      expect(feed.clients).toBe(0);
      expect(currentRequestTracer()).toBe(before);
    });
    await rt.shutdown();
  });

  it('refuses to open on a runtime that is shut down', async () => {
    const { rt } = virtualRuntime();
    await rt.shutdown();
    await expect(rt.console()).rejects.toMatchObject({ code: 'ZOKIO_ERR_RUNTIME_CLOSED' });
  });

  it('refuses more than maxClients streams with 503', async () => {
    const { rt } = virtualRuntime();
    await rt.run(async () => {
      await using c = await rt.console({ maxClients: 1 });
      const { server, feed } = consoleInternals(c);
      const client = feed.attach(undefined)!;
      const res = await request(server, { path: `/api/v1/stream?token=${c.token}`, headers: { host: `127.0.0.1:${c.port}` } });
      expect(res.status).toBe(503);
      expectPayload('error', res.json());
      client.close();
    });
    await rt.shutdown();
  });

  it('checks its options with coded errors: a non-loopback host needs allowRemote and a token', async () => {
    const { rt } = virtualRuntime();
    await rt.run(async () => {
      await expect(rt.console({ host: '0.0.0.0' })).rejects.toMatchObject({ code: 'ZOKIO_ERR_CONFIG', field: 'console.host' });
      await expect(rt.console({ host: '0.0.0.0', allowRemote: true })).rejects.toBeInstanceOf(ConfigError);
      await expect(rt.console({ token: 'short' })).rejects.toMatchObject({ field: 'console.token' });
      await expect(rt.console({ intervalMs: 1 })).rejects.toMatchObject({ field: 'console.intervalMs' });
      await expect(rt.console({ retention: { tasks: 0 } })).rejects.toMatchObject({ field: 'console.retention.tasks' });
    });
    await rt.shutdown();
  });
});
