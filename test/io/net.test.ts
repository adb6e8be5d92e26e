import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/runtime/runtime.js';
import { ClosedError } from '../../src/errors.js';
import { TcpListener, TcpStream } from '../../src/io/net/index.js';

describe.each(['node', 'memory'] as const)('zokio/net on the %s backend', (backend) => {
  let rt: ReturnType<typeof createRuntime>;
  beforeEach(() => {
    rt = createRuntime({ io: backend });
  });
  afterEach(async () => {
    await rt.shutdown();
  });

  it('echoes through accept() and async iteration', async () => {
    await rt.run(async () => {
      const listener = await TcpListener.bind({ host: '127.0.0.1', port: 0, noDelay: true });
      expect(listener.address.port).toBeGreaterThan(0);
      const server = rt.spawn(async () => {
        for await (const conn of listener) {
          rt.spawn(async () => {
            for await (const chunk of conn) await conn.write(chunk);
            await conn.close();
          });
        }
      });
      for (let c = 0; c < 3; c++) {
        await using client = await TcpStream.connect({ host: '127.0.0.1', port: listener.address.port, noDelay: true, keepAlive: true });
        await client.write(`hello ${c}`);
        await client.end();
        const received: Buffer[] = [];
        for await (const chunk of client) received.push(Buffer.from(chunk));
        expect(Buffer.concat(received).toString()).toBe(`hello ${c}`);
      }
      await listener.close();
      await server;
      await expect(listener.accept()).rejects.toBeInstanceOf(ClosedError);
    });
  });

  it('refuses connections with the Node error code', async () => {
    await rt.run(async () => {
      const listener = await TcpListener.bind({ port: 0 });
      const port = listener.address.port;
      await listener.close();
      await expect(TcpStream.connect({ port })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    });
  });

  it("a slow reader keeps the writer's buffered bytes bounded", async () => {
    await rt.run(async () => {
      const listener = await TcpListener.bind({ port: 0 });
      const client = await TcpStream.connect({ port: listener.address.port });
      const server = await listener.accept();
      const chunk = new Uint8Array(64 * 1024).fill(7);
      const total = 16 * 1024 * 1024;
      let maxBuffered = 0;
      let written = 0;
      const writer = (async () => {
        while (written < total) {
          await client.write(chunk);
          written += chunk.length;
          maxBuffered = Math.max(maxBuffered, client.bufferedBytes);
        }
        await client.end();
      })();
      // The reader takes one chunk, then yields to the event loop a few times: far slower than the writer.
      let read = 0;
      for (;;) {
        const got = await server.read();
        if (got === null) break;
        read += got.length;
        for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
      }
      await writer;
      expect(read).toBe(total);
      // Without backpressure the writer would have buffered up to the whole 16 MiB.
      expect(maxBuffered).toBeLessThanOrEqual(client.highWaterMark + chunk.length);
      await Promise.all([client.close(), server.close(), listener.close()]);
    });
  });

  it('end() waits for its flush while the peer does not read; a signal or a task abort stops that wait and the end stays queued', async () => {
    await rt.run(async () => {
      const listener = await TcpListener.bind({ port: 0 });
      // More than the kernel's buffers hold, in chunks (one in-memory chunk would pass whole).
      const chunk = new Uint8Array(64 * 1024).fill(1);
      const total = 512 * chunk.byteLength;
      const pair = async () => {
        const client = await TcpStream.connect({ port: listener.address.port });
        const server = await listener.accept();
        for (let i = 0; i < 512; i++) void client.write(chunk).catch(() => undefined); // the peer never reads: this stays buffered
        return { client, server };
      };
      const drain = async (server: TcpStream): Promise<number> => {
        let n = 0;
        for (let chunk = await server.read(); chunk !== null; chunk = await server.read()) n += chunk.byteLength;
        return n;
      };
      // An explicit signal.
      const a = await pair();
      const controller = new AbortController();
      const ending = a.client.end({ signal: controller.signal });
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      controller.abort(new Error('gave up on the flush'));
      await expect(ending).rejects.toThrow('gave up on the flush');
      // The end was not withdrawn: once the peer reads everything, it sees end of stream.
      expect(await drain(a.server)).toBe(total);
      // The running task's abort, with no signal passed.
      const b = await pair();
      const task = rt.spawn(() => b.client.end());
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      task.abort(new Error('task aborted'));
      await expect(task).rejects.toThrow('task aborted');
      expect(await drain(b.server)).toBe(total);
      await Promise.all([a.client.close(), a.server.close(), b.client.close(), b.server.close(), listener.close()]);
    });
  });

  it('read() honours an abort signal without losing data', async () => {
    await rt.run(async () => {
      const listener = await TcpListener.bind({ port: 0 });
      const client = await TcpStream.connect({ port: listener.address.port });
      const server = await listener.accept();
      const controller = new AbortController();
      const pending = server.read({ signal: controller.signal });
      controller.abort(new Error('gave up'));
      await expect(pending).rejects.toThrow('gave up');
      await client.write('late');
      expect(Buffer.from((await server.read())!).toString()).toBe('late');
      await Promise.all([client.close(), server.close(), listener.close()]);
    });
  });

  it('close() stops listening without waiting for accepted streams, which stay open', async () => {
    await rt.run(async () => {
      const listener = await TcpListener.bind({ port: 0 });
      const client = await TcpStream.connect({ port: listener.address.port });
      const server = await listener.accept();
      // The peer stays connected: node's own server.close(callback) would wait for it.
      await listener.close();
      await expect(TcpStream.connect({ port: listener.address.port })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await client.write('still open');
      expect(Buffer.from((await server.read())!).toString()).toBe('still open');
      await Promise.all([client.close(), server.close()]);
    });
  });

  it("shutdown returns while an accepted stream's peer stays connected, and closes the streams the runtime handed out", async () => {
    const local = createRuntime({ io: backend });
    const { client, server } = await local.run(async () => {
      const listener = await TcpListener.bind({ port: 0 });
      const client = await TcpStream.connect({ port: listener.address.port });
      return { client, server: await listener.accept() };
    });
    await local.shutdown({ timeoutMs: 0 });
    expect(local.metrics()['io']).toMatchObject({ servers: 0 });
    // Left open, they would keep the process alive after shutdown.
    expect(server.closed).toBe(true);
    expect(client.closed).toBe(true);
  });

  it('shutdown closes listeners the runtime still holds', async () => {
    const local = createRuntime({ io: backend });
    const listener = await local.run(() => TcpListener.bind({ port: 0 }));
    const accepting = local.run(() => listener.accept()).catch((e: unknown) => e);
    await local.shutdown();
    expect(await accepting).toBeInstanceOf(ClosedError);
  });
});

describe('TcpStream.read() chunks on the memory backend (one chunk per peer write)', () => {
  it('returns everything buffered before Node 26 and the oldest chunk from Node 26; readExact spans chunks either way', async () => {
    const rt = createRuntime({ io: 'memory' });
    try {
      await rt.run(async () => {
        const listener = await TcpListener.bind({ port: 0 });
        const client = await TcpStream.connect({ port: listener.address.port });
        const server = await listener.accept();
        for (const part of ['ab', 'cd', 'ef', 'gh']) await client.write(part);
        await new Promise((r) => setImmediate(r));
        const first = Buffer.from((await server.read())!).toString();
        const joinsChunks = Number(process.versions.node.split('.')[0]) < 26;
        expect(first).toBe(joinsChunks ? 'abcdefgh' : 'ab');
        if (!joinsChunks) expect(Buffer.from(await server.readExact(5)).toString()).toBe('cdefg');
        await client.write('ij');
        expect(Buffer.from(await server.readExact(joinsChunks ? 2 : 3)).toString()).toBe(joinsChunks ? 'ij' : 'hij');
        await Promise.all([client.close(), server.close(), listener.close()]);
      });
    } finally {
      await rt.shutdown();
    }
  });
});
