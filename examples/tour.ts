/**
 * The Zokio tour (`npm start`): builds a runtime from the typed builder, prints its
 * report, runs tasks in a structured scope, and shuts down. Each later section shows one
 * more part of the runtime.
 */
import { Runtime, sleep, spawn } from '../src/index.js';

const rt = Runtime.builder().workers(2).queueCapacity(256).strategy('local_first').timer({ resolutionMs: 1 }).build();

console.log(rt.describe());
console.log();

await rt.run(async () => {
  // Structured concurrency: the scope waits for its children; a failure aborts the rest.
  const started = performance.now();
  const results = await rt.scope(async (s) => {
    const fetchUser = s.spawn(async () => {
      await sleep(20);
      return { id: 1, name: 'ada' };
    }, { name: 'fetch-user' });
    const fetchOrders = s.spawn(async () => {
      await sleep(30);
      return [101, 102];
    }, { name: 'fetch-orders' });
    return { user: await fetchUser, orders: await fetchOrders };
  });
  console.log(`scope: ${JSON.stringify(results)} in ${(performance.now() - started).toFixed(0)} ms (two sleeps ran concurrently)`);

  // A task that is aborted sees its signal and stops.
  const slow = spawn(async (cx) => {
    await sleep(60_000, { signal: cx.signal });
  }, { name: 'slow' });
  await sleep(5);
  slow.abort('tour is moving on');
  await slow.catch((err: Error) => console.log(`abort: task '${slow.name}' is ${slow.state} (${err.message})`));
});

console.log();
console.log('metrics:', JSON.stringify(rt.metrics().tasks));
await rt.shutdown();
