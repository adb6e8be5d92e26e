// examples/gateway.ts: the four scenarios and the faults on a memory-backend runtime with a
// VirtualClock (upstream delays and deadlines in virtual time), and the script itself as a
// child process on real sockets, stopped with SIGTERM.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startGateway, startUpstream } from '../../examples/gateway.js';
import { createRuntime, sleep } from '../../src/index.js';
import { events, request, serve, sse, type HttpServer } from '../../src/io/http/index.js';
import { TcpListener, TcpStream } from '../../src/io/net/index.js';
import { now } from '../../src/scheduler/time.js';
import { VirtualClock } from '../../src/testing/index.js';
import { installTracing } from '../../src/trace/index.js';
import { MemoryExporter } from '../trace/memory-exporter.js';
import { settle } from '../io/http-helpers.js';

type Rt = ReturnType<typeof createRuntime>;
const CHAT = '/v1/chat/completions';

describe('examples/gateway.ts on the memory backend', () => {
  let rt: Rt;
  let stops: Array<() => Promise<void>>;
  beforeEach(() => {
    rt = new VirtualClock().install(createRuntime({ io: 'memory' }));
    stops = [];
  });
  afterEach(async () => {
    for (const stop of stops.reverse()) await stop();
    await rt.shutdown();
  });

  const gatewayTo = async (upstream: string, extra?: { upstreamTimeoutMs?: number; maxUpstreamBytes?: number; sseThresholdBytes?: number }) => {
    const gw = await startGateway({ runtime: rt as never, upstream, ...extra });
    stops.push(gw.stop);
    return { ...gw, url: `http://127.0.0.1:${gw.server.port}` };
  };
  const stub = async (options?: { delayMs?: number; tokens?: number; tokenDelayMs?: number }) => {
    const up = await startUpstream({ runtime: rt as never, ...options });
    stops.push(up.stop);
    return up.url;
  };
  const serveUpstream = async (handler: Parameters<typeof serve>[0]): Promise<string> => {
    const s: HttpServer = await rt.run(() => serve(handler, { port: 0, limits: { requestTimeoutMs: 0 } }));
    stops.push(() => s.close());
    return `http://127.0.0.1:${s.port}`;
  };

  it('/health, JSON forward after the upstream delay, SSE relay in order, and mixed load', async () => {
    const gw = await gatewayTo(await stub({ delayMs: 200, tokens: 5, tokenDelayMs: 10 }));
    await rt.run(async () => {
      expect(await (await request(`${gw.url}/health`)).text()).toBe('ok');
      const t0 = now();
      const res = await request(gw.url + CHAT, { json: { model: 'm', messages: [{ role: 'user', content: 'hi' }] } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe('hello from upstream');
      expect(now() - t0).toBe(200); // the upstream's delay, in virtual time
      const data: string[] = [];
      for await (const e of events(await request(gw.url + CHAT, { json: { stream: true } }))) data.push(e.data);
      expect(data.slice(0, 5).map((d) => (JSON.parse(d) as { choices: Array<{ delta: { content: string } }> }).choices[0]!.delta.content)).toEqual(['token0 ', 'token1 ', 'token2 ', 'token3 ', 'token4 ']);
      expect(data[5]).toBe('[DONE]');
      // mixed: health, JSON and streams at once, every one answered whole
      const mixed = await Promise.all([
        ...Array.from({ length: 20 }, () => request(`${gw.url}/health`).then((r) => r.text())),
        ...Array.from({ length: 20 }, () => request(gw.url + CHAT, { json: {} }).then((r) => r.json().then(() => 'json'))),
        ...Array.from({ length: 10 }, async () => {
          let n = 0;
          for await (const _ of events(await request(gw.url + CHAT, { json: { stream: true } }))) n++;
          return `events ${n}`;
        }),
      ]);
      expect(mixed).toEqual([...Array(20).fill('ok'), ...Array(20).fill('json'), ...Array(10).fill('events 6')]);
      expect(gw.stats).toMatchObject({ health: 21, forwarded: 21, streams: 11, upstreamErrors: 0, relayedEvents: 66 });
      expect((await request(gw.url + CHAT, { body: 'not json' })).status).toBe(400);
    });
  });

  it('faults: refused and reset are 502, a hung upstream is 504 after the deadline, an oversize answer is 502; the cause is on the span', async () => {
    const exporter = new MemoryExporter();
    installTracing(rt, { exporter, flushIntervalMs: 0 });
    const hung = await serveUpstream(async (req) => {
      await sleep(3_600_000, { signal: req.signal });
      return { body: 'never' };
    });
    const huge = await serveUpstream(() => ({ headers: { 'content-type': 'application/json' }, body: `"${'x'.repeat(5000)}"` }));
    const resetter = await rt.run(() => TcpListener.bind({ port: 0 }));
    stops.push(() => resetter.close());
    void rt.run(async () => {
      for (;;) {
        const s = await resetter.accept().catch(() => undefined);
        if (s === undefined) return;
        await s.read();
        await s.close();
      }
    });
    const cases: Array<[string, number, string]> = [];
    await rt.run(async () => {
      for (const [name, upstream, extra] of [
        ['refused', 'http://127.0.0.1:4444', {}],
        ['reset', `http://127.0.0.1:${resetter.address.port}`, {}],
        ['timeout', hung, { upstreamTimeoutMs: 1500 }],
        ['too_large', huge, { maxUpstreamBytes: 1000 }],
      ] as const) {
        const gw = await gatewayTo(upstream, extra);
        const t0 = now();
        const res = await request(gw.url + CHAT, { json: {} });
        cases.push([name, res.status, await res.text()]);
        if (name === 'timeout') expect(now() - t0).toBe(1500);
        expect(gw.stats.upstreamErrors).toBe(1);
      }
    });
    expect(cases).toEqual([
      ['refused', 502, 'upstream failed: refused'],
      ['reset', 502, 'upstream failed: reset'],
      ['timeout', 504, 'upstream timed out'],
      ['too_large', 502, 'upstream failed: too_large'],
    ]);
    for (const stop of stops.splice(0).reverse()) await stop();
    await rt.shutdown();
    const serverSpans = exporter.spans.filter((s) => s.kind === 'server' && s.attributes['gateway.upstream.error'] !== undefined);
    expect(serverSpans.map((s) => s.attributes['gateway.upstream.error'])).toEqual(['refused', 'reset', 'timeout', 'too_large']);
    expect(serverSpans.every((s) => s.events.some((e) => e.name === 'exception'))).toBe(true);
  });

  it('a client that goes away aborts the upstream request', async () => {
    let upstreamAborted = 0;
    let upstreamStarted = 0;
    const upstream = await serveUpstream(async (req) => {
      upstreamStarted++;
      await sleep(3_600_000, { signal: req.signal }).catch(() => upstreamAborted++);
      return { body: '{}' };
    });
    const gw = await gatewayTo(upstream);
    await rt.run(async () => {
      const controller = new AbortController();
      const pending = request(gw.url + CHAT, { json: {}, signal: controller.signal, timeoutMs: 0 });
      await settle(() => upstreamStarted === 1, 'the upstream got the request');
      controller.abort(new Error('client left'));
      await expect(pending).rejects.toThrow('client left');
      await settle(() => upstreamAborted === 1, 'the upstream request was aborted');
    });
  });

  it('a client that stops reading a stream stops the gateway reading the upstream: bytes in between stay bounded', async () => {
    let produced = 0;
    const token = JSON.stringify({ choices: [{ delta: { content: 'y'.repeat(200) } }] });
    const upstream = await serveUpstream(() =>
      sse(async function* () {
        for (let i = 0; ; i++) {
          produced += token.length;
          yield { id: i, data: token };
        }
      }, { heartbeatMs: 0, highWaterMark: 16 * 1024 }),
    );
    const threshold = 16 * 1024;
    const gw = await gatewayTo(upstream, { sseThresholdBytes: threshold });
    await rt.run(async () => {
      const client = await TcpStream.connect({ port: gw.server.port });
      const body = '{"stream":true}';
      await client.write(`POST ${CHAT} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
      let received = (await client.read())!.byteLength;
      // The client reads nothing more: production must stall.
      await settle(() => gw.stats.relayedEvents > 0, 'relay started');
      let last = -1;
      await settle(() => {
        const stalled = produced === last;
        last = produced;
        return stalled;
      }, 'the upstream stalls');
      const heldWhileStalled = produced;
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
      expect(produced).toBe(heldWhileStalled);
      // Upstream socket buffer (16 KiB threshold + 16 KiB in-memory socket); in the gateway,
      // undici's body buffer (64 KiB), the events parsed from one chunk (<= 16 KiB) and the
      // client socket's threshold; the client's in-memory socket (16 KiB): fixed sizes,
      // whatever the stream's length (the upstream would send forever).
      const bound = 16 * 1024 + 16 * 1024 + 64 * 1024 + 16 * 1024 + threshold + 16 * 1024 + 2 * token.length;
      expect(produced - received).toBeLessThan(bound);
      // Reading again lets it flow, well before the client has read all that is held. Read
      // by bytes, not by calls: how much one read returns depends on the Node version (on
      // Node 26 `Readable.read()` returns one buffered chunk, here one relayed event; on
      // Node 22 and 24 everything buffered).
      const stalledAt = received;
      while (produced === heldWhileStalled && received - stalledAt < 2 * threshold) {
        received += (await client.read())!.byteLength;
        await new Promise((r) => setImmediate(r));
      }
      await settle(() => produced > heldWhileStalled, 'production resumes');
      await client.close();
    });
  });
});

describe('examples/gateway.ts as a process', () => {
  it('serves the scenarios on real sockets and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/gateway.ts'], {
      cwd: new URL('../..', import.meta.url).pathname,
      env: { ...process.env, PORT: '0', UPSTREAM_DELAY_MS: '5', UPSTREAM_TOKENS: '3', UPSTREAM_TOKEN_DELAY_MS: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    const exited = once(child, 'exit');
    try {
      await settle(() => /gateway on (http:\/\/127\.0\.0\.1:\d+)/.test(out), 'the gateway prints its url', 10_000_000);
      const url = /gateway on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
      const rt = createRuntime({ io: 'node' });
      try {
        await rt.run(async () => {
          expect(await (await request(`${url}/health`)).text()).toBe('ok');
          const answer = (await (await request(url + CHAT, { json: { messages: [] } })).json()) as { choices: unknown[] };
          expect(answer.choices).toHaveLength(1);
          const data: string[] = [];
          for await (const e of events(await request(url + CHAT, { json: { stream: true } }))) data.push(e.data);
          expect(data).toHaveLength(4);
          expect(data[3]).toBe('[DONE]');
        });
      } finally {
        await rt.shutdown();
      }
      child.kill('SIGTERM');
      const [code] = await exited;
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
