// The console page in Debian's Chromium (/usr/bin/chromium) through playwright-core, no
// browser download, headless. Each test saves a screenshot under test-results/ (ignored by
// git). Waits are on what the page shows (Playwright's polling `expect`-like loops below),
// never on a duration.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime, Semaphore } from '../../src/index.js';
import { tasks } from './fixtures/console-tasks.js';
import { gate } from './helpers.js';

/** The little of the DOM the page callbacks below use (the project's lib has no DOM types). */
interface Element {
  readonly textContent: string | null;
  querySelector(selector: string): Element | null;
  querySelectorAll(selector: string): ArrayLike<Element> & Iterable<Element>;
}
declare const document: Element;

const RESULTS = join(process.cwd(), 'test-results');
let browser: Browser;

beforeAll(async () => {
  mkdirSync(RESULTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
});

afterAll(async () => {
  await browser?.close();
});

/** Opens the console page and collects page errors and CSP violations. */
async function open(url: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
  });
  const response = await page.goto(url);
  expect(response?.status()).toBe(200);
  await page.locator('#status.live').waitFor();
  return { page, problems };
}

/** The text of one task row's cell, by task name. */
function stateOf(page: Page, name: string): Promise<string | null> {
  return page.evaluate((n) => {
    for (const row of document.querySelectorAll('#tasks tr[data-task-id]')) {
      if (row.querySelector('.name')?.textContent === n) return row.querySelector('td:nth-child(3)')?.textContent ?? null;
    }
    return null;
  }, name);
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(RESULTS, `console-${name}.png`), fullPage: true });
}

describe('console page in Chromium', () => {
  it('shows named tasks in the tree and their state changes', async () => {
    const rt = Runtime.builder().build();
    const c = await rt.console({ intervalMs: 100 });
    const { page, problems } = await open(c.url);
    try {
      await rt.run(async () => {
        const hold = gate();
        const fetchUser = rt.spawn(async () => hold.promise, { name: 'fetch-user' });
        await rt.scope(async (s) => {
          const inner = gate();
          s.spawn(async () => inner.promise, { name: 'scoped-child' });
          await page.waitForFunction(() => [...document.querySelectorAll('#tasks .name')].some((e) => e.textContent === 'scoped-child'));
          expect(await page.locator('#tasks tr.scope').allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/^scope #\d+/)]));
          inner.resolve();
        });
        await page.waitForFunction(() => [...document.querySelectorAll('#tasks tr[data-task-id]')].some((r) => r.querySelector('.name')?.textContent === 'fetch-user' && r.querySelector('td:nth-child(3)')?.textContent === 'running'));
        expect(await stateOf(page, 'fetch-user')).toBe('running');
        await page.fill('#filter', 'fetch');
        await page.waitForFunction(() => document.querySelectorAll('#tasks tr[data-task-id]').length === 1);
        await page.fill('#filter', '');
        hold.resolve();
        await fetchUser;
        await page.waitForFunction(() => [...document.querySelectorAll('#tasks tr[data-task-id]')].some((r) => r.querySelector('.name')?.textContent === 'fetch-user' && r.querySelector('td:nth-child(3)')?.textContent === 'done'));
        await screenshot(page, 'tasks');
      });
      expect(problems).toEqual([]);
    } finally {
      await page.close();
      await c.close();
      await rt.shutdown();
    }
  });

  it("each worker lane's executed count rises during rt.map", async () => {
    const rt = Runtime.builder().workers(2).build();
    const c = await rt.console({ intervalMs: 100 });
    try {
      await rt.run(async () => {
        await rt.exec(tasks.nap, 1); // start the pool so that the lanes exist
        const { page, problems } = await open(c.url);
        await page.locator('#pool tr[data-worker="1"]').waitFor();
        // The lanes as the page shows them once it caught up with the pool's counters.
        const counts = (rt.metrics().pool as { workers: Array<{ executed: number }> }).workers.map((w) => w.executed);
        await page.waitForFunction((c) => [...document.querySelectorAll('#pool tr[data-worker] .executed')].map((e) => Number(e.textContent)).join() === c.join(), counts);
        const before = await page.$$eval('#pool tr[data-worker] .executed', (cells) => cells.map((e) => Number(e.textContent)));
        expect(before).toEqual(counts);
        const mapping = rt.map(tasks.spin, Array.from({ length: 400 }, () => 2), { chunkSize: 1 });
        await page.waitForFunction(
          (b) => {
            const now = [...document.querySelectorAll('#pool tr[data-worker] .executed')].map((e) => Number(e.textContent));
            return now.length === b.length && now.every((n, i) => n > b[i]!);
          },
          before,
          { timeout: 30_000 },
        );
        await screenshot(page, 'pool');
        await mapping;
        expect(problems).toEqual([]);
        await page.close();
      });
    } finally {
      await c.close();
      await rt.shutdown();
    }
  });

  it("shows a semaphore's waiters", async () => {
    const rt = Runtime.builder().build();
    const c = await rt.console({ intervalMs: 100 });
    const { page, problems } = await open(c.url);
    try {
      await rt.run(async () => {
        const sem = new Semaphore(1);
        const held = await sem.acquire();
        const waiters = [1, 2, 3].map((i) => rt.spawn(async () => (await sem.acquire()).release(), { name: `waiter ${i}` }));
        await page.waitForFunction(() => document.querySelector('#resources tr[data-kind="semaphore"] .waiters')?.textContent === '3');
        expect(await page.textContent('#resources tr[data-kind="semaphore"] .permits')).toBe('0');
        await screenshot(page, 'semaphore');
        held.release();
        await Promise.all(waiters);
        await page.waitForFunction(() => document.querySelector('#resources tr[data-kind="semaphore"] .waiters')?.textContent === '0');
      });
      expect(problems).toEqual([]);
    } finally {
      await page.close();
      await c.close();
      await rt.shutdown();
    }
  });

  it('replays a saved recording with the same rows', async () => {
    const rt = Runtime.builder().build();
    const c = await rt.console({ intervalMs: 100 });
    const dir = mkdtempSync(join(tmpdir(), 'zokio-console-'));
    const { page, problems } = await open(c.url);
    try {
      await rt.run(async () => {
        const hold = gate();
        const spawned = ['ingest', 'resize', 'upload'].map((name) => rt.spawn(async () => hold.promise, { name }));
        await page.waitForFunction(() => document.querySelectorAll('#tasks tr[data-task-id] td:nth-child(3)').length === 3 && [...document.querySelectorAll('#tasks tr[data-task-id] td:nth-child(3)')].every((e) => e.textContent === 'running'));
        await page.click('#record');
        const seq = await page.textContent('#seq');
        await page.waitForFunction((s) => document.querySelector('#seq')?.textContent !== s, seq); // at least one update recorded
        await page.click('#record'); // stop
        const rowsOf = (): Promise<string[][]> =>
          page.$$eval('#tasks tr[data-task-id]', (rows) => rows.map((r) => [...r.querySelectorAll('td')].slice(0, 3).map((td) => td.textContent ?? '')));
        const live = await rowsOf();
        const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
        const file = join(dir, 'recording.jsonl');
        await download.saveAs(file);
        hold.resolve();
        await Promise.all(spawned);
        await page.waitForFunction(() => [...document.querySelectorAll('#tasks tr[data-task-id] td:nth-child(3)')].every((e) => e.textContent === 'done'));
        await page.setInputFiles('#load', file);
        await page.locator('#status.replay').waitFor();
        await page.waitForFunction(() => [...document.querySelectorAll('#tasks tr[data-task-id] td:nth-child(3)')].every((e) => e.textContent === 'running'));
        expect(await rowsOf()).toEqual(live);
        expect(live.map((r) => r[1])).toEqual(['ingest', 'resize', 'upload']);
        await screenshot(page, 'replay');
      });
      expect(problems).toEqual([]);
    } finally {
      await page.close();
      await c.close();
      await rt.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers 401 to a request without the token', async () => {
    const rt = Runtime.builder().build();
    const c = await rt.console();
    const page = await browser.newPage();
    try {
      const response = await page.goto(`${c.origin}/`);
      expect(response?.status()).toBe(401);
      expect(await page.textContent('body')).toContain('token required');
      const api = await page.goto(`${c.origin}/api/v1/snapshot`);
      expect(api?.status()).toBe(401);
      await screenshot(page, 'unauthorized');
    } finally {
      await page.close();
      await c.close();
      await rt.shutdown();
    }
  });
});
