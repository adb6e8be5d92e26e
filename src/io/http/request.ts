/**
 * The light request a `serve()` handler receives.
 *
 * Implementation note. It wraps the parsed head (`parser.ts`) without copying: `method`
 * and `url` are the parser's strings, and the `headers` object is built from the raw
 * header list only when a handler reads it (most `/health`-style handlers never do); the
 * body is whatever the connection kept of it (up to the body limit), handed over by
 * `bytes()`, `text()` or `json()` once it is whole; the `AbortController` behind
 * `signal` is created only when a handler reads it.
 */
import type { Reply } from './reply.js';
import type { RequestBody } from './request-body.js';
import { HttpError } from './http-error.js';
import type { RequestHead } from './parser.js';
import { abortableWait } from '../../scheduler/wait-abort.js';

/** Options of {@link HttpRequest.bytes}, `text()` and `json()`. */
export interface BodyOptions {
  /** Stops this wait for the body (the body is still received, for a later call). */
  readonly signal?: AbortSignal;
}

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
   * The body as bytes. Every call reads the same body: a second call (or `text()` after
   * `bytes()`) gets it again.
   *
   * *Cancellation*: rejects if the client disconnects mid-body; aborting `options.signal`
   * (or the task the call is made in) rejects this call with its reason, and the body is
   * still received for a later call.
   * @throws HttpError 413 when the body is over `limits.bodyBytes`.
   */
  bytes(options?: BodyOptions): Promise<Uint8Array>;
  /** The body decoded as UTF-8. *Cancellation*: as {@link HttpRequest.bytes}. */
  text(options?: BodyOptions): Promise<string>;
  /**
   * The body parsed as JSON.
   *
   * *Cancellation*: as {@link HttpRequest.bytes}.
   * @throws HttpError 400 when the body is not valid JSON, 413 when it is too large.
   */
  json<T = unknown>(options?: BodyOptions): Promise<T>;
  /** Aborted when the client disconnects before the response is complete. */
  readonly signal: AbortSignal;
}

/** @internal */
export class ServerRequest implements HttpRequest {
  readonly method: string;
  readonly url: string;
  /** @internal */ readonly head: RequestHead;
  /** @internal */ readonly res: Reply;
  readonly #body: RequestBody | undefined;
  #headers: Record<string, string | string[] | undefined> | undefined;
  #controller: AbortController | undefined;

  constructor(head: RequestHead, res: Reply, body: RequestBody | undefined) {
    this.head = head;
    this.res = res;
    this.method = head.method;
    this.url = head.url;
    this.#body = body;
  }

  get headers(): Readonly<Record<string, string | string[] | undefined>> {
    return (this.#headers ??= headersObject(this.head.rawHeaders));
  }

  get path(): string {
    const q = this.url.indexOf('?');
    return q < 0 ? this.url : this.url.slice(0, q);
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      const controller = (this.#controller = new AbortController());
      const res = this.res;
      if (res.ended) return controller.signal;
      if (res.gone) controller.abort(new HttpError(499, 'client closed the connection'));
      else res.onClose(() => controller.abort(new HttpError(499, 'client closed the connection')));
    }
    return this.#controller.signal;
  }

  bytes(options?: BodyOptions): Promise<Uint8Array> {
    return abortableWait(this.#read(), options?.signal);
  }

  text(options?: BodyOptions): Promise<string> {
    return abortableWait(this.#read().then(utf8), options?.signal);
  }

  json<T = unknown>(options?: BodyOptions): Promise<T> {
    return abortableWait(this.#read().then(parseJson<T>), options?.signal);
  }

  #read(): Promise<Buffer> {
    return this.#body === undefined ? Promise.resolve(EMPTY) : this.#body.read();
  }
}

function utf8(body: Buffer): string {
  return body.toString();
}

function parseJson<T>(body: Buffer): T {
  try {
    return JSON.parse(body.toString()) as T;
  } catch (err) {
    throw new HttpError(400, 'request body is not valid JSON', { cause: err });
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * Headers whose repeats are dropped (the first one counts), as Node's `IncomingMessage`
 * does; `set-cookie` repeats become an array, `cookie` repeats are joined with `; `, and
 * any other repeats with `, `.
 */
const SINGLE = new Set([
  'age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host', 'if-modified-since',
  'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer', 'retry-after',
  'server', 'user-agent',
]);

/** @internal The `headers` object of a request: names in lower case, repeats merged (see {@link SINGLE}). */
export function headersObject(raw: readonly string[]): Record<string, string | string[] | undefined> {
  // No prototype: a header named `__proto__` is an ordinary key.
  const headers = Object.create(null) as Record<string, string | string[] | undefined>;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const previous = headers[name];
    if (previous === undefined) headers[name] = name === 'set-cookie' ? [value] : value;
    else if (name === 'set-cookie') (previous as string[]).push(value);
    else if (!SINGLE.has(name)) headers[name] = `${previous as string}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  return headers;
}
