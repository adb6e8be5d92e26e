/**
 * Gateway bench: examples/gateway.ts against the same gateway on Fastify + undici (what
 * Node users pick) and on bare node:http + fetch, all in front of one upstream stub.
 *
 * - GET /health: req/s and p50/p90/p99 latency;
 * - POST /v1/chat/completions (JSON parsed, forwarded, answer relayed): req/s and
 *   p50/p90/p99 (target: zokio >= 1.25× Fastify + undici);
 * - mixed: /health p99 while the JSON route is saturated (target: < 10 ms);
 * - SSE relay: events/s delivered to 1,000 concurrent streaming clients (on a shared
 *   2-core machine the upstream's timers and the runner's clients bound this more than
 *   the gateway does, so the gateway's CPU time per relayed event is reported too), the RSS the
 *   open streams add to the gateway, per stream (KB; the peak RSS during the run minus
 *   the RSS before it, over the most streams open at once). What zokio buffers per
 *   stream is bounded by construction: its 16 KiB threshold in the client socket, undici's
 *   body buffer and one parsed chunk (test/examples/gateway.test.ts checks the bound);
 * - RSS of each gateway process after the runs;
 * - `request()` against a local server beside undici's own `request()`, same process, same
 *   pool options, timed in alternating slices (target: >= 0.9×).
 *
 * Every server (upstream, three gateways, the local server) is a child process (this file
 * with ZOKIO_GATEWAY_BENCH_ROLE set); autocannon and the SSE clients run in the runner,
 * on 127.0.0.1. The upstream is bare node:http so that it costs every gateway the same.
 * autocannon reports latency in whole milliseconds (0 means under 1 ms).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { defineSuite, median, type BenchCase, type MeasureOptions } from './harness.js';

const role = process.env.ZOKIO_GATEWAY_BENCH_ROLE;
const CHAT = '/v1/chat/completions';
const STREAMS = 1000;
const TOKENS = 50;
const TOKEN_DELAY_MS = 20;

// ---------------------------------------------------------------------------------------
// Child roles.
// ---------------------------------------------------------------------------------------

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const ANSWER = JSON.stringify({ id: 'cmpl-1', model: 'stub-1', choices: [{ index: 0, message: { role: 'assistant', content: 'hello from upstream' } }] });

/** The upstream: JSON at once (the gateway's own cost is what is measured), or TOKENS SSE tokens TOKEN_DELAY_MS apart. */
async function upstream(): Promise<number> {
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/plain') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return;
    }
    const body = JSON.parse((await readBody(req)).toString() || '{}') as { stream?: boolean };
    if (body.stream !== true) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(ANSWER);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let i = 0;
    const tick = (): void => {
      if (res.destroyed) return;
      if (i === TOKENS) {
        res.end('data: [DONE]\n\n');
        return;
      }
      res.write(`id: ${i + 1}\ndata: {"choices":[{"index":0,"delta":{"content":"token${i} "}}]}\n\n`);
      i++;
      setTimeout(tick, TOKEN_DELAY_MS);
    };
    tick();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

async function zokioGateway(target: string): Promise<number> {
  const { startGateway } = await import('../examples/gateway.js');
  const { server } = await startGateway({ upstream: target });
  return server.port;
}

async function fastifyGateway(target: string): Promise<number> {
  const { default: Fastify } = await import('fastify');
  const { Agent, request } = await import('undici');
  const agent = new Agent({ connections: 1024, keepAliveTimeout: 30_000 });
  const app = Fastify({ logger: false });
  app.get('/health', async (_req, reply) => reply.type('text/plain; charset=utf-8').send('ok'));
  app.post(CHAT, async (req, reply) => {
    const body = req.body as { stream?: boolean };
    const res = await request(`${target}${CHAT}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), dispatcher: agent });
    if (body.stream === true && res.statusCode === 200) {
      return reply.header('content-type', 'text/event-stream').header('cache-control', 'no-cache').send(res.body);
    }
    return reply.code(res.statusCode).header('content-type', 'application/json').send(Buffer.from(await res.body.arrayBuffer()));
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return (app.server.address() as { port: number }).port;
}

async function nodeGateway(target: string): Promise<number> {
  const server = createServer(async (req, res) => {
    try {
      if (req.url === '/health') {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('ok');
        return;
      }
      if (req.url !== CHAT) {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse((await readBody(req)).toString()) as { stream?: boolean };
      const up = await fetch(`${target}${CHAT}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (body.stream === true && up.status === 200 && up.body !== null) {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        await pipeline(Readable.fromWeb(up.body as never), res);
        return;
      }
      const answer = Buffer.from(await up.arrayBuffer());
      res.writeHead(up.status, { 'content-type': 'application/json' });
      res.end(answer);
    } catch {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

if (role !== undefined) {
  const target = process.env.ZOKIO_GATEWAY_BENCH_UPSTREAM ?? '';
  const port = role === 'upstream' ? await upstream() : role === 'zokio' ? await zokioGateway(target) : role === 'fastify' ? await fastifyGateway(target) : await nodeGateway(target);
  process.stdout.write(`port ${port}\n`);
  process.on('SIGTERM', () => process.exit(0));
}

// ---------------------------------------------------------------------------------------
// Runner side.
// ---------------------------------------------------------------------------------------

interface AutocannonResult {
  readonly requests: { readonly average: number; readonly total: number };
  readonly latency: { readonly p50: number; readonly p90: number; readonly p99: number };
  readonly non2xx: number;
  readonly errors: number;
}
type Autocannon = (options: { url: string; connections: number; duration: number; method?: string; body?: string; headers?: Record<string, string> }) => Promise<AutocannonResult>;

interface Child {
  readonly proc: ChildProcess;
  readonly port: number;
}

const GATEWAYS = ['zokio', 'fastify', 'node'] as const;
type Gateway = (typeof GATEWAYS)[number];
const NAMES: Record<Gateway, string> = { zokio: 'zokio', fastify: 'fastify+undici', node: 'node:http+fetch' };
const children = new Map<string, Child>();
let autocannonFn: Autocannon | undefined;

async function autocannon(): Promise<Autocannon> {
  const name = 'autocannon'; // ships no types: a non-literal specifier keeps the import untyped
  autocannonFn ??= ((await import(name)) as { default: Autocannon }).default;
  return autocannonFn;
}

function startChild(kind: string, upstreamUrl = ''): Promise<Child> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { ...process.env, ZOKIO_GATEWAY_BENCH_ROLE: kind, ZOKIO_GATEWAY_BENCH_UPSTREAM: upstreamUrl },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.once('error', reject);
    proc.once('exit', (code) => reject(new Error(`${kind} exited with ${code}`)));
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /port (\d+)/.exec(out);
      if (m !== null) resolve({ proc, port: Number(m[1]) });
    });
  });
}

async function stopChild(child: Child): Promise<void> {
  child.proc.removeAllListeners('exit');
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  const exited = new Promise((resolve) => child.proc.once('exit', resolve));
  child.proc.kill('SIGTERM');
  await exited;
}

function rssMb(pid: number | undefined): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
  } catch {
    return NaN;
  }
}

/** CPU time (user + system) a process has used, in ms (from /proc, 10 ms ticks). */
function cpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/** Seconds of load per measured run; the quick smoke run only checks that every gateway answers. */
function seconds(options: MeasureOptions): number {
  return options.quick ? 1 : 5;
}

/** Seconds of warm-up load before a measured run. */
function warmUpSeconds(options: MeasureOptions): number {
  return options.quick ? 0.5 : 1;
}

const base = (g: Gateway): string => `http://127.0.0.1:${children.get(g)!.port}`;
const JSON_BODY = JSON.stringify({ model: 'stub-1', messages: [{ role: 'user', content: 'hello' }] });
const POST = { method: 'POST', body: JSON_BODY, headers: { 'content-type': 'application/json' } };

/**
 * One measurement serves several cases (req/s and three percentiles of the same run):
 * a case reads its metric from the last run of its scenario, and starts a new run when it
 * already read it from that one.
 */
const rounds = new Map<string, { values: Record<string, number>; read: Set<string> }>();
async function metric(key: string, name: string, run: () => Promise<Record<string, number>>): Promise<number> {
  let round = rounds.get(key);
  if (round === undefined || round.read.has(name)) {
    round = { values: await run(), read: new Set() };
    rounds.set(key, round);
  }
  round.read.add(name);
  return round.values[name]!;
}

function check(g: Gateway, what: string, r: AutocannonResult): void {
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${g} ${what}: ${r.non2xx} non-2xx, ${r.errors} errors`);
}

async function loadRun(g: Gateway, scenario: 'health' | 'json', options: MeasureOptions): Promise<Record<string, number>> {
  const run = await autocannon();
  const url = scenario === 'health' ? `${base(g)}/health` : `${base(g)}${CHAT}`;
  await run({ url, connections: 10, duration: warmUpSeconds(options), ...(scenario === 'json' ? POST : {}) });
  const r = await run({ url, connections: 50, duration: seconds(options), ...(scenario === 'json' ? POST : {}) });
  check(g, scenario, r);
  return { rps: r.requests.average, p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99 };
}

async function mixedRun(g: Gateway, options: MeasureOptions): Promise<Record<string, number>> {
  const run = await autocannon();
  const duration = seconds(options);
  const [json, health] = await Promise.all([
    run({ url: `${base(g)}${CHAT}`, connections: 50, duration, ...POST }),
    run({ url: `${base(g)}/health`, connections: 4, duration }),
  ]);
  check(g, 'mixed json', json);
  check(g, 'mixed health', health);
  // No /health answer at all within the run is no latency figure: NaN, not 0.
  return { p99: health.requests.total > 0 ? health.latency.p99 : NaN };
}

/** STREAMS clients, each opening streams one after another for the duration; counts `data:` events. */
async function sseRun(g: Gateway, options: MeasureOptions): Promise<Record<string, number>> {
  const { Agent, request } = await import('undici');
  const agent = new Agent({ connections: STREAMS + 16, keepAliveTimeout: 30_000, headersTimeout: 60_000, bodyTimeout: 60_000 });
  const pid = children.get(g)!.proc.pid;
  const rssBefore = rssMb(pid);
  const cpuBefore = cpuMs(pid);
  const until = performance.now() + seconds(options) * 1000 + 1000;
  let eventsSeen = 0;
  let peakRss = rssBefore;
  let open = 0;
  let peakOpen = 0;
  let failures = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssMb(pid));
    peakOpen = Math.max(peakOpen, open);
  }, 100);
  const client = async (): Promise<void> => {
    while (performance.now() < until) {
      try {
        const res = await request(`${base(g)}${CHAT}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"stream":true}', dispatcher: agent });
        open++;
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          for (let at = chunk.indexOf('data:'); at >= 0; at = chunk.indexOf('data:', at + 5)) eventsSeen++;
        }
        open--;
      } catch {
        failures++;
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: STREAMS }, client));
  const elapsed = (performance.now() - started) / 1000;
  const cpu = cpuMs(pid) - cpuBefore;
  clearInterval(sampler);
  await agent.close();
  if (failures > STREAMS / 100) throw new Error(`${g} sse: ${failures} failed streams`);
  // RSS the open streams added, over the most streams seen open at once.
  return { eventsPerSec: eventsSeen / elapsed, cpuUsPerEvent: (cpu * 1000) / eventsSeen, kbPerStream: peakOpen === 0 ? NaN : ((peakRss - rssBefore) * 1024) / peakOpen };
}

/** The two clients of the `request()` group. */
type ClientKind = 'zokio' | 'undici';

/** Slices per client in one `request()` round (each `seconds / CLIENT_SLICES` long). */
const CLIENT_SLICES = 5;

/**
 * `request()` (zokio) and undici's own `request()` against the local server, 32 requests
 * in flight, timed in alternating slices (zokio, undici, then undici, zokio, ...): both
 * clients run in this process and differ by a few µs per request, while the machine
 * under them (the local server, the runner and the other children on two cores) drifts by
 * more between runs taken seconds apart; slices side by side see the same machine, as the
 * /health slices of bench/http.bench.ts do. Returns each client's median slice in req/s.
 */
async function clientRun(options: MeasureOptions): Promise<Record<ClientKind, number>> {
  const url = `http://127.0.0.1:${children.get('upstream')!.port}/plain`;
  const { createRuntime } = await import('../src/index.js');
  const zokioHttp = await import('../src/io/http/index.js');
  const undici = await import('undici');
  const rt = createRuntime({ io: 'node', http: { connections: 32, keepAliveTimeoutMs: 30_000 } });
  const agent = new undici.Agent({ connections: 32, keepAliveTimeout: 30_000 });
  const one: Record<ClientKind, () => Promise<string>> = {
    zokio: async () => (await zokioHttp.request(url)).text(),
    undici: async () => (await undici.request(url, { dispatcher: agent })).body.text(),
  };
  try {
    return await rt.run(async () => {
      const loop = async (kind: ClientKind, ms: number): Promise<number> => {
        let done = 0;
        const end = performance.now() + ms;
        await Promise.all(Array.from({ length: 32 }, async () => {
          while (performance.now() < end) {
            await one[kind]();
            done++;
          }
        }));
        return done / (ms / 1000);
      };
      await loop('zokio', 500);
      await loop('undici', 500);
      const slices: Record<ClientKind, number[]> = { zokio: [], undici: [] };
      const sliceMs = (seconds(options) * 1000) / CLIENT_SLICES;
      for (let i = 0; i < CLIENT_SLICES; i++) {
        for (const kind of i % 2 === 0 ? (['zokio', 'undici'] as const) : (['undici', 'zokio'] as const)) slices[kind].push(await loop(kind, sliceMs));
      }
      return { zokio: median(slices.zokio), undici: median(slices.undici) };
    });
  } finally {
    await agent.close();
    await rt.shutdown();
  }
}

const cases: BenchCase[] = [];
for (const g of GATEWAYS) {
  for (const [name, unit, better] of [['rps', 'req/s', 'higher'], ['p50', 'ms', 'lower'], ['p90', 'ms', 'lower'], ['p99', 'ms', 'lower']] as const) {
    cases.push({ group: `GET /health ${name}`, subject: NAMES[g], unit, better, measure: (o) => metric(`health:${g}`, name, () => loadRun(g, 'health', o)) });
    cases.push({ group: `JSON forward ${name}`, subject: NAMES[g], unit, better, measure: (o) => metric(`json:${g}`, name, () => loadRun(g, 'json', o)) });
  }
  cases.push({ group: '/health p99 while JSON forward is saturated', subject: NAMES[g], unit: 'ms', better: 'lower', measure: (o) => metric(`mixed:${g}`, 'p99', () => mixedRun(g, o)) });
  cases.push({ group: `SSE relay, ${STREAMS} concurrent streams`, subject: NAMES[g], unit: 'events/s', better: 'higher', measure: (o) => metric(`sse:${g}`, 'eventsPerSec', () => sseRun(g, o)) });
  cases.push({ group: 'SSE relay: gateway CPU per relayed event', subject: NAMES[g], unit: 'µs/event', better: 'lower', measure: (o) => metric(`sse:${g}`, 'cpuUsPerEvent', () => sseRun(g, o)) });
  cases.push({ group: 'SSE relay: RSS per open stream', subject: NAMES[g], unit: 'KB/stream', better: 'lower', measure: (o) => metric(`sse:${g}`, 'kbPerStream', () => sseRun(g, o)) });
  cases.push({ group: 'gateway RSS after the runs', subject: NAMES[g], unit: 'MB', better: 'lower', measure: async () => rssMb(children.get(g)!.proc.pid) });
}
cases.push({ group: 'client request() vs undici request(), local server', subject: 'zokio', unit: 'req/s', better: 'higher', measure: (o) => metric('client', 'zokio', () => clientRun(o)) });
cases.push({ group: 'client request() vs undici request(), local server', subject: 'undici', unit: 'req/s', better: 'higher', measure: (o) => metric('client', 'undici', () => clientRun(o)) });

export default defineSuite({
  name: 'gateway',
  title: 'API gateway: zokio vs Fastify + undici vs node:http + fetch (autocannon, 127.0.0.1, child processes)',
  cases,
  targets: [
    { group: 'JSON forward rps', text: 'zokio >= 1.25× fastify+undici', check: (z, peers) => z >= 1.25 * (peers['fastify+undici'] ?? Infinity) },
    { group: '/health p99 while JSON forward is saturated', text: 'zokio < 10 ms', check: (z) => z < 10 },
    { group: 'client request() vs undici request(), local server', text: 'zokio >= 0.9× undici', check: (z, peers) => z >= 0.9 * (peers.undici ?? Infinity) },
  ],
  async setup() {
    const up = await startChild('upstream');
    children.set('upstream', up);
    for (const g of GATEWAYS) children.set(g, await startChild(g, `http://127.0.0.1:${up.port}`));
  },
  async teardown() {
    for (const child of children.values()) await stopChild(child);
    children.clear();
    rounds.clear();
  },
});
