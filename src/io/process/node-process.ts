/**
 * The `node` process backend (internal): `child_process.spawn`.
 *
 * Implementation note. `spawn` resolves on the child's `'spawn'` event (or rejects on its
 * `'error'`, e.g. `ENOENT`), so a `Subprocess` always has a pid. `exited` follows
 * `'exit'`, not `'close'`: a grandchild that keeps the pipes open must not delay reaping.
 */
import { spawn } from 'node:child_process';
import type { Duplex } from 'node:stream';
import type { BackendProcess, ExitStatus, ProcessBackend } from './backend.js';

/** @internal */
export const nodeProcess: ProcessBackend = {
  spawn(request) {
    return new Promise<BackendProcess>((resolve, reject) => {
      const child = spawn(request.command, [...request.args], {
        cwd: request.cwd,
        env: request.env === undefined ? undefined : { ...request.env },
        stdio: [request.stdin, request.stdout, request.stderr],
        windowsHide: true,
      });
      let status: ExitStatus | undefined;
      let onExit: ((status: ExitStatus) => void) | undefined;
      const exited = new Promise<ExitStatus>((done) => {
        onExit = done;
      });
      child.once('exit', (code, signal) => {
        status = { code, signal };
        onExit!(status);
      });
      child.once('error', reject);
      child.once('spawn', () => {
        child.off('error', reject);
        // Later errors (a failed kill) must not crash the process; kill() reports false.
        child.on('error', () => undefined);
        resolve({
          pid: child.pid!,
          stdin: child.stdin as Duplex | null,
          stdout: child.stdout as Duplex | null,
          stderr: child.stderr as Duplex | null,
          exited,
          kill: (signal) => status === undefined && child.kill(signal),
        });
      });
    });
  },
};
