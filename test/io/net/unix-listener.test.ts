// UnixListener / UnixStream on both backends, plus the node-only rules about socket files:
// a stale file is replaced, a live listener's file and a non-socket file are not, a path
// longer than sun_path is a coded error before any syscall, close() removes the file.
import { existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync, statSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { spawn as spawnChild } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../../../src/runtime/runtime.js';
import { ClosedError, SocketPathTooLongError } from '../../../src/errors.js';
import { UnixListener, UnixStream, maxSocketPathBytes } from '../../../src/io/net/index.js';
import { serve } from '../../../src/io/http/index.js';
import { memoryBackend, request } from '../../../src/testing/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'zk-unix-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe.each(['node', 'memory'] as const)('Unix sockets on the %s backend', (backend) => {
  let rt: ReturnType<typeof createRuntime>;
  beforeEach(() => {
    rt = createRuntime({ io: backend });
  });
  afterEach(async () => {
    await rt.shutdown();
  });

  it('echoes through accept(), readExact and readLine, and close() frees the path', async () => {
    await rt.run(async () => {
      const path = join(dir, 'echo.sock');
      const listener = await UnixListener.bind({ path, mode: 0o600 });
      expect(listener.path).toBe(path);
      if (backend === 'node') {
        expect(statSync(path).isSocket()).toBe(true);
        expect(statSync(path).mode & 0o777).toBe(0o600);
      } else {
        expect(memoryBackend().net.paths()).toEqual([path]);
      }
      const server = rt.spawn(async () => {
        for await (const conn of listener) {
          rt.spawn(async () => {
            for await (const chunk of conn) await conn.write(chunk);
            await conn.close();
          });
        }
      });
      await using client = await UnixStream.connect({ path });
      expect(client.path).toBe(path);
      await client.write('line one\r\nline two\nABCDEFGH');
      expect(await client.readLine()).toBe('line one');
      expect(await client.readLine()).toBe('line two');
      expect(Buffer.from(await client.readExact(3)).toString()).toBe('ABC');
      expect(Buffer.from(await client.readExact(5)).toString()).toBe('DEFGH');
      await client.end();
      expect(await client.read()).toBeNull();
      await listener.close();
      await server;
      await expect(listener.accept()).rejects.toBeInstanceOf(ClosedError);
      if (backend === 'node') expect(existsSync(path)).toBe(false);
      else expect(memoryBackend().net.paths()).toEqual([]);
      // The path is free again.
      await (await UnixListener.bind({ path })).close();
    });
  });

  it('close() does not wait for accepted streams, which stay open; the path is free at once; shutdown closes them', async () => {
    const local = createRuntime({ io: backend });
    const path = join(dir, 'held.sock');
    const { listener, client, server } = await local.run(async () => {
      const listener = await UnixListener.bind({ path });
      const client = await UnixStream.connect({ path });
      return { listener, client, server: await listener.accept() };
    });
    // The peer stays connected: node's own server.close(callback) would wait for it.
    await local.run(() => listener.close());
    if (backend === 'node') expect(existsSync(path)).toBe(false);
    await expect(local.run(() => UnixStream.connect({ path }))).rejects.toMatchObject({ code: 'ENOENT' });
    const second = await local.run(async () => {
      await client.write('still open');
      expect(Buffer.from((await server.read())!).toString()).toBe('still open');
      // A second listener on the path, then shutdown with its accepted stream connected.
      const again = await UnixListener.bind({ path });
      const peer = await UnixStream.connect({ path });
      return [peer, await again.accept()];
    });
    await local.shutdown({ timeoutMs: 0 });
    if (backend === 'node') expect(existsSync(path)).toBe(false);
    expect([client, server, ...second].map((s) => s.closed)).toEqual([true, true, true, true]);
  });

  it('end() on a stream whose peer does not read stops waiting on abort; the end stays queued', async () => {
    await rt.run(async () => {
      const path = join(dir, 'end.sock');
      await using listener = await UnixListener.bind({ path });
      const client = await UnixStream.connect({ path });
      const server = await listener.accept();
      // More than the kernel's buffers hold, in chunks (one in-memory chunk would pass whole).
      const chunk = new Uint8Array(64 * 1024).fill(2);
      for (let i = 0; i < 512; i++) void client.write(chunk).catch(() => undefined);
      const controller = new AbortController();
      const ending = client.end({ signal: controller.signal });
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      controller.abort(new Error('gave up on the flush'));
      await expect(ending).rejects.toThrow('gave up on the flush');
      let n = 0;
      for (let chunk = await server.read(); chunk !== null; chunk = await server.read()) n += chunk.byteLength;
      expect(n).toBe(512 * chunk.byteLength);
      await Promise.all([client.close(), server.close()]);
    });
  });

  it('refuses a second listener on a path a live listener holds, and leaves the first intact', async () => {
    await rt.run(async () => {
      const path = join(dir, 'held.sock');
      await using first = await UnixListener.bind({ path });
      await expect(UnixListener.bind({ path })).rejects.toMatchObject({ code: 'EADDRINUSE', message: expect.stringContaining('live listener') });
      if (backend === 'node') {
        // The probe that found the listener alive is a connection that closes at once.
        await using probe = await first.accept();
        expect(await probe.read()).toBeNull();
      }
      const accepted = first.accept();
      await using client = await UnixStream.connect({ path });
      await using conn = await accepted;
      await client.write('still here');
      expect(Buffer.from(await conn.readExact(10)).toString()).toBe('still here');
    });
  });

  it('rejects a path longer than sun_path with a coded error before any syscall', async () => {
    await rt.run(async () => {
      const max = maxSocketPathBytes();
      const long = join(dir, 'x'.repeat(max));
      const err = await UnixListener.bind({ path: long }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SocketPathTooLongError);
      expect(err).toMatchObject({ code: 'ZOKIO_ERR_SOCKET_PATH_TOO_LONG', maxBytes: max, bytes: Buffer.byteLength(long) });
      expect(existsSync(long)).toBe(false);
      await expect(UnixStream.connect({ path: long })).rejects.toMatchObject({ code: 'ZOKIO_ERR_SOCKET_PATH_TOO_LONG' });
      await expect(serve(() => ({ body: 'x' }), { path: long })).rejects.toMatchObject({ code: 'ZOKIO_ERR_SOCKET_PATH_TOO_LONG' });
      // Multi-byte characters count as bytes, not as UTF-16 units.
      const prefix = join(dir, '/');
      const fits = prefix + 'é'.repeat(Math.floor((max - Buffer.byteLength(prefix)) / 2));
      expect(Buffer.byteLength(fits)).toBeLessThanOrEqual(max);
      await (await UnixListener.bind({ path: fits })).close();
      await expect(UnixListener.bind({ path: fits + 'éé' })).rejects.toBeInstanceOf(SocketPathTooLongError);
      await expect(UnixListener.bind({ path: '' })).rejects.toMatchObject({ code: 'ZOKIO_ERR_INVALID_ARGUMENT' });
    });
  });

  it('serves HTTP on a Unix socket', async () => {
    await rt.run(async () => {
      const path = join(dir, 'http.sock');
      await using server = await serve((req) => ({ body: `hello ${req.path}` }), { path });
      expect(server.path).toBe(path);
      const res = await request(server, { path: '/unix' });
      expect(res.status).toBe(200);
      expect(res.body).toBe('hello /unix');
    });
  });

  it('connecting to a path nobody listens on fails with the system error', async () => {
    await rt.run(async () => {
      await expect(UnixStream.connect({ path: join(dir, 'none.sock') })).rejects.toMatchObject({ code: 'ENOENT' });
    });
  });
});

describe('Unix socket files on the node backend', () => {
  let rt: ReturnType<typeof createRuntime>;
  beforeEach(() => {
    rt = createRuntime({ io: 'node' });
  });
  afterEach(async () => {
    await rt.shutdown();
  });

  it('replaces a stale socket file left by a process that died', async () => {
    const path = join(dir, 'stale.sock');
    // A child process listens and is killed with SIGKILL: its socket file stays behind.
    const child = spawnChild(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect(statSync(path).isSocket()).toBe(true);
    await rt.run(async () => {
      await using listener = await UnixListener.bind({ path });
      const accepted = listener.accept();
      await using client = await UnixStream.connect({ path });
      await using conn = await accepted;
      await client.write('new owner');
      expect(Buffer.from(await conn.readExact(9)).toString()).toBe('new owner');
    });
  });

  it('does not touch a file that is not a socket, nor a live node:net listener', async () => {
    const file = join(dir, 'plain');
    writeFileSync(file, 'keep me');
    const path = join(dir, 'live.sock');
    const other = createServer((s) => s.on('error', () => undefined).end('other')).listen(path);
    await new Promise((resolve) => other.once('listening', resolve));
    try {
      await rt.run(async () => {
        await expect(UnixListener.bind({ path: file })).rejects.toMatchObject({ code: 'EADDRINUSE', message: expect.stringContaining('not a socket') });
        await expect(UnixListener.bind({ path })).rejects.toMatchObject({ code: 'EADDRINUSE' });
      });
      expect(readFileSync(file, 'utf8')).toBe('keep me');
      // The live listener still answers.
      const reply = await new Promise<string>((resolve, reject) => {
        const s = netConnect(path);
        let text = '';
        s.on('data', (c) => (text += String(c)));
        s.on('end', () => resolve(text));
        s.on('error', reject);
      });
      expect(reply).toBe('other');
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it('runtime shutdown closes the listener and removes the socket file', async () => {
    const path = join(dir, 'shutdown.sock');
    await rt.run(() => UnixListener.bind({ path }));
    expect(existsSync(path)).toBe(true);
    await rt.shutdown();
    expect(existsSync(path)).toBe(false);
  });
});
