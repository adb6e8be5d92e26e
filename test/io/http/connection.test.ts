// The HTTP/1.1 connection behind serve(), over the memory backend (deterministic, no real
// socket): refused input, pipelining, framing of responses, HTTP/1.0, 100-continue, a
// client that does not read, and a model-based property: any sequence of requests, cut
// into any pieces on the wire, gets its responses in order with the bodies it sent.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../../../src/runtime/runtime.js';
import { serve, type HttpRequest, type HttpResponseInit, type HttpServer } from '../../../src/io/http/index.js';
import { request } from '../../../src/testing/index.js';
import { connectTo, parseResponses, rawOver, settle, type StreamReader } from '../http-helpers.js';

type Rt = ReturnType<typeof createRuntime>;

const digest = (text: string): string => createHash('sha1').update(text, 'latin1').digest('hex').slice(0, 12);

/** What `/gate` requests wait for. */
let gate: Promise<void> = Promise.resolve();

/** Synchronous answers, promises and streams, by path. */
function handler(req: HttpRequest): HttpResponseInit | Promise<HttpResponseInit> {
  switch (req.path) {
    case '/gate':
      return gate.then(() => ({ body: `gated, signal ${req.signal.aborted ? 'aborted' : 'live'}` }));
    case '/echo':
      return req.bytes().then((body) => {
        const text = Buffer.from(body).toString('latin1');
        return { body: `${req.method} ${req.url} ${text.length} ${digest(text)}` };
      });
    case '/async':
      return Promise.resolve().then(() => ({ body: `async ${req.url}` }));
    case '/empty':
      return { status: 204 };
    case '/stream':
      return { body: (async function* () { yield 'ab'; yield new Uint8Array([99]); })() };
    case '/inject':
      return { headers: { 'x-a': 'v\r\nx-injected: 1' }, body: 'never sent' };
    case '/bad-name':
      return { headers: { 'x a': 'v' }, body: 'never sent' };
    case '/bad-status':
      return { status: 42, body: 'never sent' };
    default:
      return { body: `sync ${req.url}` };
  }
}

describe('HTTP/1.1 connection (memory backend)', () => {
  let rt: Rt;
  let server: HttpServer;
  beforeEach(async () => {
    rt = createRuntime({ io: 'memory' });
    server = await rt.run(() => serve(handler, { port: 0, limits: { headerBytes: 2048, bodyBytes: 4096 } }));
  });
  afterEach(async () => {
    await server.close();
    await rt.shutdown();
  });

  // Raw request, expected status. Each one closes its connection; a good request follows.
  const refused: Array<[string, string, number]> = [
    ['both framings (request smuggling)', 'POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['duplicate content-length', 'POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab', 400],
    ['a transfer coding not decoded', 'POST /echo HTTP/1.1\r\nhost: x\r\ntransfer-encoding: gzip, chunked\r\n\r\n', 501],
    ['HTTP/2.0 request line', 'GET / HTTP/2.0\r\nhost: x\r\n\r\n', 505],
    ['HTTP/1.1 without host', 'GET / HTTP/1.1\r\n\r\n', 400],
    ['unknown expectation', 'POST /echo HTTP/1.1\r\nhost: x\r\nexpect: magic\r\ncontent-length: 1\r\n\r\na', 417],
    ['head ended by bare LFs', 'GET / HTTP/1.1\nhost: x\n\n', 400],
    ['obs-fold', 'GET / HTTP/1.1\r\nhost: x\r\nx-a: 1\r\n  2\r\n\r\n', 400],
    ['malformed chunk size, read by the handler', 'POST /echo HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n', 400],
    ['chunked body over the limit, read by the handler', `POST /echo HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n1388\r\n${'y'.repeat(5000)}\r\n0\r\n\r\n`, 413],
    ['head over headerBytes', `GET / HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(3000)}\r\n\r\n`, 431],
  ];
  it.each(refused)('%s → its status, connection closed; a good request then succeeds', async (_what, wire, status) => {
    const bad = await rawOver(rt, server.port, wire);
    const responses = parseResponses(bad.response);
    expect(responses.map((r) => r.status)).toEqual([status]);
    expect(responses[0]!.headers.connection).toBe('close');
    expect(bad.closed).toBe(true);
    const good = await request(server, { method: 'POST', path: '/echo', body: 'fine' });
    expect([good.status, good.body]).toEqual([200, `POST /echo 4 ${digest('fine')}`]);
  });

  it('answers pipelined requests in order, synchronous and asynchronous handlers mixed', async () => {
    const n = 120;
    const paths = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? `/async?i=${i}` : i % 3 === 1 ? `/sync?i=${i}` : `/stream?i=${i}`));
    const conn = await connectTo(rt, server.port);
    await conn.stream.write(paths.map((p) => `GET ${p} HTTP/1.1\r\nhost: x\r\n\r\n`).join(''));
    await conn.until((t) => parseResponses(t).length === n, `${n} responses`);
    const bodies = parseResponses(conn.text).map((r) => r.body);
    expect(bodies).toEqual(paths.map((p) => (p.startsWith('/stream') ? 'abc' : `${p.startsWith('/async') ? 'async' : 'sync'} ${p}`)));
    await conn.stream.close();
  });

  it('frames responses: content-length for a whole body, chunked for a stream, none for 204 and for HEAD', async () => {
    const conn = await connectTo(rt, server.port);
    await conn.stream.write(
      'GET /a HTTP/1.1\r\nhost: x\r\n\r\n' + 'GET /stream HTTP/1.1\r\nhost: x\r\n\r\n' + 'GET /empty HTTP/1.1\r\nhost: x\r\n\r\n' + 'HEAD /a HTTP/1.1\r\nhost: x\r\n\r\n' + 'GET /b HTTP/1.1\r\nhost: x\r\n\r\n',
    );
    const heads = [false, false, false, true, false];
    await conn.until((t) => parseResponses(t, heads).length === 5, 'five responses');
    const [whole, stream, empty, head, after] = parseResponses(conn.text, heads);
    expect(whole).toMatchObject({ status: 200, body: 'sync /a', headers: { 'content-length': '7', 'content-type': 'text/plain; charset=utf-8' } });
    expect(stream).toMatchObject({ status: 200, body: 'abc', headers: { 'transfer-encoding': 'chunked' } });
    expect(stream!.headers['content-length']).toBeUndefined();
    expect(empty!.status).toBe(204);
    expect(empty!.headers['content-length']).toBeUndefined();
    expect(head).toMatchObject({ status: 200, body: '', headers: { 'content-length': '7' } });
    // Nothing was sent after HEAD's head but the next response.
    expect(after).toMatchObject({ status: 200, body: 'sync /b' });
    expect(conn.text.endsWith('\r\n\r\nsync /b')).toBe(true);
    await conn.stream.close();
  });

  it('HTTP/1.0: closed after the response unless keep-alive is asked for; a streamed body is delimited by the close', async () => {
    const plain = await rawOver(rt, server.port, 'GET /a HTTP/1.0\r\n\r\n');
    expect(parseResponses(plain.response)[0]).toMatchObject({ body: 'sync /a', headers: { connection: 'close' } });

    const kept = await connectTo(rt, server.port);
    await kept.stream.write('GET /a HTTP/1.0\r\nconnection: keep-alive\r\n\r\n');
    await kept.until((t) => parseResponses(t).length === 1, 'first response');
    expect(parseResponses(kept.text)[0]!.headers.connection).toBe('keep-alive');
    await kept.stream.write('GET /stream HTTP/1.0\r\nconnection: keep-alive\r\n\r\n');
    const text = await kept.toEnd(); // no chunked encoding in HTTP/1.0: the server ends the body by closing
    const second = text.slice(text.indexOf('HTTP/1.1', 10));
    expect(second).toMatch(/connection: close\r\n/);
    expect(second).not.toMatch(/transfer-encoding/i);
    expect(second.endsWith('\r\n\r\nabc')).toBe(true);
    await kept.stream.close();
  });

  it('a client that ends its side: the request in flight sees it go, and every request sent before the end is answered', async () => {
    let open!: () => void;
    gate = new Promise((resolve) => (open = resolve));
    const conn = await connectTo(rt, server.port);
    await conn.stream.write('GET /gate HTTP/1.1\r\nhost: x\r\n\r\n' + 'GET /a HTTP/1.1\r\nhost: x\r\n\r\n' + 'GET /async HTTP/1.1\r\nhost: x\r\n\r\n');
    await settle(() => server.requests === 1, 'the gated request is in flight');
    await conn.stream.end();
    await new Promise((r) => setImmediate(r));
    open();
    const text = await conn.toEnd();
    expect(parseResponses(text).map((r) => r.body)).toEqual(['gated, signal aborted', 'sync /a', 'async /async']);
    expect(conn.ended).toBe(true);
    await conn.stream.close();
  });

  it('answers `expect: 100-continue` before the body is sent', async () => {
    const conn = await connectTo(rt, server.port);
    await conn.stream.write('POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n');
    await conn.until((t) => t.includes('\r\n\r\n'), 'the interim response');
    expect(conn.text).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    await conn.stream.write('hello');
    await conn.until((t) => parseResponses(t).length === 2, 'the final response');
    expect(parseResponses(conn.text)[1]).toMatchObject({ status: 200, body: `POST /echo 5 ${digest('hello')}` });
    await conn.stream.close();
  });

  it('a response header holding CR LF is a 500, never a second header; so are a bad header name and a bad status', async () => {
    const res = await request(server, { path: '/inject' });
    expect(res.status).toBe(500);
    expect(res.headers['x-injected']).toBeUndefined();
    expect(res.headers['x-a']).toBeUndefined();
    expect((await request(server, { path: '/bad-name' })).status).toBe(500);
    expect((await request(server, { path: '/bad-status' })).status).toBe(500);
  });

  it('a client that sends requests without reading responses holds a bounded amount of memory, then gets every response', async () => {
    const n = 4000;
    const conn = await connectTo(rt, server.port);
    const wire = `GET /some/longer/path/to/make/responses/bigger HTTP/1.1\r\nhost: x\r\n\r\n`.repeat(n);
    const sent = conn.stream.write(wire); // not awaited: it waits for the server to read
    await settle(() => server.requests > 0, 'the server started answering');
    let before = -1;
    // Let everything that can move move: the count settles well under n.
    for (let i = 0; i < 50 && before !== server.requests; i++) {
      before = server.requests;
      for (let j = 0; j < 20; j++) await new Promise((r) => setImmediate(r));
    }
    const handledWhileNotReading = server.requests;
    expect(handledWhileNotReading).toBeLessThan(n / 4);
    await conn.until((t) => parseResponses(t).length === n, `all ${n} responses`);
    await sent;
    expect(server.requests).toBe(n);
    expect(new Set(parseResponses(conn.text).map((r) => r.body))).toEqual(new Set(['sync /some/longer/path/to/make/responses/bigger']));
    await conn.stream.close();
  });
});

/** A request of the model: what is sent, and the response it must get. */
interface ModelRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body: string;
  readonly framing: 'length' | 'chunked';
  readonly chunkSize: number;
}

function encode(r: ModelRequest): string {
  if (r.method === 'GET') return `GET ${r.path} HTTP/1.1\r\nhost: x\r\n\r\n`;
  if (r.framing === 'length') return `POST ${r.path} HTTP/1.1\r\nhost: x\r\ncontent-length: ${Buffer.byteLength(r.body, 'latin1')}\r\n\r\n${r.body}`;
  let out = `POST ${r.path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`;
  for (let i = 0; i < r.body.length; i += r.chunkSize) {
    const piece = r.body.slice(i, i + r.chunkSize);
    out += `${piece.length.toString(16)}\r\n${piece}\r\n`;
  }
  return `${out}0\r\n\r\n`;
}

function expected(r: ModelRequest): string {
  if (r.method === 'GET') return r.path.startsWith('/async') ? `async ${r.path}` : `sync ${r.path}`;
  return `POST ${r.path} ${r.body.length} ${digest(r.body)}`;
}

const modelRequest: fc.Arbitrary<ModelRequest> = fc.record({
  method: fc.constantFrom('GET' as const, 'POST' as const),
  path: fc.nat(99).chain((n) => fc.constantFrom(`/sync?n=${n}`, `/async?n=${n}`)),
  body: fc.string({ maxLength: 300, unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)) }),
  framing: fc.constantFrom('length' as const, 'chunked' as const),
  chunkSize: fc.integer({ min: 1, max: 100 }),
}).map((r) => (r.method === 'POST' ? { ...r, path: `/echo?${r.path.slice(1)}` } : r));

describe('HTTP/1.1 connection: model-based', () => {
  it('any sequence of requests, cut into any pieces on the wire, gets its responses in order', async () => {
    const rt = createRuntime({ io: 'memory' });
    const server = await rt.run(() => serve(handler, { port: 0 }));
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(modelRequest, { minLength: 1, maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 48 }), { minLength: 1, maxLength: 8 }), async (requests, pieces) => {
          const wire = Buffer.from(requests.map(encode).join(''), 'latin1');
          const conn: StreamReader = await connectTo(rt, server.port);
          // Pieces of the given sizes, in turn, until the wire is sent: heads, chunk-size lines
          // and CRLFs are cut at every kind of place.
          for (let at = 0, i = 0; at < wire.length; i++) {
            const end = Math.min(wire.length, at + pieces[i % pieces.length]!);
            await conn.stream.write(wire.subarray(at, end));
            at = end;
            await new Promise((r) => setImmediate(r));
          }
          await conn.until((t) => parseResponses(t).length === requests.length, `${requests.length} responses`);
          expect(parseResponses(conn.text).map((r) => r.body)).toEqual(requests.map(expected));
          await conn.stream.close();
        }),
        { numRuns: 40 },
      );
    } finally {
      await server.close();
      await rt.shutdown();
    }
  });
});
