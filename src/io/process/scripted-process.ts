/**
 * Scripted processes: what `spawnProcess` starts on the `memory` I/O backend.
 *
 * Implementation note. A script is an async function registered under a command name. Its
 * stdio are `PassThrough` streams, so the backpressure is the real one: a script's
 * `stdout.write` waits while the parent does not read, and the parent's `stdin.write`
 * waits while the script does not. `kill(signal)` runs the script's handler for that
 * signal when it has one (a child that ignores SIGTERM); otherwise, and always for
 * SIGKILL, the process ends with that signal: its `signal` aborts, its pipes end, and it
 * is reaped at once, whatever the script's promise does later.
 */
import { PassThrough, type Duplex } from 'node:stream';
import { systemError } from '../system-error.js';
import { SocketStream } from '../net/socket-stream.js';
import type { BackendProcess, ExitStatus, ProcessBackend, SpawnRequest } from './backend.js';

/** High-water mark of each pipe of a scripted process, in bytes. */
const PIPE_HWM = 16 * 1024;

/** A writable pipe end as a script sees it. */
export interface ScriptWriter {
  /** Writes `data`, waiting while the parent does not read (backpressure). Rejects once the process ended. */
  write(data: Uint8Array | string): Promise<void>;
}

/** What a script receives: its arguments, environment and stdio, as a real process would. */
export interface ScriptContext {
  /** The command name `spawnProcess` was called with, under which the script was defined. */
  readonly command: string;
  /** The arguments passed to `spawnProcess`. */
  readonly args: readonly string[];
  /** The `cwd` option of `spawnProcess`; undefined when it was not given. */
  readonly cwd: string | undefined;
  /** The `env` option of `spawnProcess`; undefined when it was not given (a real child would get `process.env`). */
  readonly env: Readonly<Record<string, string | undefined>> | undefined;
  /** The process id the parent sees as `child.pid` (from 100000 up, unique per runtime). */
  readonly pid: number;
  /** What the parent writes to stdin (`read`, `readLine`, `readExact`, async iteration). */
  readonly stdin: SocketStream;
  /** The child's stdout, which the parent reads (discarded unless its `stdout` mode is `'pipe'`). */
  readonly stdout: ScriptWriter;
  /** The child's stderr, which the parent reads (discarded unless its `stderr` mode is `'pipe'`); a script that throws writes its message here. */
  readonly stderr: ScriptWriter;
  /** Aborted when the process is killed by a signal it does not handle. */
  readonly signal: AbortSignal;
  /** Handles `signal` instead of ending: an empty handler ignores it. SIGKILL cannot be handled. */
  onSignal(signal: NodeJS.Signals, handler: () => void): void;
}

/** A scripted process: returns (or resolves to) its exit code; a throw exits with 1. */
export type ProcessScript = (process: ScriptContext) => number | void | Promise<number | void>;

/**
 * The scripted processes of one runtime on the `memory` backend: `define` a command, then
 * `spawnProcess(command, args)` runs the script in its place.
 *
 * @example
 * ```ts
 * import { createRuntime } from 'zokio';
 * import { spawnProcess, scriptedProcesses } from 'zokio/process';
 * const rt = createRuntime({ io: 'memory' });
 * scriptedProcesses(rt).define('greet', async (p) => {
 *   await p.stdout.write(`hello ${p.args[0]}\n`);
 *   return 0;
 * });
 * await rt.run(async () => {
 *   await using child = await spawnProcess('greet', ['world']);
 *   console.log(await child.stdout.text()); // 'hello world\n'
 * });
 * await rt.shutdown();
 * ```
 */
export class ScriptedProcesses implements ProcessBackend {
  readonly #scripts = new Map<string, ProcessScript>();
  #nextPid = 100_000;
  /** Processes started so far. */
  spawned = 0;

  /** Registers `script` as the command `command` (replacing an earlier one). */
  define(command: string, script: ProcessScript): this {
    this.#scripts.set(command, script);
    return this;
  }

  async spawn(request: SpawnRequest): Promise<BackendProcess> {
    await undefined;
    const script = this.#scripts.get(request.command);
    if (script === undefined) throw Object.assign(systemError('ENOENT', `spawn ${request.command}`, request.command), { spawnargs: [...request.args] });
    this.spawned++;
    const pid = this.#nextPid++;
    const stdin = new PassThrough({ highWaterMark: PIPE_HWM });
    const stdout = new PassThrough({ highWaterMark: PIPE_HWM });
    const stderr = new PassThrough({ highWaterMark: PIPE_HWM });
    const controller = new AbortController();
    const handlers = new Map<NodeJS.Signals, () => void>();
    let status: ExitStatus | undefined;
    let finish!: (status: ExitStatus) => void;
    const exited = new Promise<ExitStatus>((resolve) => (finish = resolve));
    const end = (next: ExitStatus): void => {
      if (status !== undefined) return;
      status = next;
      if (next.signal !== null) controller.abort(new Error(`killed by ${next.signal}`));
      stdout.end();
      stderr.end();
      stdin.destroy();
      finish(next);
    };
    const writer = (pipe: PassThrough): ScriptWriter => ({
      write(data) {
        if (status !== undefined || pipe.writableEnded) return Promise.reject(systemError('EPIPE', 'write'));
        if (pipe.write(data)) return Promise.resolve();
        return new Promise<void>((resolve, reject) => {
          const done = (): void => {
            pipe.off('drain', done);
            controller.signal.removeEventListener('abort', stop);
            resolve();
          };
          const stop = (): void => {
            pipe.off('drain', done);
            reject(systemError('EPIPE', 'write'));
          };
          pipe.on('drain', done);
          controller.signal.addEventListener('abort', stop, { once: true });
        });
      },
    });
    const context: ScriptContext = {
      command: request.command,
      args: request.args,
      cwd: request.cwd,
      env: request.env,
      pid,
      stdin: new SocketStream(stdin, 'scripted stdin'),
      stdout: writer(stdout),
      stderr: writer(stderr),
      signal: controller.signal,
      onSignal: (signal, handler) => void handlers.set(signal, handler),
    };
    void (async () => {
      try {
        const code = await script(context);
        end({ code: typeof code === 'number' ? code : 0, signal: null });
      } catch (err) {
        if (status === undefined) stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
        end({ code: 1, signal: null });
      }
    })();
    const pipe = (mode: string, stream: PassThrough): Duplex | null => (mode === 'pipe' ? stream : null);
    if (request.stdout !== 'pipe') stdout.resume();
    if (request.stderr !== 'pipe') stderr.resume();
    if (request.stdin !== 'pipe') stdin.end();
    return {
      pid,
      stdin: pipe(request.stdin, stdin),
      stdout: pipe(request.stdout, stdout),
      stderr: pipe(request.stderr, stderr),
      exited,
      kill(signal) {
        if (status !== undefined) return false;
        const handler = signal === 'SIGKILL' ? undefined : handlers.get(signal);
        if (handler !== undefined) handler();
        else end({ code: null, signal });
        return true;
      },
    };
  }
}
