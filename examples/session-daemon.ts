/**
 * A session daemon: clients connect over a Unix socket and speak length-prefixed JSON
 * (a 4-byte big-endian length, then a JSON object). They create sessions (each a child
 * process, `sh` by default), subscribe to a session's output and write to its input.
 *
 * No polling anywhere: one reader task per session pulls the child's stdout and stderr and
 * fans each chunk out to the subscribers through bounded channels, with one threshold: the
 * channel's capacity. A subscriber whose channel is full either misses chunks and is told
 * how many (and how many bytes) before its next delivered chunk (`--lag notify`, the
 * default), or is disconnected (`--lag disconnect`). The reader never waits for a
 * subscriber, so a slow client cannot stall a session or grow the daemon's memory past
 * `capacity` chunks per subscriber. SIGINT, SIGTERM and SIGHUP shut down gracefully: stop
 * accepting, close the clients, terminate the children (SIGTERM, SIGKILL after the grace
 * period), remove the socket file.
 *
 * Protocol (client → daemon, every request may carry an `id` echoed in its reply):
 *   { op: 'create', command?, args? }  → { id, ok: true, session, pid }
 *   { op: 'subscribe', session }       → { id, ok: true }, then events:
 *        { event: 'output', session, stream: 'stdout' | 'stderr', data }
 *        { event: 'lagged', session, missedChunks, missedBytes }
 *        { event: 'exit', session, code, signal }
 *   { op: 'write', session, data }     → { id, ok: true }
 *   { op: 'wait', session }            → { id, ok: true, code, signal } once the session exits
 *   { op: 'close', session }           → { id, ok: true, code, signal }
 *   { op: 'list' }                     → { id, ok: true, sessions: [{ session, pid }] }
 *   errors                             → { id, ok: false, error }
 *
 * Run: npx tsx examples/session-daemon.ts --socket /tmp/sessions.sock [--capacity 64]
 *        [--lag notify|disconnect] [--grace-ms 2000]
 */
import { pathToFileURL } from 'node:url';
import { createRuntime, type Runtime } from '../src/index.js';
import { channel, type Sender } from '../src/sync/index.js';
import { UnixListener, framed, lengthDelimited, type Framed, type UnixStream } from '../src/io/net/index.js';
import { spawnProcess, type Subprocess } from '../src/io/process/index.js';

/** What to do with a subscriber whose channel is full. */
export type LagPolicy = 'notify' | 'disconnect';

export interface SessionDaemonOptions {
  /** The Unix socket path. */
  readonly path: string;
  /** The one threshold: chunks a subscriber may have waiting. @default 64 */
  readonly capacity?: number;
  /** @default 'notify' */
  readonly lag?: LagPolicy;
  /** SIGTERM → SIGKILL grace period for the session children, in ms. @default 2000 */
  readonly killGraceMs?: number;
  /** The runtime to run on (shut down by `stop()`); a new `node` one when omitted. */
  readonly runtime?: Runtime;
}

export interface SessionDaemon {
  readonly path: string;
  /** Graceful stop: listener, clients, children, runtime. Calling it again returns the same promise. */
  stop(): Promise<void>;
}

type Message = Record<string, unknown>;
type Connection = Framed<Uint8Array, Uint8Array | string>;

const MAX_FRAME = 1024 * 1024;

interface Subscriber {
  readonly tx: Sender<Message>;
  readonly conn: Connection;
  missedChunks: number;
  missedBytes: number;
}

interface Session {
  readonly id: number;
  readonly child: Subprocess;
  readonly subscribers: Set<Subscriber>;
}

export async function startSessionDaemon(options: SessionDaemonOptions): Promise<SessionDaemon> {
  const rt = options.runtime ?? createRuntime({ io: 'node' });
  const capacity = options.capacity ?? 64;
  const lag = options.lag ?? 'notify';
  const sessions = new Map<number, Session>();
  const connections = new Set<Connection>();
  let nextSession = 1;
  let stopping: Promise<void> | undefined;

  const listener = await rt.run(() => UnixListener.bind({ path: options.path, mode: 0o600 }));

  /** Delivers `event` to `sub` without waiting: the reader never blocks on a subscriber. */
  function offer(session: Session, sub: Subscriber, event: Message, bytes: number): void {
    if (sub.missedChunks > 0) {
      const notice = { event: 'lagged', session: session.id, missedChunks: sub.missedChunks, missedBytes: sub.missedBytes };
      if (sub.tx.trySend(notice) === 'sent') {
        sub.missedChunks = 0;
        sub.missedBytes = 0;
      }
    }
    const result = sub.missedChunks > 0 ? 'full' : sub.tx.trySend(event);
    if (result === 'sent') return;
    if (result === 'closed') {
      session.subscribers.delete(sub);
      return;
    }
    if (lag === 'disconnect') {
      session.subscribers.delete(sub);
      sub.tx.close();
      void sub.conn.close();
      return;
    }
    sub.missedChunks++;
    sub.missedBytes += bytes;
  }

  async function pump(session: Session, stream: 'stdout' | 'stderr'): Promise<void> {
    for await (const chunk of session.child[stream]) {
      const event = { event: 'output', session: session.id, stream, data: Buffer.from(chunk).toString('utf8') };
      for (const sub of session.subscribers) offer(session, sub, event, chunk.byteLength);
    }
  }

  function createSession(child: Subprocess): Session {
    const id = nextSession++;
    const session: Session = { id, child, subscribers: new Set() };
    sessions.set(id, session);
    // The session's reader: one task, no polling; it ends when the child closes its pipes.
    rt.spawn(async () => {
      await Promise.all([pump(session, 'stdout'), pump(session, 'stderr')]);
      const status = await child.wait();
      sessions.delete(id);
      // The end is not dropped: what was missed, then the exit, waiting for room.
      await Promise.allSettled(
        [...session.subscribers].map(async (sub) => {
          if (sub.missedChunks > 0) await sub.tx.send({ event: 'lagged', session: id, missedChunks: sub.missedChunks, missedBytes: sub.missedBytes });
          await sub.tx.send({ event: 'exit', session: id, code: status.code, signal: status.signal });
          sub.tx.close();
        }),
      );
    }, { name: `session ${id} reader` });
    return session;
  }

  function sessionOf(message: Message): Session {
    const session = sessions.get(Number(message.session));
    if (session === undefined) throw new Error(`no session ${String(message.session)}`);
    return session;
  }

  async function handle(conn: Connection, message: Message, subscriptions: Subscriber[]): Promise<Message> {
    switch (message.op) {
      case 'create': {
        const command = typeof message.command === 'string' ? message.command : 'sh';
        const args = Array.isArray(message.args) ? message.args.map(String) : [];
        const child = await spawnProcess(command, args, { killGraceMs: options.killGraceMs ?? 2000 });
        const session = createSession(child);
        return { ok: true, session: session.id, pid: child.pid };
      }
      case 'subscribe': {
        const session = sessionOf(message);
        const [tx, rx] = channel<Message>(capacity);
        const sub: Subscriber = { tx, conn, missedChunks: 0, missedBytes: 0 };
        session.subscribers.add(sub);
        subscriptions.push(sub);
        rt.spawn(async () => {
          try {
            for await (const event of rx) await conn.send(JSON.stringify(event));
          } catch {
            // The client went away: the subscription ends with it.
          } finally {
            session.subscribers.delete(sub);
            rx.close();
          }
        }, { name: `subscriber of session ${session.id}` });
        return { ok: true };
      }
      case 'write':
        await sessionOf(message).child.stdin.write(String(message.data ?? ''));
        return { ok: true };
      case 'wait': {
        const status = await sessionOf(message).child.wait();
        return { ok: true, code: status.code, signal: status.signal };
      }
      case 'close': {
        const session = sessionOf(message);
        const status = await session.child.terminate();
        return { ok: true, code: status.code, signal: status.signal };
      }
      case 'list':
        return { ok: true, sessions: [...sessions.values()].map((s) => ({ session: s.id, pid: s.child.pid })) };
      default:
        throw new Error(`unknown op ${JSON.stringify(message.op)}`);
    }
  }

  async function serveClient(stream: UnixStream): Promise<void> {
    const conn: Connection = framed(stream, lengthDelimited({ lengthBytes: 4, maxFrameBytes: MAX_FRAME }));
    connections.add(conn);
    const subscriptions: Subscriber[] = [];
    try {
      for await (const frame of conn) {
        let message: Message;
        try {
          message = JSON.parse(Buffer.from(frame).toString('utf8')) as Message;
        } catch {
          await conn.send(JSON.stringify({ ok: false, error: 'not JSON' }));
          continue;
        }
        let reply: Message;
        try {
          reply = await handle(conn, message, subscriptions);
        } catch (err) {
          reply = { ok: false, error: (err as Error).message };
        }
        await conn.send(JSON.stringify({ id: message.id, ...reply }));
      }
    } catch {
      // A broken or oversized frame, or a reset: the client is dropped.
    } finally {
      for (const sub of subscriptions) sub.tx.close();
      connections.delete(conn);
      await conn.close();
    }
  }

  rt.spawn(async () => {
    for await (const stream of listener) rt.spawn(() => serveClient(stream), { name: 'session client' });
  }, { name: 'accept loop' });

  function stop(): Promise<void> {
    stopping ??= (async () => {
      const closed = listener.close(); // stop accepting; the socket file goes once the clients are gone
      await Promise.allSettled([...connections].map((conn) => conn.close()));
      await Promise.allSettled([...sessions.values()].map((s) => s.child[Symbol.asyncDispose]()));
      await closed;
      await rt.shutdown();
    })();
    return stopping;
  }

  rt.onSignal(['SIGINT', 'SIGTERM', 'SIGHUP'], () => void stop());
  return { path: options.path, stop };
}

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const path = flag('socket') ?? process.env.SESSION_SOCKET;
  if (path === undefined) {
    console.error('usage: session-daemon --socket PATH [--capacity N] [--lag notify|disconnect] [--grace-ms MS]');
    process.exit(2);
  }
  const lag = flag('lag') === 'disconnect' ? 'disconnect' : 'notify';
  const capacity = flag('capacity') === undefined ? undefined : Number(flag('capacity'));
  const killGraceMs = flag('grace-ms') === undefined ? undefined : Number(flag('grace-ms'));
  await startSessionDaemon({ path, lag, capacity, killGraceMs });
  console.log(`session daemon listening on ${path} (pid ${process.pid})`);
}
