/**
 * One producer fans out to a fast and a slow subscriber over a broadcast channel. The
 * producer applies one backpressure threshold: when the slowest subscriber has
 * `THRESHOLD` unread events it logs one warning and waits (no polling: `drained()`
 * resolves when a subscriber catches up), so nobody lags and no event is lost.
 *
 * Run: npx tsx examples/broadcast-backpressure.ts
 */
import { broadcast, type BroadcastReceiver } from '../src/sync/index.js';

const CAPACITY = 32;
const THRESHOLD = 16;

async function subscriber(name: string, rx: BroadcastReceiver<number>, delay: () => Promise<void>): Promise<{ name: string; received: number; lagged: number; sum: number }> {
  let received = 0;
  let lagged = 0;
  let sum = 0;
  for await (const r of rx) {
    if (r.kind === 'lagged') lagged += r.missed;
    else {
      received++;
      sum += r.value;
      await delay();
    }
  }
  return { name, received, lagged, sum };
}

/** Sends `count` events; returns what each subscriber saw and how often the producer waited. */
export async function main(count = 500, warn: (message: string) => void = console.warn) {
  const [tx, fastRx] = broadcast<number>(CAPACITY);
  const slowRx = tx.subscribe();
  const fast = subscriber('fast', fastRx, () => Promise.resolve());
  const slow = subscriber('slow', slowRx, () => new Promise<void>((resolve) => setImmediate(resolve)));

  let waits = 0;
  let warned = false;
  for (let i = 1; i <= count; i++) {
    if (tx.length >= THRESHOLD) {
      if (!warned) {
        warn(`broadcast-backpressure: a subscriber is ${tx.length} events behind (threshold ${THRESHOLD}); producer waits`);
        warned = true;
      }
      waits++;
      await tx.drained(THRESHOLD / 2); // resolves when the slowest has at most 8 unread
    }
    tx.send(i);
  }
  tx.close();
  const subscribers = await Promise.all([fast, slow]);
  return { subscribers, waits, warned };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await main();
  for (const s of result.subscribers) console.log(`${s.name}: ${s.received} events, sum ${s.sum}, lagged ${s.lagged}`);
  console.log(`producer waited ${result.waits} time(s) for the slow subscriber`);
}
