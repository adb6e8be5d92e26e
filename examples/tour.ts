/**
 * The Zokio tour (`npm start`): builds a runtime from the typed builder and prints its
 * report, then runs fork-join on worker threads, a channel pipeline with backpressure,
 * timers, and a traced HTTP request; writes trace.json (open it in https://ui.perfetto.dev)
 * and prints the runtime's metrics.
 */
import { Runtime, channel, interval, sleep, span, spawn, timeout, TimeoutError } from '../src/index.js';
import { injectTraceparent } from '../src/trace/index.js';
import { serve } from '../src/io/http/index.js';
import { tasks } from './tour-tasks.js';

const rt = Runtime.builder()
  .workers(2)
  .queueCapacity(256)
  .strategy('local_first')
  .timer({ resolutionMs: 1 })
  .tracing({ exporter: 'chrome', path: 'trace.json', sampleRatio: 1 })
  .build();

console.log(rt.describe());
const section = (title: string): void => console.log(`\n-- ${title}`);

await rt.run(async () => {
  await span('tour', async () => {
    section('structured concurrency');
    const results = await rt.scope(async (s) => {
      const user = s.spawn(async () => (await sleep(20), { id: 1, name: 'ada' }), { name: 'fetch-user' });
      const orders = s.spawn(async () => (await sleep(30), [101, 102]), { name: 'fetch-orders' });
      return { user: await user, orders: await orders };
    });
    console.log(`scope returned ${JSON.stringify(results)} (both children ran concurrently)`);
    const slow = spawn(async (cx) => sleep(60_000, { signal: cx.signal }), { name: 'slow' });
    await sleep(5);
    slow.abort('the tour moves on');
    await slow.catch((err: Error) => console.log(`task '${slow.name}' is ${slow.state}: ${err.message}`));

    section('fork-join on worker threads');
    const fib = await span('fib(30)', () => rt.exec(tasks.fib, 30));
    console.log(`fib(30) = ${fib} (join() split the work across ${rt.report.workers} workers)`);
    const squares = await rt.map(tasks.square, [1, 2, 3, 4, 5, 6, 7, 8]);
    console.log(`map(square) = ${squares.join(' ')}`);
    const sums = await Promise.all([1, 2, 3, 4].map((k) => rt.exec(tasks.checksum, k * 100_000)));
    console.log(`traced checksums on workers: ${sums.map((x) => x.toString(16)).join(' ')}`);

    section('channel pipeline with backpressure');
    const [tx, rx] = channel<number>(4); // the producer waits whenever 4 items are queued
    const producer = spawn(async () => {
      for (let i = 1; i <= 20; i++) await tx.send(i);
      tx.close();
    }, { name: 'producer' });
    let total = 0;
    for await (const item of rx) {
      total += item;
      if (item % 5 === 0) await sleep(1); // a slow consumer: the producer is held back
    }
    await producer;
    console.log(`consumer summed 1..20 = ${total}`);

    section('timers');
    const ticks: number[] = [];
    for await (const at of interval(10, { missedTick: 'skip' })) {
      ticks.push(at); // each tick yields its scheduled time on the runtime clock
      if (ticks.length === 3) break;
    }
    console.log(`interval ticked 3 times, ${ticks[1]! - ticks[0]!} ms and ${ticks[2]! - ticks[1]!} ms apart`);
    try {
      await timeout(15, async ({ signal }) => sleep(1_000, { signal }));
    } catch (err) {
      if (err instanceof TimeoutError) console.log(`timeout: ${err.message} (${err.code})`);
      else throw err;
    }

    section('a traced HTTP request');
    const server = await serve(async (req) => {
      // serve() continued the caller's trace: this span is its grandchild.
      return span('handler', async () => ({ status: 200, body: `hello from ${req.path}` }));
    }, { host: '127.0.0.1', port: 0 });
    const body = await span('client request', async () => {
      const headers: Record<string, string> = {};
      injectTraceparent(headers);
      const res = await fetch(`http://127.0.0.1:${server.port}/tour`, { headers });
      return res.text();
    });
    console.log(`GET /tour -> "${body}" (the request carried a W3C traceparent header)`);
    await server.close();
  });
});

section('metrics');
const metrics = rt.metrics();
console.log(JSON.stringify(metrics, (_key, value: unknown) => (typeof value === 'bigint' ? Number(value) : value), 1).replace(/\n\s*/g, ' '));
await rt.shutdown();
console.log('\nwrote trace.json: open it in https://ui.perfetto.dev (one lane per worker)');
