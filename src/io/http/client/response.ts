/**
 * `ClientResponse`: the answer of `request()`, with a body read once as an async iterable
 * of chunks or whole as bytes, text or JSON.
 *
 * Implementation note. The body is undici's `BodyReadable` (a paused `Readable` fed by
 * the socket: undici stops reading the socket while it is full), so a consumer that reads
 * slowly slows the sender down. The wrapper counts bytes against `maxBodyBytes`, restarts
 * the request's idle deadline on every chunk, and on the first end, error or early exit
 * from a loop releases the deadline and the abort listeners (`done`); a body left unread
 * is destroyed, which frees its connection.
 */
import type { Readable } from 'node:stream';
import { taskWait } from '../../../scheduler/task.js';
import { asBuffer } from '../../net/byte-stream.js';
import { HttpClientError } from './errors.js';

/** The bytes as UTF-8 text. */
function utf8(bytes: Uint8Array): string {
  return asBuffer(bytes).toString('utf8');
}

/** @internal What a response tells the request that produced it. */
export interface ResponseHooks {
  /** Called before each wait for a chunk (arms the deadline). */
  arm(): void;
  /** Called when a chunk came (disarms it: a consumer that does not pull is not timed). */
  disarm(): void;
  /** Called once, when the body ended, failed or was dropped. */
  done(): void;
  /** The error the request failed with (a deadline or an abort), if any. */
  failure(): unknown;
}

/**
 * A response of {@link request}: status, headers and a body that can be read once.
 *
 * @example
 * ```ts
 * import { request } from 'zokio/http';
 * const res = await request('http://127.0.0.1:8080/items');
 * for await (const chunk of res.body) console.log(chunk.byteLength);
 * ```
 */
export class ClientResponse implements AsyncDisposable {
  /** The URL that was requested (the last one, after retries). */
  readonly url: string;
  /** The status code. */
  readonly status: number;
  /** The response headers, names in lower case (repeated ones as arrays). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly #raw: Readable;
  readonly #maxBytes: number;
  readonly #hooks: ResponseHooks;
  #used = false;
  #finished = false;

  /** @internal Built by `request()`. */
  constructor(url: string, status: number, headers: Record<string, string | string[] | undefined>, raw: Readable, maxBytes: number, hooks: ResponseHooks) {
    this.url = url;
    this.status = status;
    this.headers = headers;
    this.#raw = raw;
    this.#maxBytes = maxBytes;
    this.#hooks = hooks;
    (raw as CollectedStream)[RESPONSE] = this;
    raw.once('close', onBodyClose);
    // A body destroyed unread emits undici's AbortError: the reader (if any) gets it from
    // its loop; without one it must not become an uncaught exception.
    raw.on('error', noop);
  }

  /** True for a 2xx status. */
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  /** True once the body was read (or started to be) or dropped. */
  get bodyUsed(): boolean {
    return this.#used;
  }

  /**
   * The body as an async iterable of chunks, with backpressure: the socket is not read
   * faster than the loop consumes. Readable once.
   *
   * *Cancellation*: leaving the loop early (`break`, `return`, a throw) destroys the body
   * and frees its connection; an abort of the request's signal or its deadline makes the
   * loop throw the signal's reason or `TimeoutError`.
   *
   * @throws HttpClientError (`too_large`) past `maxBodyBytes`; (`reset`) when the
   * connection closes early.
   */
  get body(): AsyncIterable<Uint8Array> {
    return { [Symbol.asyncIterator]: () => this.#iterate() };
  }

  async *#iterate(): AsyncGenerator<Uint8Array, void, undefined> {
    this.#take();
    const raw = this.#raw;
    const max = this.#maxBytes;
    let seen = 0;
    const hooks = this.#hooks;
    const chunks = raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    try {
      for (;;) {
        hooks.arm();
        const next = await chunks.next();
        hooks.disarm();
        if (next.done === true) break;
        seen += next.value.byteLength;
        if (seen > max) throw tooLarge(max);
        yield next.value;
      }
    } catch (err) {
      throw this.#translate(err);
    } finally {
      if (!raw.readableEnded) raw.destroy();
      this.#finish();
    }
  }

  /**
   * Reads the whole body.
   *
   * *Cancellation*: as {@link ClientResponse.body}.
   * @throws HttpClientError (`too_large`) past `maxBodyBytes`.
   */
  bytes(): Promise<Uint8Array> {
    return taskWait(this.#bytes());
  }

  async #bytes(): Promise<Uint8Array> {
    const length = Number(this.headers['content-length']);
    if (length > this.#maxBytes) {
      this.#take();
      this.#raw.destroy();
      throw tooLarge(this.#maxBytes);
    }
    if (length >= 0) {
      // Length known and within the limit (llhttp holds the server to it): undici's own
      // collector, without an async iterator per response.
      this.#take();
      this.#hooks.arm();
      try {
        return await (this.#raw as Readable & { bytes(): Promise<Uint8Array> }).bytes();
      } catch (err) {
        throw this.#translate(err);
      } finally {
        this.#hooks.disarm();
        this.#finish();
      }
    }
    this.#take();
    return this.#collect();
  }

  /**
   * Reads a body of unknown length (chunked, or until close) whole. It is read entirely
   * anyway, so the chunks are taken as `'data'` events: no async iterator and no promise per
   * chunk (an async iterator per response cost about a third of `request()` against a
   * chunked server in bench/gateway.bench.ts). The deadline is armed again for each next
   * chunk, and `maxBodyBytes` is checked on every chunk: past it the body is destroyed at
   * once. The listeners are functions shared by every response (they find their
   * {@link BodyCollector} on the stream), not closures made per response.
   */
  #collect(): Promise<Uint8Array> {
    const raw = this.#raw;
    if (raw.destroyed) {
      this.#finish();
      return Promise.reject(this.#translate(raw.errored ?? prematureClose()));
    }
    return new Promise<Uint8Array>((resolve, reject) => {
      (raw as CollectedStream)[COLLECTOR] = new BodyCollector(this, this.#hooks, this.#maxBytes, resolve, reject);
      raw.on('data', onCollectData);
      raw.once('end', onCollectEnd);
      raw.on('error', onCollectError);
      this.#hooks.arm();
    });
  }

  /** @internal The end of a {@link BodyCollector}'s read: unhooks it, frees the body, settles. */
  settleCollect(collector: BodyCollector, err: unknown, value?: Uint8Array): void {
    const raw = this.#raw as CollectedStream;
    raw[COLLECTOR] = undefined;
    raw.off('data', onCollectData);
    raw.off('end', onCollectEnd);
    raw.off('error', onCollectError);
    this.#hooks.disarm();
    if (!raw.readableEnded) raw.destroy();
    this.#finish();
    if (err === undefined) collector.resolve(value!);
    else collector.reject(this.#translate(err));
  }

  /** Reads the whole body as UTF-8 text. *Cancellation*: as {@link ClientResponse.body}. */
  text(): Promise<string> {
    return taskWait(this.#bytes().then(utf8));
  }

  /**
   * Reads the whole body and parses it as JSON. *Cancellation*: as {@link ClientResponse.body}.
   * @throws SyntaxError when the body is not JSON.
   */
  json<T = unknown>(): Promise<T> {
    return taskWait(this.#bytes().then((bytes) => JSON.parse(utf8(bytes)) as T));
  }

  /** Drops the body unread and frees the connection. Safe to call twice. */
  async cancel(): Promise<void> {
    this.#used = true;
    if (!this.#raw.destroyed) this.#raw.destroy();
    this.#finish();
  }

  /** Same as {@link ClientResponse.cancel}: `await using res = await request(url)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.cancel();
  }

  #take(): void {
    if (this.#used) throw new TypeError('response body already read');
    this.#used = true;
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#hooks.done();
  }

  /** @internal The body stream closed. */
  closed(): void {
    this.#finish();
  }

  #translate(err: unknown): unknown {
    const failure = this.#hooks.failure();
    if (failure !== undefined) return failure;
    if (err instanceof HttpClientError) return err;
    const code = (err as { code?: string } | null)?.code;
    if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'UND_ERR_ABORTED') {
      return new HttpClientError('reset', `connection closed before the response body was complete: ${(err as Error).message}`, { cause: err });
    }
    return err;
  }
}

function noop(): void {}

const RESPONSE = Symbol('zokio.response');
const COLLECTOR = Symbol('zokio.collector');

/** The body stream, with its response and, while `bytes()` collects it, its collector. */
type CollectedStream = Readable & { [RESPONSE]?: ClientResponse; [COLLECTOR]?: BodyCollector | undefined };

/** @internal The state of one whole-body read of unknown length (see `#collect`). */
class BodyCollector {
  readonly chunks: Buffer[] = [];
  seen = 0;

  constructor(
    readonly response: ClientResponse,
    readonly hooks: ResponseHooks,
    readonly max: number,
    readonly resolve: (bytes: Uint8Array) => void,
    readonly reject: (reason: unknown) => void,
  ) {}

  /** Takes a chunk and waits for the next (the deadline restarts); false past `maxBodyBytes`. */
  take(chunk: Buffer): boolean {
    this.seen += chunk.byteLength;
    if (this.seen > this.max) return false;
    this.chunks.push(chunk);
    this.hooks.arm();
    return true;
  }
}

/** The body closed: a collector still waiting fails (it closed before its end), and the response is done. */
function onBodyClose(this: CollectedStream): void {
  const c = this[COLLECTOR];
  if (c !== undefined && !this.readableEnded) c.response.settleCollect(c, this.errored ?? prematureClose());
  this[RESPONSE]!.closed();
}

function onCollectData(this: CollectedStream, chunk: Buffer): void {
  const c = this[COLLECTOR];
  if (c !== undefined && !c.take(chunk)) c.response.settleCollect(c, tooLarge(c.max));
}

function onCollectEnd(this: CollectedStream): void {
  const c = this[COLLECTOR];
  if (c !== undefined) c.response.settleCollect(c, undefined, c.chunks.length === 1 ? c.chunks[0]! : Buffer.concat(c.chunks, c.seen));
}

function onCollectError(this: CollectedStream, err: unknown): void {
  const c = this[COLLECTOR];
  if (c !== undefined) c.response.settleCollect(c, err);
}

/** What a body closed before its end fails with (the code node:stream uses for it). */
function prematureClose(): Error {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

function tooLarge(max: number): HttpClientError {
  return new HttpClientError('too_large', `response body is over maxBodyBytes (${max})`);
}
