import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('examples/tour.ts (npm start)', () => {
  it('runs every section, exits 0 by itself, and writes a Perfetto trace with worker lanes', async () => {
    rmSync(`${root}trace.json`, { force: true });
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/tour.ts'], { cwd: root, timeout: 120_000 });
    expect(stdout).toContain('zokio runtime');
    expect(stdout).toContain('fib(30) = 832040');
    expect(stdout).toContain('map(square) = 1 4 9 16 25 36 49 64');
    expect(stdout).toContain('consumer summed 1..20 = 210');
    expect(stdout).toContain('interval ticked 3 times');
    expect(stdout).toContain('timeout: timed out after 15 ms (ZOKIO_ERR_TIMEOUT)');
    expect(stdout).toContain('GET /tour -> "hello from /tour"');
    expect(stdout).toContain('"pool"');

    type TraceEvent = { ph: string; tid: number; name: string; args?: { name?: string } };
    // Trace Event Format allows a bare array or { traceEvents: [...] }; Perfetto opens both.
    const parsed = JSON.parse(readFileSync(`${root}trace.json`, 'utf8')) as TraceEvent[] | { traceEvents: TraceEvent[] };
    const events = Array.isArray(parsed) ? parsed : parsed.traceEvents;
    const complete = events.filter((e) => e.ph === 'X');
    const lanes = new Set(complete.map((e) => e.tid));
    expect(lanes.size).toBeGreaterThanOrEqual(2); // the main thread and at least one worker
    const threadNames = events.filter((e) => e.ph === 'M').map((e) => e.args?.name);
    expect(threadNames.some((n) => n?.startsWith('pool worker'))).toBe(true);
    expect(complete.some((e) => e.name === 'checksum' && e.tid !== complete.find((x) => x.name === 'tour')!.tid)).toBe(true);
    expect(complete.map((e) => e.name)).toEqual(expect.arrayContaining(['tour', 'fib(30)', 'client request', 'handler']));
  }, 150_000);
});
