/**
 * `RequestBody` (internal): a request body as the connection receives it, handed to
 * `req.bytes()` once whole.
 */
import { HttpError } from './http-error.js';

/**
 * @internal A request body as it arrives: kept up to the body limit, handed to
 * `req.bytes()` once whole. Over the limit it keeps nothing more and its reader fails
 * with 413.
 */
export class RequestBody {
  readonly #limit: number;
  #chunks: Buffer[] = [];
  #size = 0;
  /** Set once the body is whole (`#result`) or cannot be (`#error`). */
  #result: Buffer | undefined;
  #error: HttpError | undefined;
  #discard = false;
  #resolve: ((body: Buffer) => void) | undefined;
  #reject: ((err: HttpError) => void) | undefined;
  #promise: Promise<Buffer> | undefined;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Keeps `chunk`; false once the body is over the limit. */
  push(chunk: Buffer): boolean {
    if (this.#discard || this.#error !== undefined) return true;
    this.#size += chunk.length;
    if (this.#size > this.#limit) {
      this.#chunks = [];
      this.fail(new HttpError(413, `request body is over the limit of ${this.#limit} bytes`));
      return false;
    }
    this.#chunks.push(chunk);
    return true;
  }

  /** The response is written: what still arrives is dropped. */
  discard(): void {
    this.#discard = true;
    this.#chunks = [];
  }

  /** The body is whole. */
  end(): void {
    if (this.#error !== undefined || this.#result !== undefined) return;
    const chunks = this.#chunks;
    this.#chunks = [];
    this.#result = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.#size);
    this.#resolve?.(this.#result);
  }

  /** The body cannot be read to its end. */
  fail(err: HttpError): void {
    if (this.#error !== undefined || this.#result !== undefined) return;
    this.#error = err;
    this.#reject?.(err);
  }

  /** The whole body (the same promise on every call). */
  read(): Promise<Buffer> {
    if (this.#promise !== undefined) return this.#promise;
    if (this.#result !== undefined) return (this.#promise = Promise.resolve(this.#result));
    if (this.#error !== undefined) return (this.#promise = Promise.reject(this.#error));
    return (this.#promise = new Promise<Buffer>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    }));
  }
}
