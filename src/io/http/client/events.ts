/**
 * `events()`: a server-sent events client, as an async iterable of parsed events, that
 * reconnects the way an `EventSource` does.
 *
 * Implementation note. The stream is a {@link request} whose body chunks are decoded as
 * UTF-8 and fed to eventsource-parser (a well-kept SSE parser: Zokio writes none); the
 * events it emits for a chunk are yielded before the next chunk is read, so a slow
 * consumer slows the socket down (the body's backpressure). When the stream ends or
 * breaks and `reconnect` is on, the client waits the server's last `retry:` (else
 * `delayMs`) on the runtime's timers and asks again with `Last-Event-ID` set to the last
 * id it saw.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { sleep } from '../../../scheduler/time.js';
import { HttpClientError } from './errors.js';
import type { ClientTlsOptions } from './pool.js';
import { request } from './request.js';
import { ClientResponse } from './response.js';

/** One server-sent event as {@link events} yields it. */
export interface ClientSseEvent {
  /** The `event:` field, `message` when absent. */
  readonly event: string;
  /** The `data:` lines, joined with `\n`. */
  readonly data: string;
  /** The `id:` of this event, if it had one. */
  readonly id: string | undefined;
  /** The last `retry:` the server sent (ms), if any. */
  readonly retry: number | undefined;
}

/** How {@link events} reconnects. */
export interface ReconnectOptions {
  /** Reconnections in a row without an event in between before giving up. @default Infinity */
  readonly maxAttempts?: number;
  /** Wait before reconnecting when the server sent no `retry:`, in ms. @default 3000 */
  readonly delayMs?: number;
}

/** Options of {@link events}. */
export interface EventsOptions {
  /** Sent as `Last-Event-ID` on the first request (and replaced by the ids received). */
  readonly lastEventId?: string;
  /** Stops the stream: the loop throws the reason, the connection closes. */
  readonly signal?: AbortSignal;
  /** Reconnect when the stream ends or breaks (`true`: the defaults). @default true for a URL, false for a response */
  readonly reconnect?: boolean | ReconnectOptions;
  /** Extra request headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** TLS options for `https:` URLs. */
  readonly tls?: ClientTlsOptions;
  /**
   * Deadline for the response head, then for each chunk, in ms (a server's heartbeats
   * keep a quiet stream alive); 0 disables it. A miss is treated like a broken stream.
   * @default 60000
   */
  readonly timeoutMs?: number;
}

/**
 * Reads server-sent events from a URL (or from a response already received) as an async
 * iterable of `{ event, data, id, retry }`.
 *
 * Use it to consume an SSE endpoint; it survives dropped connections the way a browser's
 * `EventSource` does, resuming from the last event id.
 *
 * @example
 * ```ts
 * import { events } from 'zokio/http';
 * for await (const e of events('http://127.0.0.1:8080/feed', { signal: AbortSignal.timeout(10_000) })) {
 *   if (e.event === 'done') break;
 *   console.log(e.data);
 * }
 * ```
 *
 * *Cancellation*: aborting `signal` (or the enclosing scope) ends the loop with the
 * signal's reason and closes the connection, also during the wait before a reconnect;
 * `break` closes it too.
 *
 * *Ordering*: events come in the order the server sent them; after a reconnect, the
 * server decides from `Last-Event-ID` what to send again.
 *
 * @throws HttpClientError (`protocol`) when the answer is not `200 text/event-stream`
 * (a 204 ends the stream, as for `EventSource`).
 */
export async function* events(source: string | URL | ClientResponse, options: EventsOptions = {}): AsyncGenerator<ClientSseEvent, void, undefined> {
  const signal = options.signal;
  const isResponse = source instanceof ClientResponse;
  const url = isResponse ? source.url : String(source);
  const reconnect = options.reconnect ?? !isResponse;
  const maxAttempts = typeof reconnect === 'object' ? (reconnect.maxAttempts ?? Infinity) : Infinity;
  let delayMs = typeof reconnect === 'object' ? (reconnect.delayMs ?? 3000) : 3000;
  let retry: number | undefined;
  let lastId = options.lastEventId;
  let attempts = 0;
  let pending: ClientResponse | undefined = isResponse ? source : undefined;
  for (;;) {
    let res: ClientResponse | undefined;
    let failure: unknown;
    try {
      res = pending ?? (await request(url, {
        headers: { accept: 'text/event-stream', 'cache-control': 'no-cache', ...options.headers, ...(lastId !== undefined ? { 'last-event-id': lastId } : {}) },
        signal,
        tls: options.tls,
        timeoutMs: options.timeoutMs ?? 60_000,
      }));
      pending = undefined;
      if (res.status === 204) {
        await res.cancel();
        return;
      }
      const type = String(res.headers['content-type'] ?? '');
      if (res.status !== 200 || !type.startsWith('text/event-stream')) {
        await res.cancel();
        throw new HttpClientError('protocol', `${url}: expected 200 text/event-stream, got ${res.status} ${type}`);
      }
      const queue: ClientSseEvent[] = [];
      const parser = createParser({
        onEvent: (e: EventSourceMessage) => {
          if (e.id !== undefined) lastId = e.id;
          queue.push({ event: e.event ?? 'message', data: e.data, id: e.id, retry });
        },
        onRetry: (ms: number) => {
          retry = ms;
          delayMs = ms;
        },
      });
      const decoder = new TextDecoder();
      for await (const chunk of res.body) {
        parser.feed(decoder.decode(chunk, { stream: true }));
        for (let i = 0; i < queue.length; i++) {
          attempts = 0;
          yield queue[i]!;
        }
        queue.length = 0;
      }
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (err instanceof HttpClientError && err.kind === 'protocol') throw err;
      failure = err;
    } finally {
      if (res !== undefined) await res.cancel();
    }
    if (reconnect === false) {
      if (failure !== undefined) throw failure;
      return;
    }
    attempts++;
    if (attempts > maxAttempts) {
      if (failure !== undefined) throw failure;
      return;
    }
    await sleep(delayMs, { signal });
  }
}
