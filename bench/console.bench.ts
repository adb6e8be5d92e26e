/**
 * The console's cost (issue #24): the same workloads with and without one console client
 * connected at 1 Hz, measured in the same run, and the main-thread time of one console
 * tick with 10,000 live tasks.
 *
 * - spawn+join (batches of 1000): the tasks suite's main case, on a runtime without a
 *   console (`zokio, no console`) and on one whose console has a stream client reading
 *   it (`zokio`): ratio ≥ 0.98 is the target (at most 2% slower);
 * - GET /health requests per second: the http suite's zokio server, in a child process
 *   each, one of them with `rt.console()` and a stream client of its own; autocannon
 *   loads them in alternating 1 s slices (as the http suite does), target ≥ 0.98;
 * - console tick with 10,000 live tasks: sample + diff + serialise of one tick, in ms, with
 *   every task shown (`retention.tasks: 10000`) and with the default retention (2000
 *   rows); target ≤ 1 ms.
 * The machine may be shared: the runner reports medians of the repeats.
 */
import { spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Runtime, type Task } from '../src/index.js';
import type { RuntimeConsole } from '../src/console/index.js';
import { consoleInternals } from '../src/console/server.js';
import type { HttpRequest, HttpResponseInit } from '../src/io/http/index.js';
import { defineSuite, median, throughput, type BenchCase, type MeasureOptions } from './harness.js';

const BATCH = 1000;
const role = process.env.ZOKIO_CONSOLE_BENCH_ROLE;

/** Connects one stream client to a console and reads it until `signal` aborts. */
async function connectClient(c: RuntimeConsole, signal: AbortSignal): Promise<void> {
  const res = await fetch(`${c.origin}/api/v1/stream?token=${c.token}`, { signal });
  const reader = res.body!.getReader();
  const first = await reader.read(); // the hello: the client is connected
  if (first.done === true) throw new Error('console stream ended at once');
  void (async () => {
    try {
      while (!(await reader.read()).done) {
        // keep reading: a client that keeps up
      }
    } catch {
      // aborted
    }
  })();
}

// ---------------------------------------------------------------------------------------
// Child role: a /health server, with or without a connected console client.
// ---------------------------------------------------------------------------------------

function healthHandler(req: HttpRequest): HttpResponseInit {
  return req.url === '/health' ? { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'ok' } : { status: 404 };
}

if (role !== undefined) {
  const { createRuntime } = await import('../src/index.js');
  const { serve } = await import('../src/io/http/index.js');
  const rt = createRuntime({ io: 'node' });
  const server = await rt.run(() => serve(healthHandler, { port: 0 }));
  if (role === 'console') {
    const c = await rt.console({ intervalMs: 1000 });
    await connectClient(c, new AbortController().signal);
  }
  process.stdout.write(`port ${server.port}\n`);
}

// ---------------------------------------------------------------------------------------
// Runner side.
// ---------------------------------------------------------------------------------------

async function spawnJoin(options: MeasureOptions, withConsole: boolean): Promise<number> {
  const rt = Runtime.builder().build();
  const stop = new AbortController();
  let c: RuntimeConsole | undefined;
  try {
    if (withConsole) {
      c = await rt.console({ intervalMs: 1000 });
      await connectClient(c, stop.signal);
    }
    return await rt.run(() =>
      throughput(async () => {
        const tasks: Task<number>[] = new Array(BATCH);
        for (let i = 0; i < BATCH; i++) tasks[i] = rt.spawn(async () => i);
        for (let i = 0; i < BATCH; i++) await tasks[i];
      }, BATCH, options),
    );
  } finally {
    stop.abort();
    await c?.close();
    await rt.shutdown();
  }
}

/** Main-thread ms of one console tick with 10,000 live tasks (median of 30 ticks). */
async function tickMs(retentionTasks: number): Promise<number> {
  const rt = Runtime.builder().build();
  const c = await rt.console({ intervalMs: 60_000, retention: { tasks: retentionTasks } });
  try {
    return await rt.run(async () => {
      let release!: () => void;
      const hold = new Promise<void>((resolve) => (release = resolve));
      const tasks: Task<void>[] = [];
      for (let i = 0; i < 10_000; i++) tasks.push(rt.spawn(async () => hold, { name: `task ${i}` }));
      await new Promise((resolve) => setImmediate(resolve)); // every task started
      const { feed } = consoleInternals(c);
      const client = feed.attach(undefined)!; // sampling on, as with a browser connected
      const times: number[] = [];
      for (let i = 0; i < 30; i++) {
        const t0 = performance.now();
        feed.tick();
        times.push(performance.now() - t0);
        client.queue.length = 0; // a client that keeps up
      }
      client.close();
      release();
      await Promise.all(tasks);
      return median(times);
    });
  } finally {
    await c.close();
    await rt.shutdown();
  }
}

interface Child {
  readonly proc: ChildProcess;
  readonly port: number;
}

function startChild(kind: string): Promise<Child> {
  return new Promise((resolve, reject) => {
    const proc = spawnChild(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { ...process.env, ZOKIO_CONSOLE_BENCH_ROLE: kind },
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

type Autocannon = (options: { url: string; connections: number; duration: number }) => Promise<{ requests: { average: number } }>;

const HEALTH_KINDS = ['plain', 'console'] as const;
let healthRound: Map<string, number> | undefined;

/** Both servers afresh, warmed up, then alternating 1 s slices; each one's median slice. */
async function measureHealthRound(options: MeasureOptions): Promise<Map<string, number>> {
  const name = 'autocannon'; // ships no types; a non-literal specifier keeps the import untyped
  const run = ((await import(name)) as { default: Autocannon }).default;
  const servers = new Map<string, Child>();
  try {
    for (const kind of HEALTH_KINDS) servers.set(kind, await startChild(kind));
    for (const kind of HEALTH_KINDS) await run({ url: `http://127.0.0.1:${servers.get(kind)!.port}/health`, connections: 10, duration: 1 });
    const turns = options.quick ? 2 : 5;
    const rates = new Map<string, number[]>(HEALTH_KINDS.map((kind) => [kind, []]));
    for (let turn = 0; turn < turns; turn++) {
      for (let i = 0; i < HEALTH_KINDS.length; i++) {
        const kind = HEALTH_KINDS[(i + turn) % HEALTH_KINDS.length]!;
        const result = await run({ url: `http://127.0.0.1:${servers.get(kind)!.port}/health`, connections: 10, duration: 1 });
        rates.get(kind)!.push(result.requests.average);
      }
    }
    return new Map([...rates].map(([kind, values]) => [kind, median(values)]));
  } finally {
    for (const child of servers.values()) await stopChild(child);
  }
}

async function healthRps(kind: string, options: MeasureOptions): Promise<number> {
  if (healthRound === undefined || !healthRound.has(kind)) healthRound = await measureHealthRound(options);
  const value = healthRound.get(kind)!;
  healthRound.delete(kind);
  return value;
}

const cases: BenchCase[] = [
  { group: 'spawn+join (batches of 1000)', subject: 'zokio', unit: 'tasks/s', better: 'higher', measure: (o) => spawnJoin(o, true) },
  { group: 'spawn+join (batches of 1000)', subject: 'zokio, no console', unit: 'tasks/s', better: 'higher', measure: (o) => spawnJoin(o, false) },
  { group: 'GET /health', subject: 'zokio', unit: 'req/s', better: 'higher', measure: (o) => healthRps('console', o) },
  { group: 'GET /health', subject: 'zokio, no console', unit: 'req/s', better: 'higher', measure: (o) => healthRps('plain', o) },
  { group: 'console tick, 10,000 live tasks', subject: 'zokio', unit: 'ms', better: 'lower', measure: () => tickMs(10_000) },
  { group: 'console tick, 10,000 live tasks', subject: 'zokio, 2000 rows (default retention)', unit: 'ms', better: 'lower', measure: () => tickMs(2000) },
];

export default defineSuite({
  name: 'console',
  title: 'the runtime console: workloads with one console client connected at 1 Hz ("zokio") against the same without a console, and the cost of one tick',
  minRepeat: 11, // its targets allow 2%: see BenchSuite.minRepeat
  cases,
  targets: [
    { group: 'spawn+join (batches of 1000)', text: 'with console connected >= 0.98x without', check: (z, p) => z >= 0.98 * p['zokio, no console']! },
    { group: 'GET /health', text: 'with console connected >= 0.98x without', check: (z, p) => z >= 0.98 * p['zokio, no console']! },
    { group: 'console tick, 10,000 live tasks', text: '<= 1 ms of main-thread time per tick', check: (z) => z <= 1 },
  ],
});
