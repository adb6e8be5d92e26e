import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/runtime/runtime.js';
import { HttpError, serve } from '../../src/io/http/index.js';
import { injectTraceparent, installTracing, span } from '../../src/trace/index.js';
import { request } from '../io/http-helpers.js';
import { MemoryExporter } from './memory-exporter.js';

describe('HTTP hop', () => {
  it('serve() continues the caller trace in a server span; handler spans are its children', async () => {
    const client = createRuntime({ io: 'node' });
    const server = createRuntime({ io: 'node' });
    const clientSpans = new MemoryExporter();
    const serverSpans = new MemoryExporter();
    installTracing(client, { exporter: clientSpans, flushIntervalMs: 0 });
    installTracing(server, { exporter: serverSpans, flushIntervalMs: 0 });
    const http = await server.run(() =>
      serve(
        async (req) => {
          if (req.path === '/fail') throw new Error('bug');
          if (req.path === '/teapot') throw new HttpError(418, 'short and stout');
          const body = await span('load order', async () => 'order 7');
          return { status: 201, body };
        },
        { host: '127.0.0.1', port: 0 },
      ),
    );
    try {
      const answer = await client.run(() =>
        span('checkout', () => request(http.port, '/orders/7?expand=1', { headers: injectTraceparent({}) as Record<string, string> }), { kind: 'client' }),
      );
      expect(answer.status).toBe(201);
      expect(answer.body).toBe('order 7');
      expect((await request(http.port, '/fail')).status).toBe(500);
      expect((await request(http.port, '/teapot')).status).toBe(418);
    } finally {
      await http.close();
      await Promise.all([client.shutdown(), server.shutdown()]);
    }

    const checkout = clientSpans.byName('checkout');
    const handled = serverSpans.byName('GET /orders/7');
    expect(handled).toMatchObject({ kind: 'server', traceId: checkout.traceId, parentSpanId: checkout.spanId });
    expect(handled.attributes).toMatchObject({ 'http.request.method': 'GET', 'url.path': '/orders/7', 'http.response.status_code': 201 });
    expect(handled.status.code).toBe('unset');
    expect(serverSpans.byName('load order').parentSpanId).toBe(handled.spanId);

    // No traceparent: a new trace. A thrown error: status error, 500.
    const failed = serverSpans.byName('GET /fail');
    expect(failed.parentSpanId).toBeUndefined();
    expect(failed.traceId).not.toBe(checkout.traceId);
    expect(failed.status).toEqual({ code: 'error', message: 'bug' });
    expect(failed.attributes['http.response.status_code']).toBe(500);
    expect(serverSpans.byName('GET /teapot').attributes['http.response.status_code']).toBe(418);
  });

  it('serve() on a runtime without tracing calls the handler directly', async () => {
    const rt = createRuntime({ io: 'node' });
    const http = await rt.run(() => serve(() => span('inner', (s) => ({ body: String(s.isRecording) })), { host: '127.0.0.1', port: 0 }));
    try {
      expect((await request(http.port, '/')).body).toBe('false');
    } finally {
      await http.close();
      await rt.shutdown();
    }
  });
});
