/**
 * A three-stage pipeline over bounded channels: parse → enrich (two workers) → sum.
 * Each channel holds at most a few items, so a fast stage waits for a slow one
 * (backpressure) instead of buffering without bound.
 *
 * Run: npx tsx examples/pipeline.ts
 */
import { channel, Semaphore } from '../src/sync/index.js';

interface Record {
  readonly id: number;
  readonly amount: number;
}

/** Runs the pipeline over `count` lines; returns the checksum and the most items ever buffered. */
export async function main(count = 1000): Promise<{ total: number; records: number; maxBuffered: number }> {
  const [linesTx, linesRx] = channel<string>(8);
  const [recordsTx, recordsRx] = channel<Record>(4);
  const [enrichedTx, enrichedRx] = channel<Record>(4);
  let maxBuffered = 0;
  const watchDepth = (): void => {
    maxBuffered = Math.max(maxBuffered, linesRx.length, recordsRx.length, enrichedRx.length);
  };

  const source = (async () => {
    for (let i = 1; i <= count; i++) {
      await linesTx.send(`${i},${i % 10}`); // waits while 8 lines are buffered
      watchDepth();
    }
    linesTx.close();
  })();

  const parse = (async () => {
    for await (const line of linesRx) {
      const [id, amount] = line.split(',').map(Number);
      await recordsTx.send({ id: id!, amount: amount! });
      watchDepth();
    }
    recordsTx.close();
  })();

  // Two enrich workers share the input; each has its own sender clone.
  const budget = new Semaphore(2); // e.g. two calls to a rate-limited service at once
  const enrich = [enrichedTx, enrichedTx.clone()].map(async (tx) => {
    for await (const r of recordsRx) {
      const enriched = await budget.withPermit(async () => ({ id: r.id, amount: r.amount * 2 }));
      await tx.send(enriched);
      watchDepth();
    }
    tx.close();
  });

  let total = 0;
  let records = 0;
  for await (const r of enrichedRx) {
    total += r.amount;
    records++;
  }
  await Promise.all([source, parse, ...enrich]);
  return { total, records, maxBuffered };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await main();
  console.log(`pipeline: ${result.records} records, total ${result.total}, at most ${result.maxBuffered} items buffered in a stage`);
}
