// framed() with each codec over real streams (the memory backend's loopback, and Unix
// sockets on node): whole frames whatever the chunking (property), truncated frames and
// headers, an oversized length prefix (rejected from the prefix alone, stream closed),
// oversized sends (nothing written), bad JSON lines, and cancellation at a frame boundary.
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../../../src/runtime/runtime.js';
import { FrameDecodeError, FrameTooLargeError, UnexpectedEofError } from '../../../src/errors.js';
import { TcpListener, TcpStream, UnixListener, UnixStream, framed, jsonLines, lengthDelimited, lines } from '../../../src/io/net/index.js';

type Rt = ReturnType<typeof createRuntime>;

/** A connected pair on the runtime's backend. */
async function pair(): Promise<[TcpStream, TcpStream]> {
  const listener = await TcpListener.bind({ port: 0 });
  const accepted = listener.accept();
  const client = await TcpStream.connect({ port: listener.address.port });
  const server = await accepted;
  // On node, close() resolves once the listener's connections are gone too: not awaited.
  void listener.close();
  return [client, server];
}

function header(length: number, bytes = 4): Buffer {
  const b = Buffer.alloc(bytes);
  b.writeUIntBE(length, 0, bytes);
  return b;
}

describe('framed on the memory backend', () => {
  let rt: Rt;
  beforeEach(() => {
    rt = createRuntime({ io: 'memory' });
  });
  afterEach(async () => {
    await rt.shutdown();
  });

  it('lengthDelimited yields the frames sent, whatever the chunking of the wire (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 255 }), { maxLength: 12 }),
        fc.constantFrom(1 as const, 2 as const, 3 as const, 4 as const),
        fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 20 }),
        async (payloads, lengthBytes, cuts) => {
          await rt.run(async () => {
            const [client, server] = await pair();
            const codec = lengthDelimited({ lengthBytes, maxFrameBytes: 255 });
            const wire = Buffer.concat(payloads.map((p) => codec.encode(p)));
            const received: Uint8Array[] = [];
            const reader = rt.spawn(async () => {
              for await (const frame of framed(server, codec)) received.push(Buffer.from(frame));
            });
            for (let at = 0, i = 0; at < wire.length; i++) {
              const size = cuts[i % cuts.length]!;
              await client.write(wire.subarray(at, at + size));
              at += size;
            }
            await client.end();
            await reader;
            expect(received.map((r) => Buffer.from(r).toString('hex'))).toEqual(payloads.map((p) => Buffer.from(p).toString('hex')));
            await Promise.all([client.close(), server.close()]);
          });
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a stream that ends inside a payload or inside a header is UnexpectedEofError, then null', async () => {
    await rt.run(async () => {
      const [client, server] = await pair();
      const frames = framed(server, lengthDelimited({ lengthBytes: 4, maxFrameBytes: 100 }));
      await client.write(Buffer.concat([header(10), Buffer.from('abcd')]));
      await client.end();
      const err = await frames.read().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnexpectedEofError);
      expect(err).toMatchObject({ code: 'ZOKIO_ERR_UNEXPECTED_EOF', received: 8, expected: 14 });
      expect(await frames.read()).toBeNull();

      const [c2, s2] = await pair();
      const f2 = framed(s2, lengthDelimited({ lengthBytes: 4 }));
      await c2.write(Buffer.from([0, 0]));
      await c2.end();
      await expect(f2.read()).rejects.toMatchObject({ code: 'ZOKIO_ERR_UNEXPECTED_EOF', received: 2, expected: 4 });
      await Promise.all([client.close(), server.close(), c2.close(), s2.close()]);
    });
  });

  it('an oversized length prefix is FrameTooLargeError from the prefix alone, and closes the stream', async () => {
    await rt.run(async () => {
      const [client, server] = await pair();
      const frames = framed(server, lengthDelimited({ lengthBytes: 4, maxFrameBytes: 1024 }));
      // Only the prefix is sent: the error cannot come from reading the payload.
      await client.write(header(0x40000000));
      const err = await frames.read().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FrameTooLargeError);
      expect(err).toMatchObject({ code: 'ZOKIO_ERR_FRAME_TOO_LARGE', bytes: 0x40000000, maxBytes: 1024 });
      expect(server.closed).toBe(true);
      expect(await client.read()).toBeNull(); // the peer sees the connection go
      expect(await frames.read()).toBeNull();
      await client.close();
    });
  });

  it('sending an oversized frame writes nothing and leaves the stream usable', async () => {
    await rt.run(async () => {
      const [client, server] = await pair();
      const out = framed(client, lengthDelimited({ lengthBytes: 2, maxFrameBytes: 8 }));
      const inp = framed(server, lengthDelimited({ lengthBytes: 2, maxFrameBytes: 8 }));
      await expect(out.send('123456789')).rejects.toBeInstanceOf(FrameTooLargeError);
      await out.send('12345678');
      expect(Buffer.from((await inp.read())!).toString()).toBe('12345678');
      expect(() => lengthDelimited({ lengthBytes: 1, maxFrameBytes: 256 })).toThrow(expect.objectContaining({ code: 'ZOKIO_ERR_INVALID_ARGUMENT' }));
      expect(() => lengthDelimited({ lengthBytes: 5 as 4 })).toThrow(expect.objectContaining({ code: 'ZOKIO_ERR_INVALID_ARGUMENT' }));
      await Promise.all([client.close(), server.close()]);
    });
  });

  it('an aborted read gives the partial frame back: the stream stays at the frame boundary', async () => {
    await rt.run(async () => {
      const [client, server] = await pair();
      const codec = lengthDelimited({ lengthBytes: 4, maxFrameBytes: 100 });
      const frames = framed(server, codec);
      const whole = Buffer.from(codec.encode('hello, world'));
      const controller = new AbortController();
      const pending = frames.read({ signal: controller.signal });
      await client.write(whole.subarray(0, 7));
      // Let the read take the first bytes before aborting.
      await new Promise((resolve) => setImmediate(resolve));
      controller.abort(new Error('stop'));
      await expect(pending).rejects.toThrow('stop');
      // The bytes taken are back in the stream, from the frame's first byte.
      const back = await server.read();
      expect(Buffer.from(back!).equals(whole.subarray(0, 7))).toBe(true);
      server.unread(back!);
      await client.write(whole.subarray(7));
      expect(Buffer.from((await frames.read())!).toString()).toBe('hello, world');
      await Promise.all([client.close(), server.close()]);
    });
  });

  it('one read at a time', async () => {
    await rt.run(async () => {
      const [client, server] = await pair();
      const frames = framed(server, lines());
      const first = frames.read();
      await expect(frames.read()).rejects.toMatchObject({ code: 'ZOKIO_ERR_INVALID_ARGUMENT' });
      await client.write('a\n');
      expect(await first).toBe('a');
      await Promise.all([client.close(), server.close()]);
    });
  });

  it('lines: CRLF and LF, an over-long line closes the stream, an unterminated last line is an error', async () => {
    await rt.run(async () => {
      const [client, server] = await pair();
      const frames = framed(server, lines({ maxBytes: 5 }));
      await client.write('one\r\ntwo\nthree\n');
      expect([await frames.read(), await frames.read(), await frames.read()]).toEqual(['one', 'two', 'three']);
      await client.write('abcdefgh');
      await expect(frames.read()).rejects.toMatchObject({ code: 'ZOKIO_ERR_FRAME_TOO_LARGE', maxBytes: 5 });
      expect(server.closed).toBe(true);
      await expect(framed(client, lines({ maxBytes: 2 })).send('abc')).rejects.toBeInstanceOf(FrameTooLargeError);
      await expect(framed(client, lines()).send('a\nb')).rejects.toMatchObject({ code: 'ZOKIO_ERR_INVALID_ARGUMENT' });

      const [c2, s2] = await pair();
      const f2 = framed(s2, lines());
      await c2.write('done\npartial');
      await c2.end();
      expect(await f2.read()).toBe('done');
      await expect(f2.read()).rejects.toMatchObject({ code: 'ZOKIO_ERR_UNEXPECTED_EOF', received: 7 });
      await Promise.all([client.close(), c2.close(), s2.close()]);
    });
  });

  it('jsonLines: values round-trip; a line that is not JSON is FrameDecodeError and the next line is read', async () => {
    await rt.run(async () => {
      const [client, server] = await pair();
      const out = framed(client, jsonLines<{ n: number; s?: string }>());
      const inp = framed(server, jsonLines<{ n: number; s?: string }>());
      await out.send({ n: 1, s: 'line\nbreak' });
      await client.write('{not json}\n');
      await out.send({ n: 2 });
      expect(await inp.read()).toEqual({ n: 1, s: 'line\nbreak' });
      await expect(inp.read()).rejects.toBeInstanceOf(FrameDecodeError);
      expect(await inp.read()).toEqual({ n: 2 });
      await expect(out.send(undefined as never)).rejects.toMatchObject({ code: 'ZOKIO_ERR_INVALID_ARGUMENT' });
      await Promise.all([client.close(), server.close()]);
    });
  });
});

describe('framed over Unix sockets on the node backend', () => {
  let rt: Rt;
  let dir: string;
  beforeEach(() => {
    rt = createRuntime({ io: 'node' });
    dir = mkdtempSync(join(tmpdir(), 'zk-framed-'));
  });
  afterEach(async () => {
    await rt.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('echoes 500 length-prefixed JSON messages in order, including one of 1 MiB', async () => {
    await rt.run(async () => {
      const path = join(dir, 's.sock');
      await using listener = await UnixListener.bind({ path });
      const codec = () => lengthDelimited({ lengthBytes: 4, maxFrameBytes: 2 * 1024 * 1024 });
      const server = rt.spawn(async () => {
        const conn = await listener.accept();
        const frames = framed(conn, codec());
        for await (const frame of frames) await frames.send(frame);
        await conn.end();
        await frames.close();
      });
      await using client = await UnixStream.connect({ path });
      const frames = framed(client, codec());
      const big = 'x'.repeat(1024 * 1024);
      const sender = rt.spawn(async () => {
        for (let i = 0; i < 500; i++) await frames.send(JSON.stringify({ i, pad: i === 250 ? big : '' }));
        await client.end();
      });
      let next = 0;
      for await (const frame of frames) {
        const message = JSON.parse(Buffer.from(frame).toString()) as { i: number; pad: string };
        expect(message.i).toBe(next);
        expect(message.pad.length).toBe(next === 250 ? big.length : 0);
        next++;
      }
      await sender;
      await server;
      expect(next).toBe(500);
    });
  });
});
