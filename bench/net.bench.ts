/**
 * Net and process bench: zokio's Unix sockets, framed streams and child processes against
 * the hand-written `node:net` / `node:child_process` code a user would write instead, on
 * the same socket path type, in the same process run.
 *
 * - unix echo: one client, ping-pong of 64-byte messages over a Unix socket (zokio:
 *   `UnixStream.write` + `readExact`; node:net: `'data'` events, accumulating 64 bytes;
 *   and, as a reference, node:net with one bare promise awaited per read on each side:
 *   the floor of any promise-based stream API);
 * - framed: 4-byte length-prefixed 128-byte messages echoed by the server, pipelined
 *   (the client writes them all while reading the echoes) (zokio: `framed` +
 *   `lengthDelimited` on both sides; node:net: a hand-written frame parser on `'data'`,
 *   one `write` per frame; node:net corked: the same with the writes of a burst corked,
 *   as zokio's `write` coalesces them, reported beside the target);
 * - spawn+wait of `true` (report only): `spawnProcess(...).wait()` against
 *   `child_process.spawn` + `'exit'`, stdio ignored in both.
 *
 * Target (issue #21): zokio >= 1.0× the node:net msgs/s in both socket groups.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime } from '../src/runtime/runtime.js';
import { UnixListener, UnixStream, framed, lengthDelimited } from '../src/io/net/index.js';
import { spawnProcess } from '../src/io/process/index.js';
import { defineSuite, type BenchCase, type MeasureOptions } from './harness.js';

const ECHO_BYTES = 64;
const FRAME_BYTES = 128;
/** Round trips run untimed before each echo measurement (JIT warm-up, same for both). */
const WARMUP = 1_000;
/** Messages echoed untimed before each framed measurement. */
const FRAMED_WARMUP = 5_000;

let dir = '';
let runtime: ReturnType<typeof createRuntime> | undefined;
let socketNo = 0;
const rt = (): ReturnType<typeof createRuntime> => (runtime ??= createRuntime({ io: 'node' }));
const socketPath = (): string => join(dir, `s${socketNo++}.sock`);
const echoCount = (o: MeasureOptions): number => (o.quick ? 3_000 : 10_000);
const frameCount = (o: MeasureOptions): number => (o.quick ? 10_000 : 50_000);
const spawnCount = (o: MeasureOptions): number => (o.quick ? 20 : 100);

function rate(count: number, started: number): number {
  return count / ((performance.now() - started) / 1000);
}

// ---------------------------------------------------------------------------------------
// node:net peers
// ---------------------------------------------------------------------------------------

function listenNode(path: string, onSocket: (socket: Socket) => void): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer(onSocket);
    server.listen(path, () => resolve(server));
  });
}

function connectNode(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path, () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * A server's write as a careful node:net user writes it: when `write` returns false the
 * socket stops reading until `'drain'`, as zokio's `await conn.write(...)` /
 * `await frames.send(...)` does (without it the node:net server would buffer without
 * bound and skip the drain round trips that zokio's server pays).
 */
function backpressuredWriter(socket: Socket): (bytes: Buffer) => void {
  let waiting = false;
  const resume = (): void => {
    waiting = false;
    socket.resume();
  };
  return (bytes) => {
    if (socket.write(bytes) || waiting) return;
    waiting = true;
    socket.pause();
    socket.once('drain', resume);
  };
}

/**
 * The node:net side of an echo measurement: a server on a fresh path answering with
 * `onSocket`, one client, and `exchangeOn(client)` (n round trips) run untimed for the
 * warm-up and then timed.
 */
async function timeNodeEcho(options: MeasureOptions, onSocket: (socket: Socket) => void, exchangeOn: (client: Socket) => (n: number) => Promise<void>): Promise<number> {
  const path = socketPath();
  const server = await listenNode(path, onSocket);
  const client = await connectNode(path);
  const count = echoCount(options);
  const exchange = exchangeOn(client);
  await exchange(WARMUP);
  const started = performance.now();
  await exchange(count);
  const result = rate(count, started);
  client.destroy();
  await new Promise((resolve) => server.close(resolve));
  return result;
}

function nodeEcho(options: MeasureOptions): Promise<number> {
  const message = Buffer.alloc(ECHO_BYTES, 7);
  return timeNodeEcho(
    options,
    (s) => {
      const write = backpressuredWriter(s);
      s.on('data', write);
    },
    (client) => (n) =>
      new Promise<void>((resolve) => {
        let sent = 1;
        let got = 0;
        const onData = (d: Buffer): void => {
          got += d.length;
          if (got < ECHO_BYTES) return;
          got -= ECHO_BYTES;
          if (sent === n) {
            client.off('data', onData);
            return resolve();
          }
          sent++;
          client.write(message);
        };
        client.on('data', onData);
        client.write(message);
      }),
  );
}

/**
 * The least a promise-based read can add to node:net: `next()` returns the next chunk
 * through one new promise resolved from `'data'` (or a queued chunk at once), and an empty
 * chunk once the socket has closed. No backpressure, no task awareness, no abort.
 */
function promiseReader(socket: Socket): () => Promise<Buffer> {
  const queue: Buffer[] = [];
  let waiting: ((chunk: Buffer) => void) | undefined;
  const deliver = (chunk: Buffer): void => {
    const resolve = waiting;
    if (resolve === undefined) queue.push(chunk);
    else {
      waiting = undefined;
      resolve(chunk);
    }
  };
  socket.on('data', deliver);
  socket.once('close', () => deliver(Buffer.alloc(0)));
  return () => (queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise<Buffer>((resolve) => (waiting = resolve)));
}

/**
 * Not a peer: the same ping-pong over node:net with each side awaiting one promise per
 * message ({@link promiseReader}) and nothing else: the floor of any promise-based
 * stream API on this platform (an await per read is what `conn.read()` and
 * `readExact` are). Beside node:net's callbacks it shows what the promise alone costs
 * on these sockets, where a promise reaction per message is far dearer than in a loop
 * without I/O.
 */
function nodePromiseEcho(options: MeasureOptions): Promise<number> {
  const message = Buffer.alloc(ECHO_BYTES, 7);
  return timeNodeEcho(
    options,
    (s) => {
      const next = promiseReader(s);
      void (async () => {
        for (let chunk = await next(); chunk.length > 0; chunk = await next()) s.write(chunk);
      })();
    },
    (client) => {
      const next = promiseReader(client);
      return async (n) => {
        for (let i = 0; i < n; i++) {
          client.write(message);
          let got = 0;
          while (got < ECHO_BYTES) got += (await next()).length;
        }
      };
    },
  );
}

/** A hand-written length-prefixed parser: calls `onFrame` with each payload. */
function frameParser(onFrame: (payload: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer | undefined;
  return (chunk) => {
    const buf = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
    let at = 0;
    while (buf.length - at >= 4) {
      const length = buf.readUInt32BE(at);
      if (buf.length - at - 4 < length) break;
      onFrame(buf.subarray(at + 4, at + 4 + length));
      at += 4 + length;
    }
    pending = at === buf.length ? undefined : buf.subarray(at);
  };
}

function encodeNode(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + payload.length);
  out.writeUInt32BE(payload.length, 0);
  payload.copy(out, 4);
  return out;
}

/**
 * `cork`: the node:net code a user writes who knows that each small `write` is a system
 * call: the client corks its burst of writes and uncorks on the next tick, the server corks
 * while it echoes the frames of one chunk. zokio's `write` coalesces the writes of a tick
 * the same way, so this is the peer that does the same work; without it node:net makes one
 * system call per frame.
 */
async function nodeFramed(options: MeasureOptions, cork = false): Promise<number> {
  const path = socketPath();
  const server = await listenNode(path, (s) => {
    const write = backpressuredWriter(s);
    const parse = frameParser((payload) => write(encodeNode(payload)));
    s.on('data', (chunk: Buffer) => {
      if (!cork) return parse(chunk);
      s.cork();
      parse(chunk);
      s.uncork();
    });
  });
  const client = await connectNode(path);
  const count = frameCount(options);
  const payload = Buffer.alloc(FRAME_BYTES, 9);
  let onEcho: () => void = () => undefined;
  client.on('data', frameParser(() => onEcho()));
  const exchange = (n: number): Promise<void> =>
    new Promise<void>((resolve) => {
      let got = 0;
      onEcho = () => {
        if (++got === n) resolve();
      };
      let sent = 0;
      const pump = (): void => {
        if (cork) {
          client.cork();
          process.nextTick(() => client.uncork());
        }
        while (sent < n) {
          sent++;
          if (!client.write(encodeNode(payload))) {
            client.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
  await exchange(FRAMED_WARMUP);
  const started = performance.now();
  await exchange(count);
  const result = rate(count, started);
  client.destroy();
  await new Promise((resolve) => server.close(resolve));
  return result;
}

async function nodeSpawn(options: MeasureOptions): Promise<number> {
  const count = spawnCount(options);
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('true', [], { stdio: 'ignore' });
      child.once('error', reject);
      child.once('exit', () => resolve());
    });
  }
  return rate(count, started);
}

// ---------------------------------------------------------------------------------------
// zokio
// ---------------------------------------------------------------------------------------

function zokioEcho(options: MeasureOptions): Promise<number> {
  const r = rt();
  return r.run(async () => {
    const path = socketPath();
    const listener = await UnixListener.bind({ path });
    const server = r.spawn(async () => {
      const conn = await listener.accept();
      for await (const chunk of conn) await conn.write(chunk);
      await conn.close();
    });
    const client = await UnixStream.connect({ path });
    const count = echoCount(options);
    const message = Buffer.alloc(ECHO_BYTES, 7);
    const exchange = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        await client.write(message);
        await client.readExact(ECHO_BYTES);
      }
    };
    await exchange(WARMUP);
    const started = performance.now();
    await exchange(count);
    const result = rate(count, started);
    await client.close();
    await server;
    await listener.close();
    return result;
  });
}

function zokioFramed(options: MeasureOptions): Promise<number> {
  const r = rt();
  return r.run(async () => {
    const path = socketPath();
    const codec = lengthDelimited({ lengthBytes: 4, maxFrameBytes: 64 * 1024 });
    const listener = await UnixListener.bind({ path });
    const server = r.spawn(async () => {
      const frames = framed(await listener.accept(), codec);
      for await (const frame of frames) await frames.send(frame);
      await frames.close();
    });
    const frames = framed(await UnixStream.connect({ path }), codec);
    const count = frameCount(options);
    const payload = Buffer.alloc(FRAME_BYTES, 9);
    const exchange = async (n: number): Promise<void> => {
      const sender = r.spawn(async () => {
        for (let i = 0; i < n; i++) await frames.send(payload);
      });
      for (let got = 0; got < n; got++) await frames.read();
      await sender;
    };
    await exchange(FRAMED_WARMUP);
    const started = performance.now();
    await exchange(count);
    const result = rate(count, started);
    await frames.close();
    await server;
    await listener.close();
    return result;
  });
}

function zokioSpawn(options: MeasureOptions): Promise<number> {
  return rt().run(async () => {
    const count = spawnCount(options);
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      const child = await spawnProcess('true', [], { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
      await child.wait();
    }
    return rate(count, started);
  });
}

const cases: BenchCase[] = [
  { group: 'unix echo 64 B ping-pong', subject: 'zokio', unit: 'msgs/s', better: 'higher', measure: zokioEcho },
  { group: 'unix echo 64 B ping-pong', subject: 'node:net', unit: 'msgs/s', better: 'higher', measure: nodeEcho },
  { group: 'unix echo 64 B ping-pong', subject: 'node:net, one promise per read on each side (floor of a promise API, reference)', unit: 'msgs/s', better: 'higher', measure: nodePromiseEcho },
  { group: 'framed 128 B length-prefixed, pipelined', subject: 'zokio', unit: 'msgs/s', better: 'higher', measure: zokioFramed },
  { group: 'framed 128 B length-prefixed, pipelined', subject: 'node:net', unit: 'msgs/s', better: 'higher', measure: (o) => nodeFramed(o) },
  { group: 'framed 128 B length-prefixed, pipelined', subject: 'node:net corked', unit: 'msgs/s', better: 'higher', measure: (o) => nodeFramed(o, true) },
  { group: 'spawn+wait `true`', subject: 'zokio', unit: 'procs/s', better: 'higher', measure: zokioSpawn },
  { group: 'spawn+wait `true`', subject: 'node:child_process', unit: 'procs/s', better: 'higher', measure: nodeSpawn },
];

export default defineSuite({
  name: 'net',
  title: 'Unix sockets, framed streams and child processes vs node:net / node:child_process',
  cases,
  targets: [
    { group: 'unix echo 64 B ping-pong', text: '>= 1.0× node:net msgs/s', check: (z, p) => z >= (p['node:net'] ?? Infinity) },
    { group: 'framed 128 B length-prefixed, pipelined', text: '>= 1.0× node:net msgs/s', check: (z, p) => z >= (p['node:net'] ?? Infinity) },
  ],
  async setup() {
    dir = mkdtempSync(join(tmpdir(), 'zk-net-bench-'));
  },
  async teardown() {
    await runtime?.shutdown();
    runtime = undefined;
    rmSync(dir, { recursive: true, force: true });
  },
});
