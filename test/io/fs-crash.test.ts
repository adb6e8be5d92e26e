import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const child = fileURLToPath(new URL('../fixtures/io-write-loop.ts', import.meta.url));
const SIZE = 1 << 20;
const ROUNDS = 20;

/** True when `data` is `SIZE` copies of one of the letters the child writes. */
function isWholeNewContent(data: Buffer): boolean {
  if (data.length !== SIZE) return false;
  const first = data[0]!;
  if (!'ABCD'.includes(String.fromCharCode(first))) return false;
  return data.every((b) => b === first);
}

describe('atomic writeFile under SIGKILL', () => {
  it(`the target is always the old or a new content, never partial (${ROUNDS} kills)`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zokio-crash-'));
    const target = join(dir, 'state.bin');
    const old = 'old contents';
    writeFileSync(target, old);
    let sawNew = 0;
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const proc = spawn(process.execPath, ['--import', 'tsx', child, target, String(SIZE)], { stdio: ['ignore', 'pipe', 'inherit'] });
        // Kill after 0, 1 or 2 completed writes (by round), at a random moment of the next
        // one (0..10 ms into it): the rounds after a completed write must find new content,
        // whatever the machine's speed, and every kill lands while a write may be under way.
        const completed = round % 3;
        await new Promise<void>((resolve, reject) => {
          let out = '';
          proc.once('error', reject);
          proc.stdout!.on('data', (chunk: Buffer) => {
            out += chunk.toString();
            if (out.includes('ready\n') && out.split('wrote\n').length - 1 >= completed) resolve();
          });
        });
        await new Promise((r) => setTimeout(r, Math.random() * 10));
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGKILL');
        await exited;
        const data = readFileSync(target);
        const ok = data.toString() === old || isWholeNewContent(data);
        expect(ok, `round ${round}: ${data.length} bytes, first byte ${data[0]}`).toBe(true);
        if (completed > 0) expect(isWholeNewContent(data), `round ${round}: new content after a completed write`).toBe(true);
        if (data.toString() !== old) sawNew++;
      }
      expect(sawNew).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
