// Helpers for the HTTP tests: raw sockets for malformed input, node:http for good requests.
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { TcpStream } from '../../src/io/net/index.js';
import { serve, type HttpServer } from '../../src/io/http/index.js';
import type { RuntimeBase } from '../../src/index.js';

export interface RawResult {
  /** Everything the server sent before it closed the connection. */
  readonly response: string;
  /** True when the server closed the connection. */
  readonly closed: boolean;
}

/** Sends raw bytes and collects the reply until the server closes the socket. */
export function raw(port: number, data: string | Buffer, options?: { keepOpenAfterWrite?: boolean }): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return; // closed by the server
      reject(err);
    });
    socket.on('close', () => resolve({ response: Buffer.concat(chunks).toString('latin1'), closed: true }));
    socket.on('connect', () => {
      socket.write(data);
      if (!options?.keepOpenAfterWrite) socket.end();
    });
  });
}

export interface SimpleResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One request on a fresh connection (no agent, no pooling). */
export function request(port: number, path: string, init?: { method?: string; body?: string | Buffer; headers?: Record<string, string> }): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: init?.method ?? 'GET', headers: init?.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init?.body);
  });
}

export { until } from '../helpers.js';

/** One response read off the wire by {@link parseResponses}. */
export interface WireResponse {
  readonly status: number;
  /** Header names in lower case (repeats joined with `, `). */
  readonly headers: Record<string, string>;
  /** The body, decoded from its framing. */
  readonly body: string;
}

/**
 * The whole responses at the start of `text` (raw bytes of one connection, decoded as
 * latin1), in order: each a head, then a body framed by `content-length` or chunked (none
 * for 1xx, 204 and 304, and for answers to HEAD when `heads` says which ones are). Stops at
 * the first one not yet complete; a body delimited by the connection's close is not read.
 */
export function parseResponses(text: string, heads: readonly boolean[] = []): WireResponse[] {
  const out: WireResponse[] = [];
  let pos = 0;
  for (;;) {
    const headEnd = text.indexOf('\r\n\r\n', pos);
    if (headEnd < 0) return out;
    const lines = text.slice(pos, headEnd).split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!)?.[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    let at = headEnd + 4;
    let body = '';
    const bodyless = status < 200 || status === 204 || status === 304 || heads[out.length] === true;
    if (bodyless) {
      // no body
    } else if (headers['content-length'] !== undefined) {
      const end = at + Number(headers['content-length']);
      if (end > text.length) return out;
      body = text.slice(at, end);
      at = end;
    } else if (headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        const eol = text.indexOf('\r\n', at);
        if (eol < 0) return out;
        const size = parseInt(text.slice(at, eol), 16);
        if (size === 0) {
          const end = text.indexOf('\r\n\r\n', eol);
          if (end < 0 && !text.startsWith('\r\n', eol + 2)) return out;
          at = text.startsWith('\r\n', eol + 2) ? eol + 4 : end + 4;
          break;
        }
        if (eol + 2 + size + 2 > text.length) return out;
        body += text.slice(eol + 2, eol + 2 + size);
        at = eol + 2 + size + 2;
      }
    } else {
      return out;
    }
    out.push({ status, headers, body });
    pos = at;
  }
}

/** The number of whole responses at the start of `text` (see {@link parseResponses}). */
export function responsesIn(text: string): number {
  return parseResponses(text).length;
}

// Helpers over a runtime's own network (the in-memory loopback on `.io('memory')`): no timers.

/** Accumulates what a TcpStream receives, read on demand. */
export class StreamReader {
  text = '';
  ended = false;
  constructor(readonly stream: TcpStream) {}

  /** Reads chunks until `predicate(text)` holds; fails if the stream ends first. */
  async until(predicate: (text: string) => boolean, what: string): Promise<string> {
    while (!predicate(this.text)) {
      const chunk = await this.stream.read();
      if (chunk === null) {
        this.ended = true;
        throw new Error(`end of stream before: ${what} (got ${JSON.stringify(this.text.slice(0, 200))})`);
      }
      this.text += Buffer.from(chunk).toString('latin1');
    }
    return this.text;
  }

  /** Reads until the peer ends the stream (or it closes); returns everything received. */
  async toEnd(): Promise<string> {
    for (;;) {
      let chunk: Uint8Array | null;
      try {
        chunk = await this.stream.read();
      } catch {
        chunk = null; // closed or reset by the server
      }
      if (chunk === null) {
        this.ended = true;
        return this.text;
      }
      this.text += Buffer.from(chunk).toString('latin1');
    }
  }
}

/** Opens a TcpStream to `port` on `rt`'s backend and wraps it in a reader. */
export async function connectTo(rt: { run<T>(fn: () => Promise<T>): Promise<T> }, port: number): Promise<StreamReader> {
  return new StreamReader(await rt.run(() => TcpStream.connect({ host: '127.0.0.1', port })));
}

/** Raw bytes over `rt`'s backend; collects the reply until the server ends the connection. */
export async function rawOver(rt: { run<T>(fn: () => Promise<T>): Promise<T> }, port: number, data: string): Promise<RawResult> {
  const reader = await connectTo(rt, port);
  await reader.stream.write(data);
  const response = await reader.toEnd();
  await reader.stream.close();
  return { response, closed: reader.ended };
}

/** Resolves when `predicate` holds, checking once per event-loop turn (setImmediate, no timers). */
export async function settle(predicate: () => boolean, what: string, maxTurns = 100_000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (predicate()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`gave up waiting for: ${what}`);
}

/**
 * A server (on `rt`'s backend, any port) whose `/slow` requests wait until `release()`;
 * every other path answers `ok` at once. `started()` counts the slow requests begun.
 */
export async function gatedServer(rt: RuntimeBase): Promise<{ server: HttpServer; release: () => void; started: () => number }> {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let started = 0;
  const server = await rt.run(() =>
    serve(async (req) => {
      if (req.path === '/slow') {
        started++;
        await gate;
        return { body: 'finished' };
      }
      return { body: 'ok' };
    }, { port: 0 }),
  );
  return { server, release, started: () => started };
}
