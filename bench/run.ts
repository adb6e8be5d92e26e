/**
 * `npm run bench [-- --quick] [-- --suite NAME] [-- --repeat N]`
 *
 * Runs every bench/*.bench.ts suite, repeats each case (rotating the order so that no
 * subject always runs first or last), takes the median of the repeats, computes zokio's
 * ratio to each peer in every group, and writes:
 *   bench/results/latest.json  every repeat of every case   (a full run; a --quick run or a
 *   bench/results/latest.md    the table of medians and ratios  --suite run writes quick.* or
 *                                                               partial.* instead, so that it
 *                                                               never replaces the full table)
 *   bench/results/SUITE.svg    a bar chart per suite
 * A progress line on stderr tells which case runs.
 *
 * Each suite of a run of several runs in a fresh process of its own (this file again, with
 * `--suite NAME` and `ZOKIO_BENCH_SUITE_OUT` naming the file for its results), one after
 * the other; zokio and the peers of a suite still share that process. A suite must not
 * measure what the suites before it left behind: measured in one process, the timers
 * suite after the tasks suite scheduled zokio timers at 3.5–4 M/s instead of 30–38 M/s
 * (V8 had put new `TimerWheel` objects in dictionary mode after the tasks suite's million
 * sleeping tasks; not every time).
 *
 * The headline runs on the repository's Node (24, pinned). With `ZOKIO_NODE22=/path/to/node`
 * (a Node 22 binary, e.g. from `npm install --prefix DIR node@22`), the tasks suite runs
 * again in a child process on that binary, and its rows are appended under their own
 * heading (the child writes bench/results/node22.*; `ZOKIO_BENCH_CHILD` marks it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cpus, platform, arch, tmpdir } from 'node:os';
import { dropContextHooks, median, type BenchCase, type BenchSuite } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.includes('--suite') ? args[args.indexOf('--suite') + 1]!.split(',') : undefined;
const repeat = args.includes('--repeat') ? Number(args[args.indexOf('--repeat') + 1]) : quick ? 1 : 5;
/** Set in the child that runs the tasks suite on Node 22 (see the file's note). */
const child = process.env.ZOKIO_BENCH_CHILD === '1';
/** Set in the child that runs one suite of a run (see the file's note): where its results go. */
const suiteOut = process.env.ZOKIO_BENCH_SUITE_OUT;
const nodeMajor = process.versions.node.split('.')[0];

interface CaseResult {
  readonly suite: string;
  readonly group: string;
  readonly subject: string;
  readonly unit: string;
  readonly better: 'higher' | 'lower';
  readonly samples: number[];
  median: number;
  error?: string;
}

function format(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(1)} k`;
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

function progress(text: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${text}`);
  else process.stderr.write(`${text}\n`);
}

/**
 * Awaits a suite's teardown with the event loop held open by a ref'd timer. Pools park their
 * idle threads unref'd (zokio's, piscina's), so while their exits are awaited nothing may
 * keep the loop alive: one CI smoke run ended right after the scheduler suite's teardown
 * with "unsettled top-level await" (not reproduced in 25 runs of that suite alone). Held
 * open, a late event still arrives, and a teardown that never settles fails by name after
 * two minutes instead of ending the run silently.
 */
async function heldOpen(work: Promise<void> | undefined, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish in 120 s`)), 120_000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function loadSuites(): Promise<BenchSuite[]> {
  const files = readdirSync(here).filter((f) => f.endsWith('.bench.ts')).sort();
  const suites: BenchSuite[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: BenchSuite };
    if (only !== undefined && !only.includes(mod.default.name)) continue;
    const skip = mod.default.skip?.();
    if (skip !== undefined) {
      process.stderr.write(`[${mod.default.name}] skipped: ${skip}\n`);
      continue;
    }
    suites.push(mod.default);
  }
  return suites;
}

function ratioOf(zokio: CaseResult, peer: CaseResult): number {
  return zokio.better === 'higher' ? zokio.median / peer.median : peer.median / zokio.median;
}

function svgChart(suite: BenchSuite, results: CaseResult[]): string {
  const groups = [...new Set(results.map((r) => r.group))];
  const rowH = 22;
  const width = 760;
  const labelW = 300;
  let y = 40;
  const parts: string[] = [];
  parts.push(`<text x="10" y="22" font-size="15" font-weight="bold">${escapeXml(suite.name)}: ${escapeXml(suite.title)} (medians, ${quick ? 'quick' : 'full'} run)</text>`);
  for (const group of groups) {
    const rows = results.filter((r) => r.group === group && Number.isFinite(r.median));
    if (rows.length === 0) continue;
    const max = Math.max(...rows.map((r) => r.median));
    parts.push(`<text x="10" y="${y + 14}" font-size="13" font-weight="bold">${escapeXml(group)} (${escapeXml(rows[0]!.unit)}, ${rows[0]!.better} is better)</text>`);
    y += rowH;
    for (const r of rows) {
      const w = max > 0 ? Math.max(1, ((width - labelW - 90) * r.median) / max) : 1;
      const color = r.subject === 'zokio' ? '#2f7ed8' : '#999999';
      parts.push(`<text x="20" y="${y + 14}" font-size="12">${escapeXml(r.subject)}</text>`);
      parts.push(`<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${color}"/>`);
      parts.push(`<text x="${labelW + w + 6}" y="${y + 14}" font-size="12">${escapeXml(format(r.median))}</text>`);
      y += rowH;
    }
    y += 8;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>${parts.join('')}</svg>\n`;
}

/** One target of a suite, checked against this run's medians. */
interface TargetVerdict {
  readonly suite: string;
  readonly line: string;
  readonly met: boolean;
}

/**
 * The section that opens the results: how many of the run's targets held, and each one
 * that did not, with its suite (the suite's own Targets lines below say the same).
 */
function targetSummary(verdicts: readonly TargetVerdict[]): string[] {
  if (verdicts.length === 0) return [];
  const missed = verdicts.filter((v) => !v.met);
  const out = ['## Targets in this run', '', `${verdicts.length - missed.length} of ${verdicts.length} met.${missed.length > 0 ? ' Not met:' : ''}`, ''];
  for (const v of missed) out.push(`- ${v.suite}: ${v.line}`);
  if (missed.length > 0) out.push('');
  return out;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function updateReadme(table: string): void {
  const readme = join(here, '..', 'README.md');
  const text = readFileSync(readme, 'utf8');
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) return;
  const body = table.replace(/^## /gm, '### ');
  writeFileSync(readme, `${text.slice(0, a + start.length)}\n${body}\n${text.slice(b)}`);
}

/**
 * The tasks suite on the Node 22 binary named by ZOKIO_NODE22, run in a child process; its
 * markdown sections, or a line saying why there are none.
 */
function node22Rows(suites: readonly BenchSuite[]): string[] {
  const node22 = process.env.ZOKIO_NODE22;
  if (node22 === undefined || !suites.some((s) => s.name === 'tasks')) return [];
  const childArgs = ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--suite', 'tasks', '--repeat', String(repeat)];
  if (quick) childArgs.push('--quick');
  try {
    const out = execFileSync(node22, childArgs, { encoding: 'utf8', env: { ...process.env, ZOKIO_BENCH_CHILD: '1' }, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
    const sections = out.slice(out.indexOf('\n## ') + 1).replace(/^## /gm, '## ');
    return [sections.trimEnd(), ''];
  } catch (err) {
    return [`(tasks suite on Node 22 failed: ${err instanceof Error ? err.message : String(err)})`, ''];
  }
}

/** What one suite gives the run: its cases' results, its markdown section, its targets. */
interface SuiteOutcome {
  readonly results: CaseResult[];
  readonly md: string[];
  readonly verdicts: TargetVerdict[];
}

/** Runs `suite` in this process: every case, repeated, then its section and chart. */
async function runSuite(suite: BenchSuite): Promise<SuiteOutcome> {
  progress(`[${suite.name}] setup`);
  await suite.setup?.();
  const results: CaseResult[] = suite.cases.map((c) => ({ suite: suite.name, group: c.group, subject: c.subject, unit: c.unit, better: c.better, samples: [], median: NaN }));
  const suiteRepeat = quick ? repeat : Math.max(repeat, suite.minRepeat ?? 0);
  try {
    for (let rep = 0; rep < suiteRepeat; rep++) {
      const n = suite.cases.length;
      for (let k = 0; k < n; k++) {
        const i = (k + rep) % n; // rotate the order each repeat
        const c: BenchCase = suite.cases[i]!;
        const r = results[i]!;
        if (r.error !== undefined) continue;
        progress(`[${suite.name}] repeat ${rep + 1}/${suiteRepeat}  ${c.group} / ${c.subject}`);
        try {
          r.samples.push(await c.measure({ quick }));
        } catch (err) {
          r.error = err instanceof Error ? err.message : String(err);
        }
        dropContextHooks(); // the next case starts without zokio's async hooks (see harness.ts)
      }
    }
  } finally {
    progress(`[${suite.name}] teardown`);
    await heldOpen(suite.teardown?.(), `[${suite.name}] teardown`);
  }
  for (const r of results) r.median = r.samples.length > 0 ? median(r.samples) : NaN;

  const md: string[] = [];
  const verdicts: TargetVerdict[] = [];
  md.push(`## ${suite.name}: ${suite.title}${child ? ` (Node ${process.versions.node})` : ''}`, '');
  if (suiteRepeat !== repeat) md.push(`Median of ${suiteRepeat} repeats per case in this suite.`, '');
  md.push('| group | subject | median | unit | zokio ratio |', '|---|---|---:|---|---:|');
  for (const group of [...new Set(results.map((r) => r.group))]) {
    const rows = results.filter((r) => r.group === group);
    const z = rows.find((r) => r.subject === 'zokio');
    for (const r of rows) {
      // No ratio when either side has no finite median, or when it would divide by 0
      // (a latency below the tool's resolution reads 0).
      const ratio = z !== undefined && r !== z && Number.isFinite(z.median) && Number.isFinite(r.median) && Number.isFinite(ratioOf(z, r)) ? `${ratioOf(z, r).toFixed(2)}×` : '';
      const value = r.error !== undefined ? `error: ${r.error}` : format(r.median);
      md.push(`| ${group} | ${r.subject} | ${value} | ${r.unit} | ${ratio} |`);
    }
  }
  if (suite.targets !== undefined && suite.targets.length > 0) {
    md.push('', 'Targets:', '');
    for (const t of suite.targets) {
      const rows = results.filter((r) => r.group === t.group);
      const z = rows.find((r) => r.subject === 'zokio');
      const peers = Object.fromEntries(rows.filter((r) => r !== z).map((r) => [r.subject, r.median]));
      const met = t.check === undefined || z === undefined ? undefined : t.check(z.median, peers);
      md.push(`- ${t.group}: ${t.text}${met === undefined ? '' : met ? ' — met' : ' — not met'}`);
      if (met !== undefined) verdicts.push({ suite: suite.name, line: `${t.group}: ${t.text}`, met });
    }
  }
  md.push('');
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(join(here, 'results', `${suite.name}.svg`), svgChart(suite, results));
  return { results, md, verdicts };
}

/**
 * Runs the suite named `name` in a fresh process (see the file's note) and returns what it
 * measured; its progress lines go to this process's stderr.
 */
function runInChild(name: string): SuiteOutcome {
  const out = join(mkdtempSync(join(tmpdir(), 'zokio-bench-')), `${name}.json`);
  const childArgs = [...process.execArgv, fileURLToPath(import.meta.url), '--suite', name, '--repeat', String(repeat)];
  if (quick) childArgs.push('--quick');
  try {
    execFileSync(process.execPath, childArgs, { env: { ...process.env, ZOKIO_BENCH_SUITE_OUT: out }, stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (err) {
    // A suite whose process failed before writing its results is reported as such; the run goes on.
    if (!existsSync(out)) {
      rmSync(dirname(out), { recursive: true, force: true });
      process.exitCode = 1;
      return { results: [], md: [`## ${name}`, '', `(the suite's process failed: ${err instanceof Error ? err.message : String(err)})`, ''], verdicts: [] };
    }
  }
  const outcome = JSON.parse(readFileSync(out, 'utf8')) as SuiteOutcome;
  rmSync(dirname(out), { recursive: true, force: true });
  return outcome;
}

async function main(): Promise<void> {
  const suites = await loadSuites();
  const all: CaseResult[] = [];
  const md: string[] = [];
  const started = new Date().toISOString();
  /** Every target checked in this run, for the summary at the top. */
  const verdicts: TargetVerdict[] = [];
  md.push(`# Zokio benchmarks`, '');
  md.push(`Generated by \`npm run bench${quick ? ' -- --quick' : ''}\` on ${started} on **Node ${nodeMajor}** (${process.versions.node}; ${platform()} ${arch()}, ${cpus().length} cpus); median of ${repeat} repeat(s) per case. Ratio > 1 means zokio is better. Do not edit by hand.`, '');
  const headerEnd = md.length; // the targets summary goes here once every suite has run
  for (const suite of suites) {
    const outcome = suites.length > 1 && !child ? runInChild(suite.name) : await runSuite(suite);
    all.push(...outcome.results);
    md.push(...outcome.md);
    verdicts.push(...outcome.verdicts);
  }
  if (suiteOut !== undefined) {
    writeFileSync(suiteOut, JSON.stringify({ results: all, md: md.slice(headerEnd), verdicts } satisfies SuiteOutcome));
    return;
  }
  progress('done');
  if (process.stderr.isTTY) process.stderr.write('\n');
  mkdirSync(join(here, 'results'), { recursive: true });
  if (!child) md.splice(headerEnd, 0, ...targetSummary(verdicts));
  if (!child) md.push(...node22Rows(suites));
  const base = child ? 'node22' : only !== undefined ? 'partial' : quick ? 'quick' : 'latest';
  writeFileSync(join(here, 'results', `${base}.json`), JSON.stringify({ started, quick, repeat, node: process.versions.node, results: all }, null, 2));
  writeFileSync(join(here, 'results', `${base}.md`), md.join('\n'));
  console.log(md.join('\n'));
  // A full run of every suite regenerates the README's table (never typed by hand).
  if (!quick && only === undefined && !child) updateReadme(md.slice(2).join('\n'));
  const failed = all.filter((r) => r.error !== undefined);
  if (failed.length > 0) {
    console.error(`${failed.length} case(s) failed: ${failed.map((r) => `${r.suite}/${r.group}/${r.subject}: ${r.error}`).join('; ')}`);
    process.exitCode = 1;
  }
}

await main();
// Suites must clean up after themselves; make sure a stray handle cannot hang the run.
setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
