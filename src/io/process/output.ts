/**
 * `output(command, args)`: run a command to its end and collect what it wrote.
 */
import { Buffer } from 'node:buffer';
import { OutputTooLargeError, TimeoutError } from '../../errors.js';
import { taskWait } from '../../scheduler/task.js';
import { abortReason } from '../../scheduler/time.js';
import type { ExitStatus } from './backend.js';
import type { ProcessOutput } from './process-pipe.js';
import { spawnProcess, type SpawnOptions } from './subprocess.js';

/** Options of {@link output}. */
export interface OutputOptions extends Omit<SpawnOptions, 'stdin' | 'stdout' | 'stderr'> {
  /** Written to the child's stdin, which is then closed. @default nothing (stdin is closed at once) */
  readonly input?: Uint8Array | string;
  /** The most bytes collected from stdout, and from stderr; more kills the child. @default 16777216 (16 MiB) */
  readonly maxOutputBytes?: number;
}

/** What {@link output} returns. */
export interface Output extends ExitStatus {
  /** Everything the child wrote to stdout, in one buffer (at most `maxOutputBytes`). */
  readonly stdout: Uint8Array;
  /** Everything the child wrote to stderr, in one buffer (at most `maxOutputBytes`). */
  readonly stderr: Uint8Array;
}

async function collect(stream: ProcessOutput, which: 'stdout' | 'stderr', max: number, onOverflow: () => void): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.byteLength;
    if (total > max) {
      onOverflow();
      throw new OutputTooLargeError(which, max);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

/**
 * Runs `command` to its end and returns its exit status and everything it wrote to stdout
 * and stderr. A non-zero exit is not an error: check `code`.
 *
 * Use it for commands that finish (`git rev-parse HEAD`); for a conversation with a child
 * use {@link spawnProcess}.
 *
 * @example
 * ```ts
 * import { output } from 'zokio/process';
 * const { code, stdout } = await output('git', ['rev-parse', 'HEAD'], { timeoutMs: 10_000 });
 * if (code === 0) console.log(new TextDecoder().decode(stdout).trim());
 * ```
 *
 * *Cancellation*: aborting `signal` terminates the child (kill signal, then SIGKILL after
 * `killGraceMs`) and rejects with the signal's reason once it is reaped.
 * @throws TimeoutError when `timeoutMs` passed (the child was terminated and reaped);
 *   OutputTooLargeError over `maxOutputBytes`; the spawn error (e.g. `ENOENT`).
 */
export function output(command: string, args: readonly string[] = [], options: OutputOptions = {}): Promise<Output> {
  return taskWait(outputNow(command, args, options));
}

async function outputNow(command: string, args: readonly string[], options: OutputOptions): Promise<Output> {
  const { input, maxOutputBytes = 16 * 1024 * 1024, ...spawnOptions } = options;
  await using child = await spawnProcess(command, args, { ...spawnOptions, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' });
  const feed = (async () => {
    try {
      if (input !== undefined) await child.stdin.write(input);
      await child.stdin.end();
    } catch {
      // The child exited without reading its input: its status says what happened.
    }
  })();
  const kill = (): void => void child.terminate();
  const [stdout, stderr, status] = await Promise.all([
    collect(child.stdout, 'stdout', maxOutputBytes, kill),
    collect(child.stderr, 'stderr', maxOutputBytes, kill),
    child.wait(),
    feed,
  ]);
  if (child.timedOut) throw new TimeoutError(`${command} did not finish within ${options.timeoutMs} ms (terminated with ${status.signal ?? `exit code ${status.code}`})`);
  if (options.signal?.aborted) throw abortReason(options.signal);
  return { code: status.code, signal: status.signal, stdout, stderr };
}
