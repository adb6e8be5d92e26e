/**
 * HTTP bench: `serve()` against bare `node:http`, driven by autocannon on 127.0.0.1.
 *
 * - GET /health requests per second (target: zokio >= 1.2× node:http), each server's CPU
 *   per request on those sockets (from /proc), and the same servers with 10 requests
 *   pipelined per connection (the load generator's own cost per request is then far lower);
 * - mixed load: /health p99 latency while /cpu (2 ms of CPU per request) is saturated —
 *   zokio offloads /cpu to the work-stealing pool with `rt.exec`, bare node computes on
 *   its event loop (target: zokio p99 < 10 ms); autocannon reports latency in whole
 *   milliseconds, so 0 means under 1 ms (and the table shows no ratio for it);
 * - RSS of each server process after its load;
 * and, as references in the /health group, bare node:http with one AsyncLocalStorage
 * entered (what the context every zokio process carries costs node:http by itself), and a
 * node:net responder that parses nothing and writes a canned response per request: the
 * most req/s autocannon measures on this machine, so the highest ratio over node:http
 * that a run can show at all.
 *
 * Each server runs in its own child process (this file, started with
 * ZOKIO_HTTP_BENCH_ROLE set) so autocannon in the runner does not share its event loop.
 * The machine may be shared: the runner reports medians of the repeats.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { AsyncLocalStorage } from 'node:async_hooks';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { HttpRequest, HttpResponseInit } from '../src/io/http/index.js';
import { defineSuite, median, type BenchCase, type MeasureOptions } from './harness.js';

/** The part of autocannon's result this bench reads. */
interface AutocannonResult {
  readonly requests: { readonly average: number; readonly total: number };
  readonly latency: { readonly p50: number; readonly p99: number };
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
}
type Autocannon = (options: { url: string; connections: number; duration: number; pipelining?: number }) => Promise<AutocannonResult>;

const CPU_MS = 2;
const role = process.env.ZOKIO_HTTP_BENCH_ROLE;

// ---------------------------------------------------------------------------------------
// Child roles: the servers under test.
// ---------------------------------------------------------------------------------------

function spin(ms: number): number {
  const end = performance.now() + ms;
  let turns = 0;
  while (performance.now() < end) turns++;
  return turns;
}

/** The bare node:http server's handler: /health, /cpu (computed on the event loop), else 404. */
function nodeHandler(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('ok');
  } else if (req.url === '/cpu') {
    const body = JSON.stringify({ turns: spin(CPU_MS) });
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(body);
  } else {
    res.writeHead(404);
    res.end();
  }
}

/** The zokio server's handler: what `nodeHandler` answers on /health, as a response init. */
function zokioHandler(req: HttpRequest): HttpResponseInit {
  return req.url === '/health' ? { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'ok' } : { status: 404 };
}

/** zokio's /health response without its `date` and `keep-alive` lines (less for autocannon to read): what the canned responder writes. */
const CANNED = Buffer.from('HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok', 'latin1');
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

/**
 * Not a server: answers each request end (CRLFCRLF, also across chunks) with {@link CANNED},
 * parsing nothing. A request with a body would break it; autocannon's GETs have none.
 */
function cannedResponder(socket: Socket): void {
  socket.setNoDelay(true);
  socket.on('error', () => undefined); // autocannon resets its connections at the end of a slice
  let tail = Buffer.alloc(0); // what followed the last request end in the previous chunk, at most 3 bytes
  socket.on('data', (chunk: Buffer) => {
    const bytes = tail.length === 0 ? chunk : Buffer.concat([tail, chunk]);
    let ends = 0;
    let after = 0; // just past the last request end
    for (let at = bytes.indexOf(HEAD_END); at >= 0; at = bytes.indexOf(HEAD_END, at + 4)) {
      ends++;
      after = at + 4;
    }
    tail = Buffer.from(bytes.subarray(Math.max(after, bytes.length - 3)));
    if (ends === 1) socket.write(CANNED);
    else if (ends > 1) socket.write(Buffer.concat(new Array<Buffer>(ends).fill(CANNED)));
  });
}

async function runServer(kind: string): Promise<void> {
  let port: number;
  if (kind === 'canned') {
    const server = createNetServer(cannedResponder);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  } else if (kind === 'node' || kind === 'node-als') {
    // The reference: bare node:http in a process where one AsyncLocalStorage has been
    // entered, as Zokio's runtime context is in every zokio process (see ALS_REFERENCE).
    if (kind === 'node-als') new AsyncLocalStorage<object>().enterWith({});
    const server = createServer(nodeHandler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  } else {
    if (kind === 'zokio-mixed') {
      // One pool worker: the machine has 2 cores and autocannon needs one.
      const { startMixedLoad } = await import('../examples/mixed-load.js');
      port = (await startMixedLoad({ port: 0, workers: 1, cpuMs: CPU_MS })).server.port;
    } else {
      // What an application serving /health loads: the runtime and zokio/http, nothing else.
      const { createRuntime } = await import('../src/index.js');
      const { serve } = await import('../src/io/http/index.js');
      const rt = createRuntime({ io: 'node' });
      const server = await rt.run(() =>
        serve(zokioHandler, { port: 0 }),
      );
      port = server.port;
    }
  }
  process.stdout.write(`port ${port}\n`);
}

if (role !== undefined) await runServer(role);

// ---------------------------------------------------------------------------------------
// Runner side.
// ---------------------------------------------------------------------------------------

interface Child {
  readonly proc: ChildProcess;
  readonly port: number;
}

const children = new Map<string, Child>();
const lastRss = new Map<string, number>();
let autocannonFn: Autocannon | undefined;

async function autocannon(): Promise<Autocannon> {
  // autocannon ships no types; a non-literal specifier keeps the import untyped.
  const name = 'autocannon';
  autocannonFn ??= ((await import(name)) as { default: Autocannon }).default;
  return autocannonFn;
}

function startChild(kind: string): Promise<Child> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { ...process.env, ZOKIO_HTTP_BENCH_ROLE: kind },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.once('error', reject);
    proc.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
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

/** User + system CPU seconds used so far by process `pid` (from /proc; clock ticks of 1/100 s). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

function rssMb(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    return kb / 1024;
  } catch {
    return NaN;
  }
}

function seconds(options: MeasureOptions): number {
  return options.quick ? 2 : 5;
}

/** The servers of the /health group, measured together (see {@link measureHealthRound}). */
const HEALTH_KINDS = ['zokio', 'node', 'node-als', 'canned'] as const;
/** The servers also loaded with {@link PIPELINING} requests in flight per connection. */
const PIPELINED_KINDS = ['zokio', 'node'] as const;
/** Requests in flight per connection in the pipelined /health slices. */
const PIPELINING = 10;
/** The medians of the last round that a /health case has not read yet, by server kind. */
let healthRound: Map<string, number> | undefined;

/**
 * One /health figure of one server (`zokio`: req/s; `cpu:zokio`: server µs CPU per request;
 * `pipelined:zokio`: req/s with pipelining): its value from the current round, a new round
 * when this value was already read.
 */
async function healthValue(key: string, options: MeasureOptions): Promise<number> {
  if (healthRound === undefined || !healthRound.has(key)) healthRound = await measureHealthRound(options);
  const value = healthRound.get(key) ?? NaN;
  healthRound.delete(key);
  return value;
}

/**
 * Starts the three /health servers afresh, warms each up for a second, then loads them in
 * turns of one second each (order rotated every turn), 5 turns in a full run, then zokio
 * and node:http pipelined in as many turns, and returns each figure's median slice; the
 * servers are stopped at the end of the round.
 *
 * Why this shape, both from runs on this machine:
 * - Alternating 1 s slices: it is shared, and one 5 s run per server, one after the other,
 *   let drift fall on one server more than another (single runs of the same server
 *   ranged from 15 k to 29 k req/s).
 * - New processes every round: a server process can keep a slow JIT state for its whole
 *   life (one zokio process ran at 0.78× of another with the same server code for a
 *   whole 12-turn comparison; new processes of both ran at par). With the same processes for
 *   every repeat, such a state skews all of them; with new ones, the runner's median over
 *   repeats sets it aside (as JMH runs a benchmark in several forked JVMs).
 */
async function measureHealthRound(options: MeasureOptions): Promise<Map<string, number>> {
  const run = await autocannon();
  const servers = new Map<string, Child>();
  try {
    for (const kind of HEALTH_KINDS) servers.set(kind, await startChild(kind));
    for (const kind of HEALTH_KINDS) await run({ url: `http://127.0.0.1:${servers.get(kind)!.port}/health`, connections: 10, duration: 1 });
    const turns = seconds(options);
    const samples = new Map<string, number[]>();
    const sample = (key: string, value: number): void => {
      const list = samples.get(key);
      if (list === undefined) samples.set(key, [value]);
      else list.push(value);
    };
    /** One 1 s slice of load on `kind`: its req/s, and its server's CPU per request from /proc. */
    const slice = async (kind: string, pipelining: number): Promise<number> => {
      const child = servers.get(kind)!;
      const cpu0 = cpuSeconds(child.proc.pid);
      const result = await run({ url: `http://127.0.0.1:${child.port}/health`, connections: 50, duration: 1, pipelining });
      const cpu = cpuSeconds(child.proc.pid) - cpu0;
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`${kind}: ${result.non2xx} non-2xx, ${result.errors} errors`);
      if (pipelining === 1 && result.requests.total > 0) sample(`cpu:${kind}`, (cpu * 1e6) / result.requests.total);
      return result.requests.average;
    };
    for (let turn = 0; turn < turns; turn++) {
      for (let i = 0; i < HEALTH_KINDS.length; i++) {
        const kind = HEALTH_KINDS[(i + turn) % HEALTH_KINDS.length]!;
        sample(kind, await slice(kind, 1));
      }
    }
    for (let turn = 0; turn < turns; turn++) {
      for (const kind of turn % 2 === 0 ? PIPELINED_KINDS : [...PIPELINED_KINDS].reverse()) sample(`pipelined:${kind}`, await slice(kind, PIPELINING));
    }
    const medians = new Map<string, number>();
    for (const kind of HEALTH_KINDS) lastRss.set(`health:${kind}`, rssMb(servers.get(kind)!.proc.pid));
    for (const [key, values] of samples) medians.set(key, median(values));
    return medians;
  } finally {
    for (const child of servers.values()) await stopChild(child);
  }
}

async function mixedP99(kind: string, options: MeasureOptions): Promise<number> {
  const child = children.get(kind)!;
  const run = await autocannon();
  const base = `http://127.0.0.1:${child.port}`;
  const duration = seconds(options);
  const [cpu, health] = await Promise.all([
    run({ url: `${base}/cpu`, connections: 20, duration }),
    run({ url: `${base}/health`, connections: 4, duration }),
  ]);
  lastRss.set(`mixed:${kind}`, rssMb(child.proc.pid));
  if (cpu.non2xx > 0 || cpu.errors > 0) throw new Error(`${kind}: /cpu answered ${cpu.non2xx} non-2xx, ${cpu.errors} errors (is the worker pool available?)`);
  if (health.non2xx > 0 || health.errors > 0) throw new Error(`${kind}: /health answered ${health.non2xx} non-2xx, ${health.errors} errors`);
  return health.latency.p99;
}

/** A /health round for an RSS case that runs before any /health case: its medians stay for those. */
async function loadHealth(options: MeasureOptions): Promise<void> {
  healthRound ??= await measureHealthRound(options);
}

async function rss(key: string, measureLoad: () => Promise<unknown>): Promise<number> {
  if (!lastRss.has(key)) await measureLoad();
  return lastRss.get(key)!;
}

/**
 * GET /health with no network: CPU time per request of `serve()` or of a bare `node:http`
 * server in this process, both fed by the in-memory loopback of a `memory`-backend
 * runtime and both inside that runtime's context (so both pay the same async hooks). A
 * client pipelines batches of 64 requests on one connection. Without the kernel and
 * autocannon in the way, the two rows compare the servers' own work per request.
 * `requestTimeoutMs: 0` because the bare server, fed connections by hand, has no request
 * timeout here.
 */
async function inProcessCpuPerRequest(kind: 'zokio' | 'node', options: MeasureOptions): Promise<number> {
  const { createRuntime } = await import('../src/index.js');
  const { serve } = await import('../src/io/http/index.js');
  const rt = createRuntime({ io: 'memory' });
  const total = options.quick ? 10_000 : 40_000;
  try {
    return await rt.run(async () => {
      let connect: () => Promise<Duplex>;
      let stop: () => Promise<void>;
      if (kind === 'zokio') {
        const server = await serve(zokioHandler, { port: 0, limits: { requestTimeoutMs: 0 } });
        connect = () => server.connect();
        stop = () => server.close();
      } else {
        // The loopback's connections go to a node:http server that never listens on a real socket.
        const server = createServer(nodeHandler);
        const listener = await listenInMemory(rt, server);
        connect = () => listener.connect();
        stop = async () => {
          server.close();
          await listener.close();
        };
      }
      try {
        // Warm-up, then the median of three runs: the first thousands of requests of a new
        // server still run partly unoptimized code (measured: up to a fifth slower).
        await pipelineHealth(connect, total);
        const runs: number[] = [];
        for (let i = 0; i < 3; i++) runs.push(await pipelineHealth(connect, total));
        return median(runs);
      } finally {
        await stop();
      }
    });
  } finally {
    await rt.shutdown();
  }
}

/** Feeds the connections of a `memory`-backend runtime's loopback to `server` (as `serve()` does there). */
async function listenInMemory(rt: object, server: Server): Promise<{ connect(): Promise<Duplex>; close(): Promise<void> }> {
  const { ioDriver } = await import('../src/io/driver.js');
  const net = ioDriver(rt as never).net;
  const listener = await net.listen('127.0.0.1', 0, 511, (socket: Duplex) => server.emit('connection', socket));
  server.emit('listening'); // starts node's connection tracking, as for a listening server
  return { connect: () => net.connect('127.0.0.1', listener.address.port, undefined), close: () => listener.close() };
}

/** Sends `total` GET /health on one connection, 64 pipelined at a time; returns CPU µs per request. */
async function pipelineHealth(connect: () => Promise<Duplex>, total: number): Promise<number> {
  const batch = 64;
  const requests = Buffer.from('GET /health HTTP/1.1\r\nHost: bench\r\n\r\n'.repeat(batch));
  const socket = await connect();
  let answered = 0;
  let wanted = 0;
  let wake: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    for (let at = chunk.indexOf('HTTP/1.1 200'); at >= 0; at = chunk.indexOf('HTTP/1.1 200', at + 12)) answered++;
    if (answered >= wanted) wake?.();
  });
  const start = process.cpuUsage();
  for (let sent = 0; sent < total; sent += batch) {
    wanted = sent + batch;
    await new Promise<void>((resolve) => {
      wake = resolve;
      socket.write(requests);
    });
  }
  const used = process.cpuUsage(start);
  socket.destroy();
  return (used.user + used.system) / total;
}

/**
 * Not a peer: bare node:http with one AsyncLocalStorage entered. On Node 20 the first
 * `AsyncLocalStorage.run()` or `enterWith()` installs async hooks for the whole process, so
 * node's own per-request objects pay for them; this row shows, in the same run, what that
 * alone costs bare node:http, against which zokio's `serve()` can be read.
 */
const ALS_REFERENCE = 'node:http + one AsyncLocalStorage (reference)';

/**
 * Not a peer: the canned responder ({@link cannedResponder}). On this 2-core machine
 * autocannon and the server under test share the cores, and autocannon's own cost per
 * request caps what any server can show: this row is that cap, measured in the same
 * slices. When it is under 1.2× node:http's row, no server could meet the /health target
 * in that run.
 */
const CEILING_REFERENCE = 'canned bytes over node:net, nothing parsed (load-generator ceiling, reference)';

/**
 * The server's CPU per request during the /health slices above, read from /proc: what each
 * server spends on real sockets. On this 2-core machine autocannon, in the runner, uses
 * about one core itself during those slices, so their req/s is capped by the load generator
 * as much as by the server; this row and the pipelined one show the servers' own cost.
 */
const HEALTH_CPU = 'GET /health on sockets: server CPU per request';
/** The same servers with 10 requests in flight per connection: the load generator spends far less per request. */
const HEALTH_PIPELINED = `GET /health, ${PIPELINING} pipelined per connection`;

const cases: BenchCase[] = [
  { group: 'GET /health', subject: 'zokio', unit: 'req/s', better: 'higher', measure: (o) => healthValue('zokio', o) },
  { group: 'GET /health', subject: 'node:http', unit: 'req/s', better: 'higher', measure: (o) => healthValue('node', o) },
  { group: 'GET /health', subject: ALS_REFERENCE, unit: 'req/s', better: 'higher', measure: (o) => healthValue('node-als', o) },
  { group: 'GET /health', subject: CEILING_REFERENCE, unit: 'req/s', better: 'higher', measure: (o) => healthValue('canned', o) },
  { group: HEALTH_CPU, subject: 'zokio', unit: 'µs CPU/req', better: 'lower', measure: (o) => healthValue('cpu:zokio', o) },
  { group: HEALTH_CPU, subject: 'node:http', unit: 'µs CPU/req', better: 'lower', measure: (o) => healthValue('cpu:node', o) },
  { group: HEALTH_PIPELINED, subject: 'zokio', unit: 'req/s', better: 'higher', measure: (o) => healthValue('pipelined:zokio', o) },
  { group: HEALTH_PIPELINED, subject: 'node:http', unit: 'req/s', better: 'higher', measure: (o) => healthValue('pipelined:node', o) },
  { group: 'GET /health in process (memory loopback, both in the runtime context)', subject: 'zokio', unit: 'µs CPU/req', better: 'lower', measure: (o) => inProcessCpuPerRequest('zokio', o) },
  { group: 'GET /health in process (memory loopback, both in the runtime context)', subject: 'node:http', unit: 'µs CPU/req', better: 'lower', measure: (o) => inProcessCpuPerRequest('node', o) },
  { group: 'mixed: /health p99 while /cpu saturated', subject: 'zokio', unit: 'ms', better: 'lower', measure: (o) => mixedP99('zokio-mixed', o) },
  { group: 'mixed: /health p99 while /cpu saturated', subject: 'node:http', unit: 'ms', better: 'lower', measure: (o) => mixedP99('node', o) },
  { group: 'RSS after /health load', subject: 'zokio', unit: 'MB', better: 'lower', measure: (o) => rss('health:zokio', () => loadHealth(o)) },
  { group: 'RSS after /health load', subject: 'node:http', unit: 'MB', better: 'lower', measure: (o) => rss('health:node', () => loadHealth(o)) },
  { group: 'RSS under mixed load', subject: 'zokio', unit: 'MB', better: 'lower', measure: (o) => rss('mixed:zokio-mixed', () => mixedP99('zokio-mixed', o)) },
  { group: 'RSS under mixed load', subject: 'node:http', unit: 'MB', better: 'lower', measure: (o) => rss('mixed:node', () => mixedP99('node', o)) },
];

export default defineSuite({
  name: 'http',
  title: 'serve() vs bare node:http (autocannon, 127.0.0.1, servers in child processes)',
  cases,
  targets: [
    { group: 'GET /health', text: 'zokio >= 1.2× node:http req/s', check: (z, peers) => z >= 1.2 * (peers['node:http'] ?? Infinity) },
    { group: 'mixed: /health p99 while /cpu saturated', text: 'zokio /health p99 < 10 ms', check: (z) => z < 10 },
  ],
  async setup() {
    // The mixed-load servers; the /health ones are started per round (see measureHealthRound).
    for (const kind of ['node', 'zokio-mixed']) children.set(kind, await startChild(kind));
  },
  async teardown() {
    for (const child of children.values()) await stopChild(child);
    children.clear();
  },
});
