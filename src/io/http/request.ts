/**
 * The light request a `serve()` handler receives.
 *
 * Implementation note. It wraps Node's `IncomingMessage` without copying: `method`, `url`
 * and `headers` are Node's own objects, and `headers` is read from it only when a handler
 * reads it (Node builds that object lazily from the raw header list, which costs a
 * request that never looks at its headers a few hundred nanoseconds); the body is read
 * only when `bytes()`, `text()` or `json()` is called (once, then cached), with the body
 * limit enforced while reading; the `AbortController` behind `signal` is created only
 * when a handler reads it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './http-error.js';

/**
 * What a handler receives: method, url, headers, the body on demand, and a signal that
 * aborts when the client goes away.
 *
 * @example
 * ```ts
 * import { serve } from 'zokio/http';
 * await serve(async (req) => {
 *   if (req.method === 'POST') return { status: 201, body: JSON.stringify(await req.json()) };
 *   return { status: 200, body: `you asked for ${req.path}` };
 * }, { port: 0 });
 * ```
 */
export interface HttpRequest {
  /** `GET`, `POST`, ... */
  readonly method: string;
  /** The request target as sent: path and query, e.g. `/items?page=2`. */
  readonly url: string;
  /** The path without the query string. */
  readonly path: string;
  /** Header names in lower case (Node's `IncomingHttpHeaders`). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /**
   * The body as bytes.
   *
   * *Cancellation*: rejects if the client disconnects mid-body.
   * @throws HttpError 413 when the body is over `limits.bodyBytes`.
   */
  bytes(): Promise<Uint8Array>;
  /** The body decoded as UTF-8. *Cancellation*: as {@link HttpRequest.bytes}. */
  text(): Promise<string>;
  /**
   * The body parsed as JSON.
   *
   * *Cancellation*: as {@link HttpRequest.bytes}.
   * @throws HttpError 400 when the body is not valid JSON, 413 when it is too large.
   */
  json<T = unknown>(): Promise<T>;
  /** Aborted when the client disconnects before the response is complete. */
  readonly signal: AbortSignal;
}

/** @internal */
export class ServerRequest implements HttpRequest {
  readonly method: string;
  readonly url: string;
  /** @internal */ readonly raw: IncomingMessage;
  /** @internal */ readonly res: ServerResponse;
  readonly #bodyLimit: number;
  #body: Promise<Buffer> | undefined;
  #controller: AbortController | undefined;

  constructor(raw: IncomingMessage, res: ServerResponse, bodyLimit: number) {
    this.raw = raw;
    this.res = res;
    this.method = raw.method ?? 'GET';
    this.url = raw.url ?? '/';
    this.#bodyLimit = bodyLimit;
  }

  get headers(): Readonly<Record<string, string | string[] | undefined>> {
    return this.raw.headers;
  }

  get path(): string {
    const q = this.url.indexOf('?');
    return q < 0 ? this.url : this.url.slice(0, q);
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      const controller = (this.#controller = new AbortController());
      const res = this.res;
      if (res.writableFinished) return controller.signal;
      if (res.destroyed) controller.abort(new HttpError(499, 'client closed the connection'));
      else res.once('close', () => {
        if (!res.writableFinished) controller.abort(new HttpError(499, 'client closed the connection'));
      });
    }
    return this.#controller.signal;
  }

  bytes(): Promise<Uint8Array> {
    return (this.#body ??= readBody(this.raw, this.#bodyLimit));
  }

  async text(): Promise<string> {
    return (await this.bytes()).toString();
  }

  async json<T = unknown>(): Promise<T> {
    const text = await this.text();
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new HttpError(400, 'request body is not valid JSON', { cause: err });
    }
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        reject(new HttpError(413, `request body is over the limit of ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      if (req.complete) return;
      cleanup();
      reject(new HttpError(400, 'client closed the connection before the body was complete'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
