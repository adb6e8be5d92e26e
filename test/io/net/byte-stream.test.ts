// readExact / readLine / unread on TcpStream and on UnixStream (SocketStream, the engine of
// a child's pipes too): exact counts across chunks, a short end, cancellation that puts
// bytes back.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRuntime } from '../../../src/runtime/runtime.js';
import { FrameTooLargeError, TaskAbortedError, UnexpectedEofError } from '../../../src/errors.js';
import { sleep } from '../../../src/index.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TcpListener, TcpStream, UnixListener, UnixStream, type ByteStream } from '../../../src/io/net/index.js';

let kind: 'tcp' | 'unix' = 'tcp';

async function pair(): Promise<[ByteStream, ByteStream]> {
  if (kind === 'unix') {
    const path = join(mkdtempSync(join(tmpdir(), 'zk-bs-')), 's.sock');
    const listener = await UnixListener.bind({ path });
    const accepted = listener.accept();
    const client = await UnixStream.connect({ path });
    const server = await accepted;
    void listener.close();
    return [client, server];
  }
  const listener = await TcpListener.bind({ port: 0 });
  const accepted = listener.accept();
  const client = await TcpStream.connect({ port: listener.address.port });
  const server = await accepted;
  // On node, close() resolves once the listener's connections are gone too: not awaited.
  void listener.close();
  return [client, server];
}

describe.each([
  ['memory', 'tcp'],
  ['node', 'tcp'],
  ['memory', 'unix'],
  ['node', 'unix'],
] as const)('exact and line reads on the %s backend, %s streams', (backend, streams) => {
  let rt: ReturnType<typeof createRuntime>;
  beforeEach(() => {
    rt = createRuntime({ io: backend });
    kind = streams;
  });
  afterEach(async () => {
    await rt.shutdown();
  });

  it('readExact returns exactly n bytes across chunk boundaries (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 400 }), fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 10 }), async (data, sizes) => {
        await rt.run(async () => {
          const [client, server] = await pair();
          const writer = rt.spawn(async () => {
            for (let at = 0; at < data.length; at += 37) await client.write(data.subarray(at, at + 37));
            await client.end();
          });
          const got: Buffer[] = [];
          let left = data.length;
          for (let i = 0; left > 0; i++) {
            const n = Math.min(left, sizes[i % sizes.length]!);
            const bytes = await server.readExact(n);
            expect(bytes.byteLength).toBe(n);
            got.push(Buffer.from(bytes));
            left -= n;
          }
          expect(Buffer.concat(got).equals(Buffer.from(data))).toBe(true);
          expect(await server.read()).toBeNull();
          await writer;
          await Promise.all([client.close(), server.close()]);
        });
      }),
      { numRuns: backend === 'node' ? 10 : 40 },
    );
  });

  it('readExact: a short end is UnexpectedEofError and the bytes that came stay readable', async () => {
    await rt.run(async () => {
      const [client, server] = await pair();
      await client.write('abc');
      await client.end();
      const err = await server.readExact(5).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnexpectedEofError);
      expect(err).toMatchObject({ received: 3, expected: 5 });
      expect(Buffer.from((await server.read())!).toString()).toBe('abc');
      expect(await server.read()).toBeNull();
      await expect(server.readExact(-1)).rejects.toMatchObject({ code: 'ZOKIO_ERR_INVALID_ARGUMENT' });
      expect((await server.readExact(0)).byteLength).toBe(0);
      await Promise.all([client.close(), server.close()]);
    });
  });

  it('an aborted readExact or readLine puts back what it took', async () => {
    await rt.run(async () => {
      const [client, server] = await pair();
      await client.write('hel');
      const controller = new AbortController();
      const pending = server.readExact(5, { signal: controller.signal });
      await new Promise((resolve) => setTimeout(resolve, 5)); // let it take 'hel' (not asserted on)
      controller.abort(new Error('cancelled'));
      await expect(pending).rejects.toThrow('cancelled');
      await client.write('lo\npart');
      expect(Buffer.from(await server.readExact(5)).toString()).toBe('hello');
      const c2 = new AbortController();
      const line = server.readLine({ signal: c2.signal });
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(await line).toBe('');
      const next = server.readLine({ signal: c2.signal });
      c2.abort(new Error('cancelled'));
      await expect(next).rejects.toThrow('cancelled');
      await client.write('ial\r\n');
      expect(await server.readLine()).toBe('partial');
      await Promise.all([client.close(), server.close()]);
    });
  });

  it('a readExact or iterator waiting on an empty stream: an abort takes nothing, a chunk is split, the end is EOF', async () => {
    await rt.run(async () => {
      const [client, server] = await pair();
      const controller = new AbortController();
      const aborted = server.readExact(4, { signal: controller.signal });
      controller.abort(new Error('cancelled'));
      await expect(aborted).rejects.toThrow('cancelled');
      const waiting = server.readExact(4);
      await client.write('abcdef');
      expect(Buffer.from(await waiting).toString()).toBe('abcd');
      const iterator = server[Symbol.asyncIterator]();
      expect(Buffer.from((await iterator.next()).value as Uint8Array).toString()).toBe('ef');
      const next = iterator.next();
      await client.write('gh');
      expect(Buffer.from((await next).value as Uint8Array).toString()).toBe('gh');
      const short = server.readExact(3);
      await client.end();
      await expect(short).rejects.toMatchObject({ received: 0, expected: 3 });
      expect(await iterator.next()).toEqual({ done: true, value: undefined });
      await Promise.all([client.close(), server.close()]);
    });
  });

  it('writes made in one tick all arrive, in order, through an end() or a close() in the same tick', async () => {
    await rt.run(async () => {
      const [client, server] = await pair();
      const writes = ['a', 'bc', 'def'].map((text) => client.write(text));
      const ended = client.end();
      await Promise.all([...writes, ended]);
      const got: Buffer[] = [];
      for await (const chunk of server) got.push(Buffer.from(chunk));
      expect(Buffer.concat(got).toString()).toBe('abcdef');
      const [c2, s2] = await pair();
      void c2.write('gh');
      void c2.write('ij');
      await c2.close();
      expect(Buffer.from(await s2.readExact(4)).toString()).toBe('ghij');
      await Promise.all([server.close(), s2.close()]);
    });
  });

  it('many writes waiting for drain at once share one wait: all arrive in order, no listener pile-up', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(`${warning.name}: ${warning.message}`);
    };
    process.on('warning', onWarning);
    try {
      await rt.run(async () => {
        const [client, server] = await pair();
        // 12 MiB: more than loopback TCP's kernel buffers take before the peer reads.
        const chunk = 512 * 1024;
        const count = 24;
        const controller = new AbortController();
        const last = count - 1;
        const settled = new Set<number>();
        const writes = Array.from({ length: count }, (_, i) => {
          const write = client.write(new Uint8Array(chunk).fill(i), i === last ? { signal: controller.signal } : undefined);
          write.then(
            () => settled.add(i),
            () => settled.add(i),
          );
          return write;
        });
        await Promise.resolve();
        // The peer reads nothing yet, so the kernel's buffers fill and later writes wait.
        expect(count - settled.size).toBeGreaterThan(10);
        expect(settled.has(last)).toBe(false);
        // One writer gives up its wait: it alone rejects; its bytes stay queued.
        controller.abort(new Error('gave up'));
        await expect(writes[last]).rejects.toThrow('gave up');
        const ended = Promise.all(writes.slice(0, last)).then(() => client.end());
        const got = await server.readExact(chunk * count);
        for (let i = 0; i < count; i++) expect(got[i * chunk]).toBe(i);
        await ended;
        await new Promise((resolve) => setImmediate(resolve));
        await Promise.all([client.close(), server.close()]);
      });
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
  });

  it('a task that awaited close() or end() goes on as itself: its next wait stops at an abort', async () => {
    await rt.run(async () => {
      for (const step of ['close', 'end', 'end after end'] as const) {
        const [client, server] = await pair();
        let resumed = false;
        const task = rt.spawn(async () => {
          if (step === 'close') await client.close();
          else await client.end();
          if (step === 'end after end') await client.end(); // already ended: answers at once
          resumed = true;
          await sleep(60_000);
        });
        // The peer reads to the end, so the end and the close complete.
        for await (const chunk of server) void chunk;
        while (!resumed) await new Promise((resolve) => setImmediate(resolve));
        task.abort(new Error('stop'));
        let outcome: unknown = 'still pending';
        task.catch((err: unknown) => (outcome = err));
        for (let i = 0; i < 10 && outcome === 'still pending'; i++) await new Promise((resolve) => setImmediate(resolve));
        expect(outcome).toBeInstanceOf(TaskAbortedError);
        await Promise.all([client.close(), server.close()]);
      }
    });
  });

  it('readLine: the last unterminated line is returned, an over-long line closes the stream', async () => {
    await rt.run(async () => {
      const [client, server] = await pair();
      await client.write('ok\nlast');
      await client.end();
      expect(await server.readLine()).toBe('ok');
      expect(await server.readLine()).toBe('last');
      expect(await server.readLine()).toBeNull();
      const [c2, s2] = await pair();
      await c2.write('x'.repeat(20));
      await expect(s2.readLine({ maxBytes: 8 })).rejects.toBeInstanceOf(FrameTooLargeError);
      expect(s2.closed).toBe(true);
      await Promise.all([client.close(), server.close(), c2.close()]);
    });
  });
});
