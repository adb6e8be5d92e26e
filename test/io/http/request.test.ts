// The request a serve() handler receives: reading its body with a signal. On the memory
// backend (no port, no timers): the client sends the body in two parts, so the handler's
// read is pending in between.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../../../src/runtime/runtime.js';
import { serve, type HttpRequest, type HttpServer } from '../../../src/io/http/index.js';
import { connectTo, settle, type StreamReader } from '../http-helpers.js';

type Rt = ReturnType<typeof createRuntime>;

const HEAD = 'POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n';

describe('HttpRequest body reads with a signal', () => {
  let rt: Rt;
  let server: HttpServer | undefined;
  let conn: StreamReader | undefined;
  beforeEach(() => {
    rt = createRuntime({ io: 'memory' });
  });
  afterEach(async () => {
    await conn?.stream.close();
    await server?.close();
    server = conn = undefined;
    await rt.shutdown();
  });

  /** A server whose handler runs `body(req)` and answers with what it returns. */
  async function start(body: (req: HttpRequest) => Promise<string>): Promise<StreamReader> {
    server = await rt.run(() => serve(async (req) => ({ body: await body(req) }), { host: '127.0.0.1', port: 0 }));
    conn = await connectTo(rt, server.port);
    return conn;
  }

  it('an abort rejects the pending read with the reason; the body still arrives for the next read', async () => {
    const controller = new AbortController();
    const reason = new Error('gave up');
    const outcome: unknown[] = [];
    const c = await start(async (req) => {
      const first = req.bytes({ signal: controller.signal }).then(
        () => 'resolved',
        (err: unknown) => err,
      );
      outcome.push(await first);
      return `${await req.text()}|${JSON.stringify(await req.json({ signal: new AbortController().signal }))}`;
    });
    await c.stream.write(HEAD + '{"a":');
    await settle(() => server!.requests === 1, 'the handler runs');
    controller.abort(reason);
    await settle(() => outcome.length === 1, 'the read rejects');
    expect(outcome[0]).toBe(reason);
    await c.stream.write('1234}');
    const text = await c.until((t) => t.includes('{"a":1234}|{"a":1234}'), 'the whole body, read again');
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('a signal aborted before the call rejects at once with its reason, text() and json() too', async () => {
    const reason = new Error('too late');
    const c = await start(async (req) => {
      const seen: unknown[] = [];
      for (const read of [() => req.bytes({ signal: AbortSignal.abort(reason) }), () => req.text({ signal: AbortSignal.abort(reason) }), () => req.json({ signal: AbortSignal.abort(reason) })]) {
        seen.push(await read().catch((err: unknown) => err));
      }
      return seen.every((err) => err === reason) ? `all rejected, then ${await req.text()}` : 'a read did not reject';
    });
    await c.stream.write(HEAD + '0123456789');
    expect(await c.until((t) => t.includes('all rejected, then 0123456789'), 'the answer')).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('json() with a signal still answers 400 for a body that is not JSON', async () => {
    const c = await start(async (req) => JSON.stringify(await req.json({ signal: new AbortController().signal })));
    await c.stream.write(HEAD + 'not json!!');
    expect(await c.until((t) => t.includes('\r\n\r\n') && t.includes('JSON'), 'the 400')).toMatch(/^HTTP\/1\.1 400 /);
  });
});
