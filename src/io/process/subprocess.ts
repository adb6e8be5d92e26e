/**
 * `spawnProcess` and `Subprocess`: a child process with pipes that honour backpressure,
 * and a lifetime bounded by its owner (`await using`), its `signal`, its `timeoutMs` and the
 * runtime's shutdown.
 *
 * Implementation note. Every way of stopping a child goes through one escalation: send the
 * kill signal (SIGTERM by default), arm a grace timer on the runtime's timers (so a
 * `VirtualClock` drives it in tests), send SIGKILL when it fires, and resolve once the
 * child is reaped. The runtime's `process` part tracks live children and repeats the
 * escalation on host timers at shutdown (the runtime's timers stop first).
 */
import { ConfigError, RuntimeClosedError, ZokioError } from '../../errors.js';
import { currentRuntimeObject } from '../../runtime/current.js';
import type { ZokioRuntime } from '../../runtime/runtime.js';
import { abortReason, timerDriverOf } from '../../scheduler/time.js';
import { taskWait } from '../../scheduler/task.js';
import { abortableWait } from '../../scheduler/wait-abort.js';
import type { BackendProcess, ExitStatus, StdioMode } from './backend.js';
import { processPart, type LiveChild, type ProcessPart } from './process-part.js';
import { ProcessInput, ProcessOutput } from './process-pipe.js';
import type { ScriptedProcesses } from './scripted-process.js';
import { ioDriver } from '../driver.js';

/** Options of {@link spawnProcess}. */
export interface SpawnOptions {
  /** Working directory of the child. @default the current one */
  readonly cwd?: string;
  /** The child's whole environment (as `child_process.spawn`: it replaces, it does not add). @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** @default 'pipe' */
  readonly stdin?: StdioMode;
  /** @default 'pipe' */
  readonly stdout?: StdioMode;
  /** @default 'pipe' */
  readonly stderr?: StdioMode;
  /** Aborting it terminates the child (kill signal, then SIGKILL after `killGraceMs`). */
  readonly signal?: AbortSignal;
  /** Terminates the child after this many ms on the runtime's clock, as `signal` does; `timedOut` is then true. */
  readonly timeoutMs?: number;
  /** The signal that asks the child to stop (dispose, `signal`, `timeoutMs`, shutdown). @default 'SIGTERM' */
  readonly killSignal?: NodeJS.Signals;
  /** How long a child may take to exit after `killSignal` before SIGKILL, in ms. @default 5000 */
  readonly killGraceMs?: number;
}

/** Options of {@link Subprocess.wait}. */
export interface WaitOptions {
  /** Stops waiting (the child keeps running). */
  readonly signal?: AbortSignal;
}

function checkMs(value: number | undefined, name: string): void {
  if (value !== undefined && (!Number.isFinite(value) || value < 0)) throw new ZokioError('ZOKIO_ERR_INVALID_ARGUMENT', `spawnProcess: ${name} must be a number >= 0 (received ${String(value)})`);
}

/**
 * A running child process. Made by {@link spawnProcess}.
 *
 * `stdout` and `stderr` are async iterables with backpressure; `stdin.write` waits for
 * `drain`. Streams not in `'pipe'` mode are empty (reads end at once, writes reject).
 */
export class Subprocess implements AsyncDisposable, LiveChild {
  readonly #proc: BackendProcess;
  readonly #part: ProcessPart;
  readonly #rt: ZokioRuntime;
  readonly #killSignal: NodeJS.Signals;
  readonly #graceMs: number;
  #status: ExitStatus | undefined;
  #terminating: Promise<ExitStatus> | undefined;
  #graceTimer: (() => void) | undefined;
  #timedOut = false;
  /** The child's process id (a scripted pid on the `memory` backend). */
  readonly pid: number;
  /** The child's stdin. */
  readonly stdin: ProcessInput;
  /** The child's stdout. */
  readonly stdout: ProcessOutput;
  /** The child's stderr. */
  readonly stderr: ProcessOutput;

  /** @internal Use {@link spawnProcess}. */
  constructor(proc: BackendProcess, part: ProcessPart, rt: ZokioRuntime, options: SpawnOptions) {
    this.#proc = proc;
    this.#part = part;
    this.#rt = rt;
    this.#killSignal = options.killSignal ?? 'SIGTERM';
    this.#graceMs = options.killGraceMs ?? 5000;
    this.pid = proc.pid;
    this.stdin = new ProcessInput(proc.stdin);
    this.stdout = new ProcessOutput(proc.stdout);
    this.stderr = new ProcessOutput(proc.stderr);
    part.add(this);
    void proc.exited.then((status) => {
      this.#status = status;
      this.#graceTimer?.();
      part.delete(this);
    });
  }

  /** How the child ended, once it has (`undefined` while it runs). */
  get exitStatus(): ExitStatus | undefined {
    return this.#status;
  }

  /** True when `timeoutMs` passed and the child was terminated for it. */
  get timedOut(): boolean {
    return this.#timedOut;
  }

  /**
   * Waits until the child has ended and been reaped.
   *
   * *Cancellation*: aborting `signal`, or the task the call is made in, rejects with the
   * reason; the child keeps running.
   */
  wait(options?: WaitOptions): Promise<ExitStatus> {
    return abortableWait(this.#proc.exited, options?.signal);
  }

  /** Sends `signal` (default SIGTERM) to the child; false when it has already ended. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.#status !== undefined) return false;
    return this.#proc.kill(signal);
  }

  /**
   * Stops the child: `killSignal`, then SIGKILL after `killGraceMs` (on the runtime's
   * clock), and resolves with its status once it is reaped. Calling it again returns the
   * same promise.
   *
   * *Cancellation*: not cancellable; it always ends with the child reaped.
   */
  terminate(): Promise<ExitStatus> {
    return taskWait(this.#terminate());
  }

  #terminate(): Promise<ExitStatus> {
    if (this.#terminating !== undefined) return this.#terminating;
    if (this.#status !== undefined) return (this.#terminating = Promise.resolve(this.#status));
    this.#proc.kill(this.#killSignal);
    const timers = timerDriverOf(this.#rt);
    if (timers.closed) this.#armHostGrace();
    else {
      const id = timers.add(timers.clock.now() + this.#graceMs, () => this.#proc.kill('SIGKILL'), false);
      this.#graceTimer = () => timers.cancel(id);
    }
    this.#terminating = this.#proc.exited;
    return this.#terminating;
  }

  #armHostGrace(): void {
    this.#graceTimer?.();
    const timer = setTimeout(() => this.#proc.kill('SIGKILL'), this.#graceMs);
    this.#graceTimer = () => clearTimeout(timer);
  }

  /** @internal The runtime's shutdown: the same escalation on a host timer. */
  terminateForShutdown(): Promise<ExitStatus> {
    if (this.#status !== undefined) return Promise.resolve(this.#status);
    if (this.#terminating === undefined) this.#proc.kill(this.#killSignal);
    this.#terminating ??= this.#proc.exited;
    this.#armHostGrace();
    return this.#proc.exited;
  }

  /** @internal The Node process is exiting: SIGKILL now. */
  killNow(): void {
    if (this.#status === undefined) this.#proc.kill('SIGKILL');
  }

  /** @internal `timeoutMs` passed. */
  timeOut(): void {
    if (this.#status !== undefined) return;
    this.#timedOut = true;
    void this.#terminate();
  }

  /**
   * `await using child = await spawnProcess(...)`: terminates the child (see
   * {@link Subprocess.terminate}), waits until it is reaped and releases its pipes.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return taskWait(this.#dispose());
  }

  async #dispose(): Promise<void> {
    await this.#terminate();
    this.stdin.destroy();
    await Promise.all([this.stdout.close(), this.stderr.close()]);
  }
}

/**
 * Starts `command` with `args` as a child process of the current runtime (a scripted one
 * on the `memory` backend, see `scriptedProcesses`).
 *
 * Use it for long-running children you talk to (a shell, a language server); for a
 * command whose output you want in one piece use {@link output}. The child never outlives
 * the runtime: shutdown terminates it (kill signal, SIGKILL after the grace period).
 *
 * @example
 * ```ts
 * import { spawnProcess } from 'zokio/process';
 * await using sh = await spawnProcess('sh', [], { killGraceMs: 2_000 });
 * await sh.stdin.write('echo hello\n');
 * console.log(await sh.stdout.readLine()); // 'hello'
 * await sh.stdin.end();
 * console.log(await sh.wait()); // { code: 0, signal: null }
 * ```
 *
 * *Cancellation*: aborting `signal` (before or after the start) terminates the child;
 * the returned promise itself is not cancellable.
 * @throws the spawn error with Node's `code` (e.g. `ENOENT` for an unknown command);
 *   `RuntimeClosedError` once the runtime is shut down.
 */
export function spawnProcess(command: string, args: readonly string[] = [], options: SpawnOptions = {}): Promise<Subprocess> {
  return taskWait(spawnNow(command, args, options));
}

async function spawnNow(command: string, args: readonly string[], options: SpawnOptions): Promise<Subprocess> {
  const rt = currentRuntimeObject() as ZokioRuntime;
  if (rt.closed) throw new RuntimeClosedError('runtime is shut down: cannot spawn a process');
  checkMs(options.timeoutMs, 'timeoutMs');
  checkMs(options.killGraceMs, 'killGraceMs');
  const part = processPart(rt);
  const proc = await part.backend.spawn({
    command,
    args,
    cwd: options.cwd,
    env: options.env,
    stdin: options.stdin ?? 'pipe',
    stdout: options.stdout ?? 'pipe',
    stderr: options.stderr ?? 'pipe',
  });
  const child = new Subprocess(proc, part, rt, options);
  if (rt.closed) void child.terminateForShutdown();
  const signal = options.signal;
  if (signal !== undefined) {
    if (signal.aborted) void child.terminate();
    else {
      const onAbort = (): void => void child.terminate();
      signal.addEventListener('abort', onAbort, { once: true });
      void proc.exited.then(() => signal.removeEventListener('abort', onAbort));
    }
  }
  if (options.timeoutMs !== undefined) {
    const timers = timerDriverOf(rt);
    const id = timers.add(timers.clock.now() + options.timeoutMs, () => child.timeOut(), false);
    void proc.exited.then(() => timers.cancel(id));
  }
  return child;
}

/**
 * The scripted processes of `runtime` (default: the current runtime), which must use the
 * `memory` I/O backend: `define` commands there before spawning them.
 *
 * @throws ConfigError when the runtime does not use the memory backend.
 */
export function scriptedProcesses(runtime?: object): ScriptedProcesses {
  const rt = (runtime ?? currentRuntimeObject()) as ZokioRuntime;
  const scripted = processPart(rt).scripted;
  if (scripted === undefined) throw new ConfigError('io', "scriptedProcesses() needs a runtime built with .io('memory')", ioDriver(rt).backend);
  return scripted;
}
