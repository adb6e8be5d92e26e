// The HTTP/1.1 request parser: heads (good and bad), and body framing under any split of
// the bytes (model-based with fast-check: the decoded body is the body that was encoded).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BodyDecoder, findHeadEnd, parseHead, type HeadResult, type RequestHead } from '../../../src/io/http/parser.js';

function head(text: string): HeadResult {
  const buf = Buffer.from(text, 'latin1');
  const end = findHeadEnd(buf, 0);
  expect(end).toBeGreaterThan(0);
  return parseHead(buf, 0, end);
}

function ok(text: string): RequestHead {
  const result = head(text);
  if ('status' in result) throw new Error(`refused with ${result.status}: ${result.reason}`);
  return result.head;
}

describe('parseHead', () => {
  it('parses the request line and keeps header names and values as sent', () => {
    const text = 'GET /items?page=2 HTTP/1.1\r\nHost: example\r\nX-Trace:  abc \t\r\nset-cookie: a\r\nSet-Cookie: b\r\n\r\n';
    const result = head(text);
    expect(result).toMatchObject({ end: Buffer.byteLength(text) });
    expect(ok(text)).toEqual({
      method: 'GET',
      url: '/items?page=2',
      minor: 1,
      rawHeaders: ['Host', 'example', 'X-Trace', 'abc', 'set-cookie', 'a', 'Set-Cookie', 'b'],
      contentLength: -1,
      chunked: false,
      keepAlive: true,
      expectContinue: false,
    });
  });

  it('reads framing and connection headers case-insensitively', () => {
    expect(ok('POST / HTTP/1.1\r\nHOST: x\r\nContent-Length: 12\r\n\r\n')).toMatchObject({ contentLength: 12, chunked: false });
    expect(ok('POST / HTTP/1.1\r\nhost: x\r\nTransfer-Encoding: Chunked\r\n\r\n')).toMatchObject({ contentLength: -1, chunked: true });
    expect(ok('POST / HTTP/1.1\r\nhost: x\r\nexpect: 100-Continue\r\ncontent-length: 1\r\n\r\n').expectContinue).toBe(true);
  });

  it('keep-alive: HTTP/1.1 unless `connection: close`; HTTP/1.0 only with `connection: keep-alive`', () => {
    expect(ok('GET / HTTP/1.1\r\nhost: x\r\n\r\n').keepAlive).toBe(true);
    expect(ok('GET / HTTP/1.1\r\nhost: x\r\nConnection: Close\r\n\r\n').keepAlive).toBe(false);
    expect(ok('GET / HTTP/1.1\r\nhost: x\r\nconnection: upgrade, close\r\n\r\n').keepAlive).toBe(false);
    expect(ok('GET / HTTP/1.0\r\n\r\n')).toMatchObject({ minor: 0, keepAlive: false });
    expect(ok('GET / HTTP/1.0\r\nconnection: keep-alive\r\n\r\n').keepAlive).toBe(true);
  });

  // Each bad head, the status it gets, and why. Lines end in CRLF only, so a bare LF or CR
  // inside a line is a control character in a name or value.
  const bad: Array<[string, number, string]> = [
    ['THIS IS NOT HTTP\r\n\r\n', 400, 'not a request line'],
    ['GET /\r\nhost: x\r\n\r\n', 400, 'no version'],
    ['GET  / HTTP/1.1\r\nhost: x\r\n\r\n', 400, 'two spaces'],
    ['G(T / HTTP/1.1\r\nhost: x\r\n\r\n', 400, 'method not a token'],
    ['GET /a b HTTP/1.1\r\nhost: x\r\n\r\n', 400, 'space in target'],
    ['GET / HTTP/2.0\r\nhost: x\r\n\r\n', 505, 'another version'],
    ['GET / HTTPS/1.1\r\nhost: x\r\n\r\n', 400, 'not HTTP'],
    ['GET / HTTP/1.1\r\n\r\n', 400, 'HTTP/1.1 without host'],
    ['GET / HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n', 400, 'two hosts'],
    ['GET / HTTP/1.1\r\nhost : x\r\n\r\n', 400, 'space before colon'],
    ['GET / HTTP/1.1\r\nhost: x\r\n folded\r\n\r\n', 400, 'obs-fold'],
    ['GET / HTTP/1.1\r\nhost: x\r\nno-colon\r\n\r\n', 400, 'line without colon'],
    ['GET / HTTP/1.1\r\nhost: x\r\nx-a: 1\nx-b: 2\r\n\r\n', 400, 'bare LF inside the head'],
    ['GET / HTTP/1.1\r\nhost: x\r\nx-a: a\0b\r\n\r\n', 400, 'NUL in a value'],
    ['POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ncontent-length: 5\r\n\r\n', 400, 'duplicate content-length'],
    ['POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 5, 5\r\n\r\n', 400, 'list content-length'],
    ['POST / HTTP/1.1\r\nhost: x\r\ncontent-length: -1\r\n\r\n', 400, 'negative content-length'],
    ['POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 0x10\r\n\r\n', 400, 'hex content-length'],
    ['POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n', 400, 'both framings (smuggling)'],
    ['POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\ntransfer-encoding: chunked\r\n\r\n', 400, 'duplicate transfer-encoding'],
    ['POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: gzip\r\n\r\n', 400, 'chunked not final'],
    ['POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked, gzip\r\n\r\n', 400, 'chunked not final'],
    ['POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: gzip, chunked\r\n\r\n', 501, 'a coding we do not decode'],
    ['POST / HTTP/1.0\r\ntransfer-encoding: chunked\r\n\r\n', 400, 'chunked in HTTP/1.0'],
    ['POST / HTTP/1.1\r\nhost: x\r\nexpect: something\r\n\r\n', 417, 'unknown expectation'],
    ['CONNECT x:443 HTTP/1.1\r\nhost: x:443\r\n\r\n', 501, 'CONNECT (no tunnels)'],
    ['FOO / HTTP/1.1\r\nhost: x\r\n\r\n', 501, 'a method llhttp does not know'],
    ['get / HTTP/1.1\r\nhost: x\r\n\r\n', 501, 'methods are case-sensitive'],
    ['GET /caf\xe9 HTTP/1.1\r\nhost: x\r\n\r\n', 400, 'obs-text in the target'],
    ['GET x:443 HTTP/1.1\r\nhost: x\r\n\r\n', 400, 'authority-form outside CONNECT'],
    ['POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 5\t5\r\n\r\n', 400, 'a tab inside content-length'],
  ];
  it.each(bad)('%j → %i (%s)', (text, status) => {
    expect(head(text)).toMatchObject({ status });
  });

  it('methods: any lets an extension token through, never CONNECT', () => {
    const any = { headerBytes: Infinity, anyMethod: true };
    const parse = (text: string): HeadResult => parseHead(Buffer.from(text, 'latin1'), 0, text.length - 4, any);
    expect(parse('FOO / HTTP/1.1\r\nhost: x\r\n\r\n')).toMatchObject({ head: { method: 'FOO' } });
    expect(parse('CONNECT x:443 HTTP/1.1\r\nhost: x\r\n\r\n')).toMatchObject({ status: 501 });
  });

  it('an Upgrade request does not keep the connection alive', () => {
    expect(ok('GET / HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n').keepAlive).toBe(false);
  });

  it('headerBytes counts the target, names and values, as node:http does (not the method, version, `: ` or line ends)', () => {
    const text = 'GET /abc HTTP/1.1\r\nhost:   x  \r\nab: cd\r\n\r\n';
    const counted = '/abc'.length + 'hostx'.length + 'abcd'.length; // 13
    const parse = (headerBytes: number): HeadResult => parseHead(Buffer.from(text, 'latin1'), 0, text.length - 4, { headerBytes, anyMethod: false });
    expect(parse(counted)).toMatchObject({ head: { url: '/abc' } });
    expect(parse(counted - 1)).toMatchObject({ status: 431 });
  });
});

/** Encodes `body` as chunks of the given sizes (the rest in one last chunk), with optional extensions and trailers. */
function chunked(body: Buffer, sizes: number[], extensions: boolean, trailers: string[]): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (const size of [...sizes, body.length]) {
    const n = Math.min(size, body.length - at);
    if (n <= 0) continue;
    parts.push(Buffer.from(`${n.toString(16)}${extensions ? ';name="v"' : ''}\r\n`, 'latin1'), body.subarray(at, at + n), Buffer.from('\r\n'));
    at += n;
  }
  parts.push(Buffer.from(`0\r\n${trailers.map((t) => `${t}\r\n`).join('')}\r\n`, 'latin1'));
  return Buffer.concat(parts);
}

/**
 * Feeds `wire` to a decoder in the pieces cut at `cuts`, keeping the unconsumed bytes for
 * the next piece as the connection does; returns the decoded body and what was left after it.
 */
function decodeInPieces(decoder: BodyDecoder, wire: Buffer, cuts: number[]): { body: Buffer; rest: Buffer } {
  const out: Buffer[] = [];
  let held = Buffer.alloc(0);
  let prev = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < wire.length).sort((a, b) => a - b), wire.length]) {
    if (cut <= prev) continue;
    const buf = Buffer.concat([held, wire.subarray(prev, cut)]);
    prev = cut;
    if (decoder.done || decoder.error !== undefined) {
      held = buf;
      continue;
    }
    const pos = decoder.decode(buf, 0, (chunk) => out.push(Buffer.from(chunk)));
    held = buf.subarray(pos);
  }
  return { body: Buffer.concat(out), rest: held };
}

describe('BodyDecoder', () => {
  const AFTER = Buffer.from('GET /next HTTP/1.1\r\n');

  it('Content-Length: the declared bytes, split anywhere; what follows is left for the next request', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(400)), (bytes, cuts) => {
        const body = Buffer.from(bytes);
        const decoder = new BodyDecoder(body.length, 1024);
        const { body: got, rest } = decodeInPieces(decoder, Buffer.concat([body, AFTER]), cuts);
        expect(decoder.done).toBe(true);
        expect(got.equals(body)).toBe(true);
        expect(rest.equals(AFTER)).toBe(true);
      }),
    );
  });

  it('chunked: any chunk sizes, extensions and trailers, split anywhere, decode to the body', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 10 }),
        fc.boolean(),
        fc.array(fc.constantFrom('x-sum: 1', 'expires: 0', 'a:b'), { maxLength: 2 }),
        fc.array(fc.nat(700)),
        (bytes, sizes, extensions, trailers, cuts) => {
          const body = Buffer.from(bytes);
          const decoder = new BodyDecoder(-1, 1024);
          const { body: got, rest } = decodeInPieces(decoder, Buffer.concat([chunked(body, sizes, extensions, trailers), AFTER]), cuts);
          expect(decoder.error).toBeUndefined();
          expect(decoder.done).toBe(true);
          expect(got.equals(body)).toBe(true);
          expect(rest.equals(AFTER)).toBe(true);
        },
      ),
    );
  });

  it('chunk extensions: tokens, quoted-strings with quoted-pairs, several in a row', () => {
    for (const ext of [';a', ';a=b', ';a="b c"', ';a="b\\"c"', ';a=b;c;d="\\\\"']) {
      const decoder = new BodyDecoder(-1, 1024);
      const out: Buffer[] = [];
      decoder.decode(Buffer.from(`3${ext}\r\nabc\r\n0${ext}\r\n\r\n`, 'latin1'), 0, (c) => out.push(Buffer.from(c)));
      expect([decoder.error, decoder.done, Buffer.concat(out).toString()], ext).toEqual([undefined, true, 'abc']);
    }
  });

  const badChunked: Array<[string, string]> = [
    ['zz\r\nabc\r\n0\r\n\r\n', 'size not hex'],
    ['3\nabc\r\n0\r\n\r\n', 'bare LF after the size'],
    ['3\r\nabcX\r\n0\r\n\r\n', 'data longer than its size'],
    ['-3\r\nabc\r\n0\r\n\r\n', 'negative size'],
    ['1234567890abc\r\n', 'size over 12 hex digits'],
    ['0\r\nbad trailer\r\n\r\n', 'trailer without colon'],
    [`${'1'.repeat(5000)}`, 'size line over 4 KiB'],
    ['3;a="b\r\nabc\r\n0\r\n\r\n', 'chunk-ext quoted-string never closed'],
    ['3 ;a=b\r\nabc\r\n0\r\n\r\n', 'whitespace before the chunk-ext'],
    ['3; a=b\r\nabc\r\n0\r\n\r\n', 'whitespace after ;'],
    ['3;a=\r\nabc\r\n0\r\n\r\n', 'empty chunk-ext value'],
    ['3;a="\x01"\r\nabc\r\n0\r\n\r\n', 'a control character in a quoted-string'],
    ['0\r\ncontent-length: 3\r\n\r\n', 'content-length in the trailers'],
    ['0\r\nHost: evil\r\n\r\n', 'host in the trailers'],
  ];
  it.each(badChunked)('refuses %j (%s) with 400, consuming nothing after the error', (text) => {
    const decoder = new BodyDecoder(-1, 1024);
    decoder.decode(Buffer.from(text, 'latin1'), 0, () => undefined);
    expect(decoder.error).toMatchObject({ status: 400 });
    expect(decoder.done).toBe(false);
  });

  it('refuses trailers over the limit', () => {
    const decoder = new BodyDecoder(-1, 64);
    decoder.decode(Buffer.from(`0\r\nx-big: ${'a'.repeat(100)}\r\n\r\n`), 0, () => undefined);
    expect(decoder.error).toMatchObject({ status: 400, reason: 'trailers too large' });
  });
});
