/**
 * Unix domain sockets on the `node` backend (internal): `listenPath` and `connectPath`.
 *
 * Implementation note. `listen` on a path that exists fails with `EADDRINUSE`. The file
 * is then either held by a live listener (a probe `connect` succeeds: we refuse, and never
 * touch it), a stale socket left by a process that died (the probe is refused: we unlink
 * it and listen again, once), or not a socket at all (we refuse; a regular file is never
 * removed). libuv unlinks the socket file when the server closes. Both ends are half-open
 * sockets: the peer's end never ends this side by itself.
 */
import { chmod, lstat, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { abortReason } from '../../scheduler/abort-reason.js';
import { closeListening, type BackendListener, type BackendListenOptions } from './backend.js';

type ErrnoError = Error & { code?: string };

function listenOnce(server: Server, path: string, backlog: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ path, backlog }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Whether something accepts connections on `path` (false when refused or gone). */
function probe(path: string): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    const socket = createConnection({ path });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (err: ErrnoError) => {
      socket.destroy();
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(false);
      else reject(err);
    });
  });
}

function inUse(path: string, why: string): ErrnoError {
  return Object.assign(new Error(`listen EADDRINUSE: address already in use ${path} (${why})`), { code: 'EADDRINUSE', syscall: 'listen', address: path });
}

/** @internal */
export async function listenUnixNode(path: string, backlog: number, onConnection: (socket: Duplex) => void, options?: BackendListenOptions): Promise<BackendListener> {
  // Half-open always: `SocketStream` reads in flowing mode, so the peer's FIN arrives before
  // the application has read what came before it; ending our side then is the
  // application's call (`end()`/`close()`), as in tokio.
  const server = createServer({ pauseOnConnect: true, allowHalfOpen: true }, (socket) => onConnection(socket));
  try {
    await listenOnce(server, path, backlog);
  } catch (err) {
    if ((err as ErrnoError).code !== 'EADDRINUSE') throw err;
    const stat = await lstat(path).catch(() => undefined);
    if (stat !== undefined && !stat.isSocket()) throw inUse(path, 'the path exists and is not a socket');
    if (await probe(path)) throw inUse(path, 'a live listener holds it');
    await unlink(path).catch((e: ErrnoError) => {
      if (e.code !== 'ENOENT') throw e;
    });
    await listenOnce(server, path, backlog);
  }
  if (options?.mode !== undefined) {
    try {
      await chmod(path, options.mode);
    } catch (err) {
      await closeListening(server);
      throw err;
    }
  }
  return {
    address: { host: '', port: 0 },
    path,
    close: () => closeListening(server),
  };
}

/** @internal */
export function connectUnixNode(path: string, signal: AbortSignal | undefined): Promise<Duplex> {
  return new Promise<Duplex>((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const socket: Socket = createConnection({ path, allowHalfOpen: true });
    const onAbort = (): void => {
      socket.destroy();
      reject(abortReason(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      signal?.removeEventListener('abort', onAbort);
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      reject(err);
    });
  });
}
