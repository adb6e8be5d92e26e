/**
 * Writes `docs/console.png`, the README's picture of the console: a small demo runtime
 * (named tasks in a scope, a semaphore with waiters, channels, an HTTP server under a
 * trickle of requests, `rt.map` on two workers, tracing on), opened in Debian's Chromium
 * through playwright-core.
 *
 *   npx tsx scripts/console-screenshot.ts [out.png]
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { Runtime, Semaphore, channel, sleep, unboundedChannel } from '../src/index.js';
import { serve } from '../src/io/http/index.js';
import { installTracing, span } from '../src/trace/index.js';
import { tasks } from './console-screenshot.tasks.js';

const out = resolve(process.argv[2] ?? 'docs/console.png');
const rt = Runtime.builder().workers(2).build();
installTracing(rt, { exporter: { export: () => undefined } });
const c = await rt.console({ intervalMs: 250 });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
const stop = new AbortController();
try {
  await rt.run(async () => {
    const server = await serve(async (req) => {
      await span(`GET ${req.path}`, () => sleep(req.path === '/slow' ? 40 : 2));
      return req.path === '/missing' ? { status: 404 } : { body: 'ok' };
    }, { port: 0 });
    const sem = new Semaphore(2);
    const permits = [await sem.acquire(), await sem.acquire()];
    const [tx, rx] = channel<number>(16);
    const [events] = unboundedChannel<string>();
    const background = rt.scope(async (s) => {
      s.spawn(async (cx) => {
        for (let i = 0; !cx.signal.aborted; i++) {
          await tx.send(i, { signal: cx.signal }).catch(() => undefined);
          await sleep(30, { signal: cx.signal }).catch(() => undefined);
        }
      }, { name: 'producer' });
      s.spawn(async (cx) => {
        while (!cx.signal.aborted) {
          await sleep(90, { signal: cx.signal }).catch(() => undefined);
          if (rx.length > 0) await rx.recv();
        }
      }, { name: 'consumer' });
      for (const name of ['thumbnail 1', 'thumbnail 2', 'thumbnail 3']) {
        s.spawn(async () => (await sem.acquire(1, { signal: stop.signal }).catch(() => undefined))?.release(), { name });
      }
      s.spawn(async (cx) => {
        while (!cx.signal.aborted) {
          for (const path of ['/health', '/health', '/slow', '/missing']) await fetch(`${server.url}${path}`).catch(() => undefined);
          await span('tick', () => sleep(50, { signal: cx.signal }).catch(() => undefined));
        }
      }, { name: 'http client' });
      s.spawn(async (cx) => {
        for (let i = 0; !cx.signal.aborted; i++) {
          events.send(`event ${i}`);
          await sleep(100, { signal: cx.signal }).catch(() => undefined);
        }
      }, { name: 'event log' });
      s.spawn(async (cx) => {
        while (!cx.signal.aborted) await rt.map(tasks.crunch, Array.from({ length: 40 }, () => 3), { chunkSize: 1, signal: cx.signal }).catch(() => undefined);
      }, { name: 'image batch' });
    }, { signal: stop.signal }).catch(() => undefined);
    rt.spawn(async () => sleep(60_000, { signal: stop.signal }).catch(() => undefined), { name: 'session-reaper' });

    const page = await browser.newPage({ viewport: { width: 1400, height: 1050 } });
    await page.goto(c.url);
    await page.locator('#status.live').waitFor();
    await page.waitForFunction(() => Number((globalThis as { document?: { querySelector(s: string): { textContent: string | null } | null } }).document?.querySelector('#seq')?.textContent?.slice(4)) > 12);
    mkdirSync(dirname(out), { recursive: true });
    await page.screenshot({ path: out, fullPage: true });
    console.log(`wrote ${out}`);
    stop.abort();
    for (const p of permits) p.release();
    await background;
    await server.close();
  });
} finally {
  await browser.close();
  await c.close();
  await rt.shutdown({ timeoutMs: 1000 });
}
