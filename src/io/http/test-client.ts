/**
 * `request(server, init)`: one HTTP/1.1 request to a `serve()` server over the server's own
 * I/O backend, for tests.
 *
 * Implementation note. The connection comes from the server itself (`HttpServer.connect`:
 * the runtime's in-memory loopback on the `memory` backend, a TCP connection to the bound
 * address on `node`) and is handed to a `node:http` client request through
 * `createConnection`, so the response is parsed by node's own HTTP parser (chunked bodies
 * included). Every request uses a fresh connection and sends `connection: close`.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { abortReason } from '../../scheduler/time.js';
import type { HttpServer } from './serve.js';

/** What {@link request} sends. */
export interface TestRequest {
  /** The method. @default 'GET' */
  readonly method?: string;
  /** The request target: path and query. @default '/' */
  readonly path?: string;
  /** Extra request headers (`host` and `connection: close` are set unless given). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The body; sent with a `content-length`. */
  readonly body?: string | Uint8Array;
  /** Aborts the request: the connection is destroyed. */
  readonly signal?: AbortSignal;
}

/** What {@link request} resolves with: the whole response, read to its end. */
export interface TestResponse {
  /** The status code. */
  readonly status: number;
  /** Response headers, names in lower case. */
  readonly headers: IncomingHttpHeaders;
  /** The body decoded as UTF-8. */
  readonly body: string;
  /** The body as bytes. */
  readonly bytes: Uint8Array;
  /** The body parsed as JSON. @throws SyntaxError when it is not JSON. */
  json<T = unknown>(): T;
}

/**
 * Sends one request to `server` and reads the whole response, without a real socket when
 * the server runs on the `memory` backend.
 *
 * Use it in tests of `serve()` handlers: build the runtime with `.io('memory')` and the
 * request travels over that runtime's in-memory loopback, so no port is opened and
 * nothing outside the process is involved. On the `node` backend it connects to the
 * server's address over TCP. Each call uses its own connection.
 *
 * @example
 * ```ts
 * import { Runtime } from 'zokio';
 * import { serve, json } from 'zokio/http';
 * import { request } from 'zokio/testing';
 * const rt = Runtime.builder().io('memory').build();
 * const server = await rt.run(() => serve(async (req) => json({ got: await req.json() }), { port: 0 }));
 * const res = await request(server, { method: 'POST', path: '/echo', body: '{"a":1}' });
 * console.log(res.status, res.json()); // 200 { got: { a: 1 } }
 * await rt.shutdown();
 * ```
 *
 * *Cancellation*: aborting `signal` destroys the connection and rejects with the signal's
 * reason; the server sees a client that went away (the handler's `req.signal` aborts).
 * @throws the connection error, e.g. `ECONNREFUSED` once the server is closed, or
 * `ECONNRESET` when the server closes the connection without a response.
 */
export async function request(server: HttpServer, init: TestRequest = {}): Promise<TestResponse> {
  const signal = init.signal;
  if (signal?.aborted) throw abortReason(signal);
  const socket = await server.connect(signal);
  return new Promise<TestResponse>((resolve, reject) => {
    const req = httpRequest(
      {
        method: init.method ?? 'GET',
        path: init.path ?? '/',
        headers: { host: `${server.host}:${server.port}`, connection: 'close', ...init.headers },
        createConnection: () => socket as Socket,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', fail);
        res.on('end', () => {
          signal?.removeEventListener('abort', onAbort);
          const bytes = Buffer.concat(chunks);
          const body = bytes.toString();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, bytes, json: <T>() => JSON.parse(body) as T });
        });
      },
    );
    function fail(err: unknown): void {
      signal?.removeEventListener('abort', onAbort);
      reject(err);
    }
    function onAbort(): void {
      req.destroy();
      socket.destroy();
      fail(abortReason(signal!));
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', fail);
    req.end(init.body);
  });
}
