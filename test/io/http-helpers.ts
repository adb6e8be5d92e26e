// Helpers for the HTTP tests: raw sockets for malformed input, node:http for good requests.
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';

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

/** Resolves when `predicate` holds, checking on every turn of the event loop (no time assertions). */
export async function until(predicate: () => boolean, what: string, maxTurns = 200_000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (predicate()) return;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`gave up waiting for: ${what}`);
}
