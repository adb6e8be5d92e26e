/**
 * A real redis-server for tests and benches: 127.0.0.1, a free port, a mkdtemp directory,
 * AOF on (fsync always, so a SIGKILL loses no acknowledged write), `maxmemory-policy noeviction` (what BullMQ asks for). It can be stopped
 * (SIGTERM or SIGKILL) and started again on the same port and directory, so data written
 * with AOF survives, as a restarted production Redis would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian installs the server. */
export const REDIS_SERVER = '/usr/bin/redis-server';

/** True when redis-server is installed. */
export function hasRedisServer(): boolean {
  return existsSync(REDIS_SERVER);
}

/** A running (or stopped) redis-server owned by a test. */
export interface RedisServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly dir: string;
  /** Stops the server with `signal` and waits for the process to exit. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same port and directory; waits until it answers PING. */
  start(): Promise<void>;
  /** Sends one command on a fresh connection and returns the raw reply text. */
  command(...args: string[]): Promise<string>;
  /** Stops the server and removes its directory. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** True when nothing listens on 127.0.0.1:`port` now. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A free port below Linux's ephemeral range (32768-60999), chosen at random. Not port 0:
 * a server that is stopped and started again (`start()` after `stop()`) must find its port
 * free, and while it is down an ephemeral port can be taken by any other test's
 * `listen(0)` or outgoing connection; nothing takes a port below that range by itself.
 */
async function freePort(): Promise<number> {
  for (let i = 0; i < 1000; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await portIsFree(port)) return port;
  }
  throw new Error('no free port for redis-server in 20000-31999');
}

function rawCommand(port: number, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let out = '';
    socket.setEncoding('utf8');
    socket.once('error', reject);
    socket.on('data', (chunk: string) => {
      out += chunk;
      // One reply: a complete line for simple replies, or a bulk string of the announced length.
      const bulk = /^\$(-?\d+)\r\n/.exec(out);
      if (bulk === null ? out.endsWith('\r\n') : Number(bulk[1]) < 0 || out.length >= bulk[0].length + Number(bulk[1]) + 2) {
        socket.end();
        resolve(out);
      }
    });
    socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}

/** Starts a redis-server in a fresh temporary directory. */
export async function startRedisServer(): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'zokio-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const proc = spawn(REDIS_SERVER, [
      '--bind', '127.0.0.1', '--port', String(port), '--dir', dir,
      '--appendonly', 'yes', '--appendfsync', 'always', '--save', '',
      '--maxmemory-policy', 'noeviction', '--protected-mode', 'no', '--loglevel', 'warning',
    ], { stdio: 'ignore' });
    child = proc;
    for (let i = 0; i < 2000; i++) {
      if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}`);
      try {
        if ((await rawCommand(port, ['PING'])).startsWith('+PONG')) return;
      } catch {
        // Not listening yet.
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error('redis-server did not answer PING');
  };

  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    await exited;
  };

  await start();
  return {
    host: '127.0.0.1',
    port,
    dir,
    stop,
    start,
    command: (...args: string[]) => rawCommand(port, args),
    async [Symbol.asyncDispose]() {
      await stop('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
