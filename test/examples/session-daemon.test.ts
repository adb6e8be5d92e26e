// examples/session-daemon.ts with real Unix sockets and real child processes: the
// length-prefixed JSON protocol, output fan-out with one threshold (a lagging subscriber
// is told exactly how many bytes it missed, or is disconnected, by policy), and graceful
// shutdown on SIGINT/SIGTERM/SIGHUP of the daemon as a process: the children are gone (by
// pid), the socket file is removed, the daemon exits 0.
import { spawn as spawnChild } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/runtime/runtime.js';
import { UnexpectedEofError } from '../../src/errors.js';
import { UnixStream, framed, lengthDelimited, type Framed } from '../../src/io/net/index.js';
import { startSessionDaemon, type SessionDaemon } from '../../examples/session-daemon.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
type Message = Record<string, unknown> & { event?: string; data?: string; id?: number };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** A protocol client: requests are answered in order; events read meanwhile are queued. */
class Client {
  readonly events: Message[] = [];
  #nextId = 1;
  constructor(readonly frames: Framed<Uint8Array, Uint8Array | string>) {}

  static async connect(path: string): Promise<Client> {
    const stream = await UnixStream.connect({ path });
    return new Client(framed(stream, lengthDelimited({ lengthBytes: 4, maxFrameBytes: 1024 * 1024 })));
  }

  /** The next message off the wire, or null at the end. */
  async next(): Promise<Message | null> {
    const frame = await this.frames.read();
    return frame === null ? null : (JSON.parse(Buffer.from(frame).toString()) as Message);
  }

  async request(op: string, fields: Record<string, unknown> = {}): Promise<Message> {
    const id = this.#nextId++;
    await this.frames.send(JSON.stringify({ id, op, ...fields }));
    for (;;) {
      const message = await this.next();
      if (message === null) throw new Error('daemon closed the connection');
      if (message.id === id) return message;
      this.events.push(message);
    }
  }

  /** Events (queued first) until `stop` returns true for one; returns them all. */
  async until(stop: (m: Message) => boolean): Promise<Message[]> {
    const seen: Message[] = [];
    for (;;) {
      const message = this.events.shift() ?? (await this.next());
      if (message === null) return seen;
      seen.push(message);
      if (stop(message)) return seen;
    }
  }
}

/** Output bytes delivered plus bytes reported missed. */
function accounted(events: Message[]): { delivered: number; missed: number; lagged: number } {
  let delivered = 0;
  let missed = 0;
  let lagged = 0;
  for (const e of events) {
    if (e.event === 'output') delivered += Buffer.byteLength(e.data ?? '');
    if (e.event === 'lagged') {
      lagged++;
      missed += Number(e.missedBytes);
    }
  }
  return { delivered, missed, lagged };
}

const FLOOD = 4_000_000;
const FLOOD_COMMAND = `head -c ${FLOOD} /dev/zero | tr '\\0' x; exit\n`;

describe('examples/session-daemon.ts', () => {
  let dir: string;
  let daemon: SessionDaemon | undefined;
  const clientRt = createRuntime({ io: 'node' });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'zk-sd-'));
  });
  afterEach(async () => {
    await daemon?.stop();
    daemon = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs sessions, and tells a lagging subscriber exactly how much output it missed', async () => {
    const path = join(dir, 'd.sock');
    daemon = await startSessionDaemon({ path, capacity: 4, lag: 'notify', runtime: createRuntime({ io: 'node' }) });
    await clientRt.run(async () => {
      const a = await Client.connect(path);
      const created = await a.request('create', { command: 'sh' });
      expect(created).toMatchObject({ ok: true, session: 1 });
      expect(alive(Number(created.pid))).toBe(true);
      expect(await a.request('subscribe', { session: 1 })).toMatchObject({ ok: true });
      expect(await a.request('write', { session: 1, data: 'echo hello from $0\n' })).toMatchObject({ ok: true });
      const hello = await a.until((m) => m.event === 'output' && String(m.data).includes('hello'));
      expect(hello.at(-1)).toMatchObject({ event: 'output', session: 1, stream: 'stdout', data: 'hello from sh\n' });
      expect(await a.request('subscribe', { session: 99 })).toMatchObject({ ok: false, error: 'no session 99' });
      expect(await a.request('list')).toMatchObject({ ok: true, sessions: [{ session: 1, pid: created.pid }] });

      // Session 2 floods; B subscribes and does not read its socket until the flood is over.
      const b = await Client.connect(path);
      const flood = await a.request('create', { command: 'sh' });
      expect(await a.request('subscribe', { session: flood.session })).toMatchObject({ ok: true });
      expect(await b.request('subscribe', { session: flood.session })).toMatchObject({ ok: true });
      await a.request('write', { session: flood.session, data: FLOOD_COMMAND });
      const seenByA = await a.until((m) => m.event === 'exit');
      expect(seenByA.at(-1)).toMatchObject({ event: 'exit', session: flood.session, code: 0 });
      const forA = accounted(seenByA);
      expect(forA.delivered + forA.missed).toBe(FLOOD);

      const seenByB = await b.until((m) => m.event === 'exit');
      const forB = accounted(seenByB);
      expect(forB.lagged).toBeGreaterThan(0);
      expect(forB.missed).toBeGreaterThan(0);
      expect(forB.delivered + forB.missed).toBe(FLOOD);

      const closed = await a.request('close', { session: 1 });
      expect(closed).toMatchObject({ ok: true, signal: 'SIGTERM' });
      expect(alive(Number(created.pid))).toBe(false);
      await a.frames.close();
      await b.frames.close();
    });
  });

  it('disconnects a subscriber that falls behind under the disconnect policy', async () => {
    const path = join(dir, 'd.sock');
    daemon = await startSessionDaemon({ path, capacity: 2, lag: 'disconnect', runtime: createRuntime({ io: 'node' }) });
    await clientRt.run(async () => {
      const a = await Client.connect(path);
      const b = await Client.connect(path);
      const flood = await a.request('create', { command: 'sh' });
      await b.request('subscribe', { session: flood.session });
      await a.request('write', { session: flood.session, data: FLOOD_COMMAND });
      expect(await a.request('wait', { session: flood.session })).toMatchObject({ ok: true, code: 0 });
      // To the end of the connection: a clean end, or a frame cut by the disconnect.
      const seenByB: Message[] = [];
      let ending: unknown = null;
      try {
        for (let m = await b.next(); m !== null; m = await b.next()) seenByB.push(m);
      } catch (err) {
        ending = err;
      }
      expect(ending === null || ending instanceof UnexpectedEofError).toBe(true);
      expect(seenByB.some((m) => m.event === 'lagged' || m.event === 'exit')).toBe(false);
      expect(accounted(seenByB).delivered).toBeLessThan(FLOOD);
      await a.frames.close();
      await b.frames.close();
    });
  });
});

/** Daemon processes of the tests below, killed after all in case a test failed midway. */
const started = new Set<ReturnType<typeof spawnChild>>();
afterAll(() => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

describe.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)('the session daemon as a process, on %s', (signal) => {
  it('shuts down gracefully: children gone (one ignores SIGTERM), socket file removed, exit 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zk-sd-'));
    const path = join(dir, 'd.sock');
    const daemon = spawnChild(process.execPath, ['--import', 'tsx', 'examples/session-daemon.ts', '--socket', path, '--grace-ms', '300'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    started.add(daemon);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => daemon.once('exit', (code, sig) => resolve({ code, signal: sig })));
    try {
      await new Promise<void>((resolve, reject) => {
        daemon.stdout.on('data', (chunk: Buffer) => {
          if (String(chunk).includes('listening')) resolve();
        });
        daemon.once('exit', () => reject(new Error('daemon exited before listening')));
      });
      const rt = createRuntime({ io: 'node' });
      const pids = await rt.run(async () => {
        const client = await Client.connect(path);
        const plain = await client.request('create', { command: 'sh' });
        // It says `ready` once asked (after the subscription), with SIGTERM ignored.
        const stubborn = await client.request('create', { command: 'sh', args: ['-c', 'trap "" TERM; read go; echo ready; exec sleep 1000'] });
        await client.request('subscribe', { session: stubborn.session });
        await client.request('write', { session: stubborn.session, data: 'go\n' });
        await client.until((m) => m.event === 'output' && String(m.data).includes('ready'));
        const list = [Number(plain.pid), Number(stubborn.pid)];
        for (const pid of list) expect(alive(pid)).toBe(true);
        daemon.kill(signal);
        // The daemon closes the connection as it shuts down.
        await client.until(() => false);
        await client.frames.close();
        return list;
      });
      await rt.shutdown();
      expect(await exited).toEqual({ code: 0, signal: null });
      for (const pid of pids) expect(alive(pid)).toBe(false);
      expect(existsSync(path)).toBe(false);
    } finally {
      if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
