// Differential test of the request parser: the same raw bytes, on real sockets, to
// `serve()` and to a bare node:http server (llhttp, default options). Zokio must never be
// looser than node: never see more requests, never a different request line or body, and
// never answer 2xx where node refuses. A request smuggled past a proxy that frames like
// llhttp needs exactly such a disagreement.
//
// Each hand-written case also states what zokio answers. The cases where zokio is
// stricter than node (it refuses, or stops, where node serves) are listed, each with its
// reason, in test/fixtures/http-differential-stricter.json; the last test checks that the
// list is exact. Generated inputs (fast-check) only have to be never looser.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../../../src/runtime/runtime.js';
import { serve, type HttpRequest, type HttpResponseInit, type ServeOptions } from '../../../src/io/http/index.js';

/** What one server made of one input. */
interface Outcome {
  /** `METHOD target` of each request whose head reached the handler, in order. */
  readonly heads: string[];
  /** `METHOD target <body>` of each request whose body arrived whole, in order. */
  readonly whole: string[];
  /** The status of every response head on the wire (node's refusals carry no framing, so heads are counted, not whole responses). */
  readonly statuses: number[];
  /** True when the server closed the connection. */
  readonly closed: boolean;
}

interface Pair {
  readonly zokio: Outcome;
  readonly node: Outcome;
}

/** A quiet period after which an exchange is taken as finished (the servers answer at once). */
const QUIET_MS = 200;

let rt: ReturnType<typeof createRuntime>;
beforeAll(async () => {
  rt = createRuntime({ io: 'node' });
  // Warm-up: the first request of a process loads and compiles code the quiet period must not wait for.
  await both(Buffer.from(`POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\nhi`, 'latin1'));
});
afterAll(async () => {
  await rt.shutdown();
});

/**
 * Sends `wire` on a new connection; collects the reply until the server closes or goes
 * quiet. Quiet means: nothing arrived for {@link QUIET_MS}, and then nothing during a few
 * more event-loop turns. Both servers run in this process, so after a stall of the whole
 * process the timer can fire before the poll phase has read what is waiting; the extra
 * turns let every ready socket be read (and answered) first.
 */
function exchange(port: number, wire: Buffer): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    let activity = 0;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
    };
    const settleTurns = (seen: number, turns: number): void => {
      if (done || activity !== seen) return; // something arrived: the quiet timer runs again
      if (turns === 0) finish(false);
      else setImmediate(settleTurns, seen, turns - 1);
    };
    const quiet = (): void => {
      activity++;
      clearTimeout(timer);
      const seen = activity;
      timer = setTimeout(() => settleTurns(seen, 5), QUIET_MS);
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      quiet();
    });
    socket.on('error', () => undefined); // a reset is a close
    socket.on('close', () => finish(true));
    socket.on('connect', () => {
      socket.write(wire);
      quiet();
    });
  });
}

function outcome(heads: string[], whole: string[], reply: { text: string; closed: boolean }): Outcome {
  const statuses = [...reply.text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
  return { heads, whole, statuses, closed: reply.closed };
}

async function throughZokio(wire: Buffer, options: ServeOptions = {}): Promise<Outcome> {
  const heads: string[] = [];
  const whole: string[] = [];
  const handler = async (req: HttpRequest): Promise<HttpResponseInit> => {
    heads.push(`${req.method} ${req.url}`);
    const body = Buffer.from(await req.bytes()).toString('latin1');
    whole.push(`${req.method} ${req.url} <${body}>`);
    return { body: 'ok' };
  };
  const server = await rt.run(() => serve(handler, { ...options, port: 0 }));
  try {
    return outcome(heads, whole, await exchange(server.port, wire));
  } finally {
    await server.close();
  }
}

async function throughNode(wire: Buffer): Promise<Outcome> {
  const heads: string[] = [];
  const whole: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    heads.push(`${req.method} ${req.url}`);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    req.on('end', () => {
      whole.push(`${req.method} ${req.url} <${Buffer.concat(chunks).toString('latin1')}>`);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return outcome(heads, whole, await exchange((server.address() as { port: number }).port, wire));
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

async function both(wire: Buffer, options?: ServeOptions): Promise<Pair> {
  const [zokio, node] = await Promise.all([throughZokio(wire, options), throughNode(wire)]);
  return { zokio, node };
}

const ok2xx = (statuses: number[]): number => statuses.filter((s) => s >= 200 && s < 300).length;

/** The property of the whole file: zokio is never looser than node on this input. */
function expectNeverLooser({ zokio, node }: Pair, what: string): void {
  const context = `${what}\nzokio: ${JSON.stringify(zokio)}\nnode:  ${JSON.stringify(node)}`;
  expect(zokio.heads.length, `more requests than node: ${context}`).toBeLessThanOrEqual(node.heads.length);
  expect(zokio.heads, `another request line than node: ${context}`).toEqual(node.heads.slice(0, zokio.heads.length));
  expect(zokio.whole, `another body than node: ${context}`).toEqual(node.whole.slice(0, zokio.whole.length));
  // Node may have served a request and then lost its response to the reset that follows
  // a bad pipelined one: a request it read whole counts as served.
  expect(ok2xx(zokio.statuses), `2xx where node refuses: ${context}`).toBeLessThanOrEqual(Math.max(ok2xx(node.statuses), node.whole.length));
}

/** Zokio refused or stopped where node served. */
function stricter({ zokio, node }: Pair): boolean {
  return zokio.heads.length < node.heads.length || zokio.whole.length < node.whole.length || ok2xx(zokio.statuses) < ok2xx(node.statuses);
}

// ---------------------------------------------------------------------------------------
// The hand-written corpus, by class.
// ---------------------------------------------------------------------------------------

/** One input, and what zokio answers: its response statuses, and whether it closes the connection. */
interface Case {
  readonly name: string;
  readonly wire: string;
  readonly zokio: readonly number[];
  readonly closes: boolean;
  readonly options?: ServeOptions;
  /** Looser than node on purpose, by an option (`methods: 'any'`): only zokio's answer is checked. */
  readonly optIn?: boolean;
}

const H = 'host: x\r\n';
const NEXT = `GET /smuggled HTTP/1.1\r\n${H}\r\n`;
const post = (headers: string, body: string): string => `POST /p HTTP/1.1\r\n${H}${headers}\r\n${body}`;
const chunked = (body: string): string => post('transfer-encoding: chunked\r\n', body);
const refused = (name: string, wire: string, status = 400): Case => ({ name, wire, zokio: [status], closes: true });
const served = (name: string, wire: string, statuses: number[] = [200, 200], options?: ServeOptions): Case => ({ name, wire, zokio: statuses, closes: false, ...(options ? { options } : {}) });

const classes: Record<string, Case[]> = {
  'chunk extensions (RFC 9112 §7.1.1): token or quoted-string with quoted-pairs, no whitespace': [
    served('chunk-ext token', chunked(`5;a=b\r\nhello\r\n0\r\n\r\n${NEXT}`)),
    served('chunk-ext name only, two of them', chunked(`5;a;b=c\r\nhello\r\n0;z\r\n\r\n${NEXT}`)),
    served('chunk-ext quoted-string with a quoted-pair', chunked(`5;a="b\\"c"\r\nhello\r\n0\r\n\r\n${NEXT}`)),
    refused('chunk-ext quoted-string never closed', chunked(`5;a="b\r\nhello\r\n0\r\n\r\n${NEXT}`)),
    refused('chunk-ext quoted-pair escaping the closing quote', chunked(`5;a="b\\"\r\nhello\r\n0\r\n\r\n${NEXT}`)),
    refused('chunk-ext whitespace before ;', chunked(`5 ;a=b\r\nhello\r\n0\r\n\r\n${NEXT}`)),
    refused('chunk-ext tab before ;', chunked(`5\t;a=b\r\nhello\r\n0\r\n\r\n${NEXT}`)),
    refused('chunk-ext whitespace after ;', chunked(`5; a=b\r\nhello\r\n0\r\n\r\n${NEXT}`)),
    refused('chunk-ext whitespace around =', chunked(`5;a = b\r\nhello\r\n0\r\n\r\n${NEXT}`)),
    refused('chunk-ext empty name', chunked(`5;=b\r\nhello\r\n0\r\n\r\n${NEXT}`)),
    refused('chunk-ext empty value', chunked(`5;a=\r\nhello\r\n0\r\n\r\n${NEXT}`)),
    refused('chunk-ext bare LF inside a quoted-string', chunked(`5;a="b\nc"\r\nhello\r\n0\r\n\r\n${NEXT}`)),
    refused('chunk size followed by a space', chunked(`5 \r\nhello\r\n0\r\n\r\n${NEXT}`)),
  ],
  'trailer fields that frame, route or authenticate (RFC 9110 §6.5.1): 400 and close': [
    served('an ordinary trailer field', chunked(`5\r\nhello\r\n0\r\nx-checksum: 1\r\n\r\n${NEXT}`)),
    refused('content-length in the trailers', chunked(`5\r\nhello\r\n0\r\ncontent-length: 5\r\n\r\n${NEXT}`)),
    refused('transfer-encoding in the trailers', chunked(`5\r\nhello\r\n0\r\ntransfer-encoding: chunked\r\n\r\n${NEXT}`)),
    refused('host in the trailers', chunked(`5\r\nhello\r\n0\r\nHost: evil\r\n\r\n${NEXT}`)),
    refused('authorization in the trailers', chunked(`5\r\nhello\r\n0\r\nauthorization: Basic eA==\r\n\r\n${NEXT}`)),
    refused('connection in the trailers', chunked(`5\r\nhello\r\n0\r\nconnection: close\r\n\r\n${NEXT}`)),
    refused('obs-fold in the trailers', chunked(`5\r\nhello\r\n0\r\nx-a: 1\r\n 2\r\n\r\n${NEXT}`)),
  ],
  'Content-Length with whitespace or other forms llhttp refuses': [
    served('content-length with trailing whitespace (OWS)', post('content-length: 5 \t\r\n', `hello${NEXT}`)),
    refused('content-length with a tab inside', post('content-length: 5\t5\r\n', `hello${NEXT}`)),
    refused('content-length with a space inside', post('content-length: 1 5\r\n', `hello${NEXT}`)),
    refused('content-length with a vertical tab after the digits', post('content-length: 5\x0b\r\n', `hello${NEXT}`)),
    refused('content-length with a plus sign', post('content-length: +5\r\n', `hello${NEXT}`)),
    refused('content-length as a list', post('content-length: 5, 5\r\n', `hello${NEXT}`)),
    refused('content-length empty', post('content-length: \r\n', `hello${NEXT}`)),
    refused('content-length twice with the same value', post('content-length: 5\r\ncontent-length: 5\r\n', `hello${NEXT}`)),
    refused('content-length twice with different values', post('content-length: 5\r\ncontent-length: 0\r\n', `hello${NEXT}`)),
  ],
  'CONNECT: 501 and close (a proxy would tunnel what follows a 2xx)': [
    refused('CONNECT with a request behind it', `CONNECT x:443 HTTP/1.1\r\nhost: x:443\r\n\r\n${NEXT}`, 501),
    refused('CONNECT even when any method is allowed', `CONNECT x:443 HTTP/1.1\r\nhost: x:443\r\n\r\n${NEXT}`, 501),
  ],
  'Upgrade: the connection closes after the response': [
    { name: 'upgrade: websocket with connection: upgrade', wire: `GET /ws HTTP/1.1\r\n${H}connection: upgrade\r\nupgrade: websocket\r\n\r\n${NEXT}`, zokio: [200], closes: true },
    { name: 'upgrade: h2c with connection: upgrade, HTTP2-Settings', wire: `GET / HTTP/1.1\r\n${H}connection: Upgrade, HTTP2-Settings\r\nupgrade: h2c\r\nhttp2-settings: AAMAAABkAAQAAP__\r\n\r\n${NEXT}`, zokio: [200], closes: true },
    { name: 'upgrade header without connection: upgrade', wire: `GET / HTTP/1.1\r\n${H}upgrade: websocket\r\n\r\n${NEXT}`, zokio: [200], closes: true },
    { name: 'upgrade request with a body, then raw bytes', wire: `${post('connection: upgrade\r\nupgrade: x\r\ncontent-length: 5\r\n', 'hello')}\x00\x01garbage`, zokio: [200], closes: true },
  ],
  'methods: those llhttp knows pass, others 501; methods: any allows extension tokens': [
    served('GET, then PROPFIND', `GET / HTTP/1.1\r\n${H}\r\nPROPFIND / HTTP/1.1\r\n${H}\r\n`),
    served('QUERY and M-SEARCH', `QUERY / HTTP/1.1\r\n${H}\r\nM-SEARCH * HTTP/1.1\r\n${H}\r\n`),
    refused('lower-case get', `get / HTTP/1.1\r\n${H}\r\n${NEXT}`, 501),
    refused('an unknown method FOO', `FOO / HTTP/1.1\r\n${H}\r\n${NEXT}`, 501),
    refused('an RTSP method', `DESCRIBE / HTTP/1.1\r\n${H}\r\n${NEXT}`, 501),
    refused('PRI (the HTTP/2 preface) in an HTTP/1.1 request line', `PRI * HTTP/1.1\r\n${H}\r\n${NEXT}`, 501),
    refused('a method that is not a token', `G(T / HTTP/1.1\r\n${H}\r\n${NEXT}`),
    { ...served('an extension method with methods: any', `FOO / HTTP/1.1\r\n${H}\r\n${NEXT}`, [200, 200], { methods: 'any' }), optIn: true },
  ],
  'request targets outside visible ASCII: 400': [
    refused('obs-text in the target', `GET /caf\xe9 HTTP/1.1\r\n${H}\r\n${NEXT}`),
    refused('DEL in the target', `GET /a\x7f HTTP/1.1\r\n${H}\r\n${NEXT}`),
    refused('NUL in the target', `GET /a\x00 HTTP/1.1\r\n${H}\r\n${NEXT}`),
    refused('a tab in the target', `GET /a\tb HTTP/1.1\r\n${H}\r\n${NEXT}`),
    served('absolute-form and asterisk-form targets', `GET http://x/a?b HTTP/1.1\r\n${H}\r\nOPTIONS * HTTP/1.1\r\n${H}\r\n`),
    refused('authority-form outside CONNECT', `GET x:443 HTTP/1.1\r\n${H}\r\n${NEXT}`),
    refused('a scheme with a digit', `GET h2c://x/ HTTP/1.1\r\n${H}\r\n${NEXT}`),
    refused('a quote in the authority', `GET http://x"y/ HTTP/1.1\r\n${H}\r\n${NEXT}`),
    refused('a relative target', `GET a/b HTTP/1.1\r\n${H}\r\n${NEXT}`),
  ],
  'CL.TE and TE.CL: both framings in one request': [
    refused('CL.TE', `POST / HTTP/1.1\r\n${H}content-length: 6\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\nG${NEXT}`),
    refused('TE.CL', `POST / HTTP/1.1\r\n${H}transfer-encoding: chunked\r\ncontent-length: 4\r\n\r\n5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n`),
    refused('TE with a space before the colon', `POST / HTTP/1.1\r\n${H}transfer-encoding : chunked\r\ncontent-length: 5\r\n\r\nhello${NEXT}`),
    refused('TE behind obs-fold', `POST / HTTP/1.1\r\n${H}x-a: 1\r\n transfer-encoding: chunked\r\ncontent-length: 5\r\n\r\nhello${NEXT}`),
  ],
  'duplicated or conflicting framing headers': [
    { name: 'transfer-encoding twice', wire: `POST / HTTP/1.1\r\n${H}transfer-encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n${NEXT}`, zokio: [400], closes: true },
    refused('transfer-encoding chunked, chunked', `POST / HTTP/1.1\r\n${H}transfer-encoding: chunked, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n${NEXT}`, 501),
    refused('transfer-encoding identity', `POST / HTTP/1.1\r\n${H}transfer-encoding: identity\r\n\r\n${NEXT}`),
    refused('transfer-encoding chunked then gzip', `POST / HTTP/1.1\r\n${H}transfer-encoding: chunked, gzip\r\n\r\n${NEXT}`),
    served('transfer-encoding with odd case and surrounding whitespace', `POST / HTTP/1.1\r\n${H}transfer-encoding:\t Chunked \r\n\r\n5\r\nhello\r\n0\r\n\r\n${NEXT}`),
    { name: 'transfer-encoding in HTTP/1.0', wire: `POST / HTTP/1.0\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n${NEXT}`, zokio: [400], closes: true },
    { name: 'two host headers', wire: `GET / HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n${NEXT}`, zokio: [400], closes: true },
    refused('no host header in HTTP/1.1', `GET / HTTP/1.1\r\n\r\n${NEXT}`),
  ],
  'obs-fold, bare CR, bare LF and NUL in the head': [
    refused('obs-fold', `GET / HTTP/1.1\r\n${H}x-a: 1\r\n\t2\r\n\r\n${NEXT}`),
    refused('obs-fold on the first header line', `GET / HTTP/1.1\r\n host: x\r\n\r\n${NEXT}`),
    refused('bare CR in a value', `GET / HTTP/1.1\r\n${H}x-a: a\rb\r\n\r\n${NEXT}`),
    refused('bare CR ending a line', `GET / HTTP/1.1\r${H}\r\n${NEXT}`),
    refused('bare LF ending a header line', `GET / HTTP/1.1\r\nhost: x\nx-a: b\r\n\r\n${NEXT}`),
    refused('bare LF ending the request line', `GET / HTTP/1.1\n${H}\r\n${NEXT}`),
    refused('a head ended by bare LFs', `GET / HTTP/1.1\nhost: x\n\n${NEXT}`),
    refused('NUL in a value', `GET / HTTP/1.1\r\n${H}x-a: a\x00b\r\n\r\n${NEXT}`),
    refused('NUL in a name', `GET / HTTP/1.1\r\n${H}x\x00a: b\r\n\r\n${NEXT}`),
    refused('whitespace before a colon', `GET / HTTP/1.1\r\n${H}x-a : b\r\n\r\n${NEXT}`),
    refused('bare CRLF line ending in CR CR LF', `GET / HTTP/1.1\r\n${H}x-a: b\r\r\n\r\n${NEXT}`),
  ],
  'chunk-size overflow and malformed chunk data': [
    refused('chunk size over 64 bits', chunked(`10000000000000005\r\nhello\r\n0\r\n\r\n${NEXT}`)),
    refused('chunk size in 0x form', chunked(`0x5\r\nhello\r\n0\r\n\r\n${NEXT}`)),
    refused('negative chunk size', chunked(`-5\r\nhello\r\n0\r\n\r\n${NEXT}`)),
    refused('chunk data longer than its size', chunked(`3\r\nhello\r\n0\r\n\r\n${NEXT}`)),
    refused('chunk data without its CRLF', chunked(`5\r\nhelloXX0\r\n\r\n${NEXT}`)),
    refused('chunk-size line ended by bare LF', chunked(`5\nhello\r\n0\r\n\r\n${NEXT}`)),
    refused('empty chunk size', chunked(`\r\nhello\r\n0\r\n\r\n${NEXT}`)),
    served('chunk sizes with leading zeros and upper-case hex', chunked(`000A\r\n0123456789\r\n0000\r\n\r\n${NEXT}`)),
  ],
  'missing final CRLF, and pipelined requests after an ambiguous one': [
    { name: 'chunked body without the final CRLF', wire: chunked('5\r\nhello\r\n0\r\n'), zokio: [], closes: false },
    { name: 'chunked body without the last chunk', wire: chunked('5\r\nhello\r\n'), zokio: [], closes: false },
    { name: 'body shorter than content-length', wire: post('content-length: 10\r\n', 'hello'), zokio: [], closes: false },
    served('three pipelined requests', `GET /1 HTTP/1.1\r\n${H}\r\n${post('content-length: 5\r\n', 'hello')}GET /3 HTTP/1.1\r\n${H}\r\n`, [200, 200, 200]),
    { name: 'a good request, an ambiguous one, a smuggled one', wire: `GET /1 HTTP/1.1\r\n${H}\r\nPOST / HTTP/1.1\r\n${H}content-length: 5\r\ncontent-length: 6\r\n\r\nhello!${NEXT}`, zokio: [200, 400], closes: true },
    { name: 'leading empty lines before a request', wire: `\r\n\r\nGET / HTTP/1.1\r\n${H}\r\n${NEXT}`, zokio: [200, 200], closes: false },
    refused('HTTP/1.2', `GET / HTTP/1.2\r\n${H}\r\n${NEXT}`, 505),
    refused('lower-case version', `GET / http/1.1\r\n${H}\r\n${NEXT}`),
  ],
};
// One of the CONNECT cases runs with `methods: 'any'`.
classes['CONNECT: 501 and close (a proxy would tunnel what follows a 2xx)']![1] = {
  ...classes['CONNECT: 501 and close (a proxy would tunnel what follows a 2xx)']![1]!,
  options: { methods: 'any' },
};

const FIXTURE = new URL('../../fixtures/http-differential-stricter.json', import.meta.url);
const stricterCases: Record<string, string> = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, string>;

/** The outcome of every hand-written case run so far, by name. */
const results = new Map<string, Pair>();

describe('differential: zokio frames requests never more loosely than node:http (llhttp)', () => {
  for (const [title, cases] of Object.entries(classes)) {
    it(title, async () => {
      const pairs = await Promise.all(cases.map((c) => both(Buffer.from(c.wire, 'latin1'), c.options)));
      cases.forEach((c, i) => {
        const pair = pairs[i]!;
        results.set(c.name, pair);
        if (c.optIn !== true) expectNeverLooser(pair, c.name);
        expect({ statuses: pair.zokio.statuses, closed: pair.zokio.closed }, c.name).toEqual({ statuses: c.zokio, closed: c.closes });
      });
    });
  }

  it('a 16.6 KB head of 100 cookie lines is served, as node serves it at its defaults', async () => {
    const cookies = Array.from({ length: 100 }, (_, i) => `Cookie: c${String(i).padStart(3, '0')}=${'v'.repeat(150)}\r\n`).join('');
    const wire = `GET / HTTP/1.1\r\n${H}${cookies}\r\n`;
    expect(wire.length).toBeGreaterThan(16_500);
    const pair = await both(Buffer.from(wire, 'latin1'));
    expect(pair.node.statuses).toEqual([200]);
    expect(pair.zokio.statuses).toEqual([200]);
    // Just over node's limit on what it counts: both refuse.
    const over = `GET / HTTP/1.1\r\n${H}x-big: ${'a'.repeat(16_384)}\r\n\r\n`;
    const refusedPair = await both(Buffer.from(over, 'latin1'));
    expect(refusedPair.node.statuses).toEqual([431]);
    expect(refusedPair.zokio.statuses).toEqual([431]);
  });

  it('the fixture lists exactly the hand-written cases where zokio is stricter than node, each with a reason', () => {
    const all = Object.values(classes).flat();
    expect(results.size, 'every class ran').toBe(all.length);
    const found = all.filter((c) => c.optIn !== true && stricter(results.get(c.name)!)).map((c) => c.name).sort();
    expect(found).toEqual(Object.keys(stricterCases).sort());
    for (const reason of Object.values(stricterCases)) expect(reason.length).toBeGreaterThan(20);
  });
});

// ---------------------------------------------------------------------------------------
// Generated inputs.
// ---------------------------------------------------------------------------------------

const lineEnd = fc.oneof({ weight: 12, arbitrary: fc.constant('\r\n') }, fc.constantFrom('\n', '\r', '\r\r\n', ' \r\n'));
const requestLine = fc.tuple(
  fc.oneof({ weight: 4, arbitrary: fc.constantFrom('GET', 'POST', 'PUT') }, fc.constantFrom('get', 'FOO', 'CONNECT', 'PRI', 'M-SEARCH', 'G T')),
  fc.oneof({ weight: 4, arbitrary: fc.constantFrom('/', '/a?b=c') }, fc.constantFrom('*', 'http://x/y', '/caf\xe9', '/a\x00', '/a b', 'x:443', '')),
  fc.oneof({ weight: 4, arbitrary: fc.constant('HTTP/1.1') }, fc.constantFrom('HTTP/1.0', 'HTTP/1.2', 'http/1.1', 'HTTP/1.1 ')),
).map(([m, t, v]) => `${m} ${t} ${v}`);
const header = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('host: x', 'content-length: 5', 'transfer-encoding: chunked', 'x-a: b', 'connection: close') },
  fc.constantFrom(
    'Host: y', 'content-length: 0', 'content-length: 5 ', 'content-length: 5\t5', 'content-length: +5', 'content-length: 05',
    'content-length: 5, 5', 'content-length: 99999999999999999999', 'Transfer-Encoding: Chunked', 'transfer-encoding: chunked ',
    'transfer-encoding: gzip, chunked', 'transfer-encoding: chunked, gzip', 'transfer-encoding: identity', 'transfer-encoding:\tchunked',
    'transfer-encoding : chunked', ' transfer-encoding: chunked', 'transfer-encoding: \x0bchunked', 'connection: upgrade',
    'upgrade: websocket', 'expect: 100-continue', 'x-a: b\rc', 'x-a: \x00', 'x-a: caf\xe9', 'x a: b', 'x-a:b', ':b', 'x-a',
    'transfer-encoding: chunked;q=1', 'transfer-encoding: "chunked"', 'content-length: 5\x00', 'trailer: content-length', 'te: trailers',
    'host: x\x7f', 'connection: keep-alive, close', 'content-length:5',
  ),
);
const body = fc.oneof(
  fc.constant(''),
  fc.constantFrom('hello', '5\r\nhello\r\n0\r\n\r\n', '5;a=b\r\nhello\r\n0\r\n\r\n', '5;a="b\\"c"\r\nhello\r\n0\r\n\r\n', '0\r\n\r\n'),
  fc.constantFrom(
    '5 \r\nhello\r\n0\r\n\r\n', '5;a="b\r\nhello\r\n0\r\n\r\n', '5 ;a\r\nhello\r\n0\r\n\r\n', '0\r\ncontent-length: 3\r\n\r\n',
    '0\r\nx-t: 1\r\n\r\n', 'ffffffffffffffffff1\r\nx\r\n', '0\r\n', '5\r\nhelloXX', '5\nhello\n0\n\n', '0\r\n\r\n\r\n',
  ),
);
const input = fc
  .record({
    line: requestLine,
    headers: fc.array(fc.tuple(header, lineEnd), { maxLength: 5 }),
    end: lineEnd,
    body,
    lead: fc.constantFrom('', '', '', '\r\n', '\n', ' '),
    next: fc.boolean(),
    flip: fc.option(fc.tuple(fc.nat(), fc.constantFrom(0x00, 0x09, 0x0a, 0x0d, 0x20, 0x22, 0x3b, 0x7f, 0xe9)), { freq: 3 }),
  })
  .map(({ lead, line, headers, end, body: b, next, flip }) => {
    const wire = Buffer.from(`${lead}${line}\r\n${headers.map(([h, e]) => h + e).join('')}${end}${b}${next ? NEXT : ''}`, 'latin1');
    if (flip !== null) wire[flip[0] % wire.length] = flip[1];
    return wire;
  });

describe('differential: generated inputs', () => {
  it('zokio is never looser than node on generated heads, framings and bodies', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(input, { minLength: 6, maxLength: 6 }), async (wires) => {
        const pairs = await Promise.all(wires.map((wire) => both(wire)));
        pairs.forEach((pair, i) => expectNeverLooser(pair, JSON.stringify(wires[i]!.toString('latin1'))));
      }),
      { numRuns: 30 },
    );
  });
});
