/**
 * The process backend interface (internal).
 *
 * Implementation note. A backend starts a process and hands back its stdio as `Duplex`
 * streams (libuv pipes on `node`, `PassThrough` pairs for a scripted process on `memory`),
 * so `Subprocess` is written once over both: its pipes reuse the byte-stream engine of
 * `zokio/net` (pull reads from a paused stream, writes that wait for `drain`).
 */
import type { Duplex } from 'node:stream';

/** How one of the child's stdio streams is connected. */
export type StdioMode = 'pipe' | 'ignore' | 'inherit';

/** How a process ended: an exit code, or the signal that killed it. */
export interface ExitStatus {
  /** The exit code, or `null` when a signal ended the process. */
  readonly code: number | null;
  /** The signal that ended the process, or `null` when it exited. */
  readonly signal: NodeJS.Signals | null;
}

/** @internal What a backend needs to start a process. */
export interface SpawnRequest {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>> | undefined;
  readonly stdin: StdioMode;
  readonly stdout: StdioMode;
  readonly stderr: StdioMode;
}

/** @internal A started process. */
export interface BackendProcess {
  readonly pid: number;
  /** The pipes, `null` for a stream not in `'pipe'` mode. */
  readonly stdin: Duplex | null;
  readonly stdout: Duplex | null;
  readonly stderr: Duplex | null;
  /** Resolves once the process has ended and been reaped. */
  readonly exited: Promise<ExitStatus>;
  /** Sends `signal`; false when the process is gone. */
  kill(signal: NodeJS.Signals): boolean;
}

/** @internal */
export interface ProcessBackend {
  /** Starts the process; rejects with the spawn error (e.g. `ENOENT`) when it cannot. */
  spawn(request: SpawnRequest): Promise<BackendProcess>;
}
