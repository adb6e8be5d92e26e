/**
 * Server-sent events: `sse(source, options)` builds a response body that `serve()` streams.
 *
 * Implementation note. The stream loop pulls the next event from the source only while
 * the socket's buffered bytes (`res.writableLength`) are under ONE threshold
 * (`highWaterMark`); above it the loop stops pulling (the producer is not advanced, so it
 * stops producing) and waits for `drain`. Heartbeats are comment lines (`: heartbeat`)
 * written every `heartbeatMs` on the runtime's clock (`sleep`), also skipped while over
 * the threshold. The loop stops when the source ends, the client disconnects, the server
 * shuts down, or the request task is aborted; it then calls `return()` on the source so
 * its `finally` blocks run.
 */
import type { Reply } from './connection.js';
import { sleep } from '../../scheduler/time.js';

/** One server-sent event. */
export interface SseEvent {
  /** The payload; strings are sent as-is, anything else as JSON. Newlines become extra `data:` lines. */
  readonly data: unknown;
  /** The event type (`event:` field); the client's `onmessage` gets events without one. */
  readonly event?: string;
  /** The event id (`id:` field), sent back by reconnecting clients as `Last-Event-ID`. */
  readonly id?: string | number;
  /** Reconnection delay hint for the client, in ms (`retry:` field). */
  readonly retry?: number;
}

/** What an SSE source yields: events, or strings sent as `data`. */
export type SseItem = SseEvent | string;

/** The producer of an SSE stream: an async iterable, or a function of the stop signal that returns one. */
export type SseSource = AsyncIterable<SseItem> | ((signal: AbortSignal) => AsyncIterable<SseItem>);

/** Options of {@link sse}. */
export interface SseOptions {
  /**
   * Interval of heartbeat comments that keep proxies from closing an idle stream, in ms;
   * 0 disables them.
   * @default 15000
   */
  readonly heartbeatMs?: number;
  /**
   * The one backpressure threshold: while more than this many bytes wait in the socket's
   * buffer, the source is not pulled and no heartbeat is written. The socket signals
   * that it drained only past its own high-water mark (16 KiB), so a smaller value acts
   * as 16 KiB.
   * @default 65536
   */
  readonly highWaterMark?: number;
  /** Extra response headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Status code. @default 200 */
  readonly status?: number;
}

/** Counters of one SSE stream (for tests and metrics). */
export interface SseStats {
  /** Events written. */
  events: number;
  /** Heartbeats written. */
  heartbeats: number;
  /** Times the stream stopped pulling because the client was slow. */
  pauses: number;
  /** Why the stream ended: `'done'`, `'client'`, `'shutdown'`, `'error'`; undefined while running. */
  ended: 'done' | 'client' | 'shutdown' | 'error' | undefined;
}

/**
 * A server-sent-event response body: return it from a `serve()` handler (directly or as
 * `body`).
 *
 * @example
 * ```ts
 * import { serve, sse } from 'zokio/http';
 * import { sleep } from 'zokio';
 * await serve(() => sse(async function* (signal) {
 *   for (let i = 0; !signal.aborted; i++) {
 *     yield { event: 'tick', data: { i } };
 *     await sleep(1000, { signal });
 *   }
 * }, { heartbeatMs: 15_000 }), { port: 0 });
 * ```
 */
export class SseBody {
  /** @internal */ readonly source: SseSource;
  /** @internal */ readonly heartbeatMs: number;
  /** @internal */ readonly highWaterMark: number;
  /** @internal */ readonly headers: Readonly<Record<string, string>> | undefined;
  /** The status code sent. */
  readonly status: number;
  /** Live counters of the stream. */
  readonly stats: SseStats = { events: 0, heartbeats: 0, pauses: 0, ended: undefined };

  /** @internal Use {@link sse}. */
  constructor(source: SseSource, options: SseOptions | undefined) {
    this.source = source;
    this.heartbeatMs = options?.heartbeatMs ?? 15_000;
    this.highWaterMark = options?.highWaterMark ?? 64 * 1024;
    this.headers = options?.headers;
    this.status = options?.status ?? 200;
  }
}

/**
 * Streams server-sent events from `source` with heartbeats and backpressure.
 *
 * Use it for live feeds (progress, notifications, logs). A slow client never makes the
 * server buffer more than `highWaterMark` bytes for it: the source is simply not pulled
 * until the client catches up.
 *
 * @example
 * ```ts
 * import { serve, sse } from 'zokio/http';
 * await serve((req) => req.path === '/events'
 *   ? sse(['hello', { event: 'bye', data: { ok: true } }])
 *   : { status: 404 }, { port: 0 });
 * ```
 *
 * *Cancellation*: when the client disconnects, the server shuts down or the request task
 * is aborted, the signal passed to a function source aborts and the source's `return()`
 * is called.
 */
export function sse(source: SseSource | Iterable<SseItem>, options?: SseOptions): SseBody {
  const src: SseSource = Symbol.asyncIterator in Object(source) || typeof source === 'function'
    ? (source as SseSource)
    : (async function* () {
        yield* source as Iterable<SseItem>;
      })();
  return new SseBody(src, options);
}

/** Formats one event in the `text/event-stream` wire format. */
export function formatSseEvent(item: SseItem): string {
  if (typeof item === 'string') return `data: ${item.replace(/\r?\n/g, '\ndata: ')}\n\n`;
  let out = '';
  if (item.event !== undefined) out += `event: ${item.event}\n`;
  if (item.id !== undefined) out += `id: ${item.id}\n`;
  if (item.retry !== undefined) out += `retry: ${item.retry}\n`;
  const data = typeof item.data === 'string' ? item.data : JSON.stringify(item.data);
  out += `data: ${(data ?? '').replace(/\r?\n/g, '\ndata: ')}\n\n`;
  return out;
}

const HEARTBEAT = ': heartbeat\n\n';
const PAUSED = Symbol('paused');
const BEAT = Symbol('beat');
const STOP = Symbol('stop');

/** @internal Writes the stream; resolves when it has ended (never rejects). */
export async function streamSse(body: SseBody, res: Reply, stopSignals: readonly AbortSignal[]): Promise<void> {
  const stats = body.stats;
  const stop = new AbortController();
  const onStop = (): void => stop.abort();
  const onClose = (): void => {
    stats.ended ??= 'client';
    stop.abort();
  };
  for (const s of stopSignals) {
    if (s.aborted) stop.abort();
    else s.addEventListener('abort', onStop, { once: true });
  }
  const offClose = res.onClose(onClose);
  if (res.gone) onClose();
  const stopped = new Promise<typeof STOP>((resolve) => {
    if (stop.signal.aborted) resolve(STOP);
    else stop.signal.addEventListener('abort', () => resolve(STOP), { once: true });
  });

  res.writeHead(body.status, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
    ...body.headers,
  });
  res.flushHeaders();

  const iterable = typeof body.source === 'function' ? body.source(stop.signal) : body.source;
  const iterator = iterable[Symbol.asyncIterator]();
  const beatMs = body.heartbeatMs;
  const beats = new AbortController();
  const nextBeat = (): Promise<typeof BEAT> => sleep(beatMs, { signal: beats.signal, unref: true }).then(() => BEAT, () => BEAT);
  let beat: Promise<typeof BEAT> | undefined = beatMs > 0 ? nextBeat() : undefined;
  let pending: Promise<IteratorResult<SseItem>> | undefined;
  let drained: Promise<typeof PAUSED> | undefined;
  try {
    while (!stop.signal.aborted) {
      const slow = res.writableLength > body.highWaterMark && res.needsDrain;
      if (slow && drained === undefined) {
        // Over the threshold: stop pulling the source until the socket drains.
        stats.pauses++;
        drained = res.drained().then(() => PAUSED);
      }
      if (!slow) drained = undefined;
      if (!slow && pending === undefined) pending = iterator.next();
      const waits: Array<Promise<unknown>> = [stopped];
      if (pending !== undefined && !slow) waits.push(pending);
      if (drained !== undefined) waits.push(drained);
      if (beat !== undefined) waits.push(beat);
      const winner = await Promise.race(waits);
      if (winner === STOP) break;
      if (winner === PAUSED) {
        drained = undefined;
        continue;
      }
      if (winner === BEAT) {
        beat = nextBeat();
        if (res.writableLength <= body.highWaterMark) {
          res.write(HEARTBEAT);
          stats.heartbeats++;
        }
        continue;
      }
      const result = winner as IteratorResult<SseItem>;
      pending = undefined;
      if (result.done) {
        stats.ended ??= 'done';
        break;
      }
      res.write(formatSseEvent(result.value));
      stats.events++;
    }
  } catch {
    stats.ended ??= 'error';
  } finally {
    beats.abort();
    if (stop.signal.aborted) stats.ended ??= 'shutdown';
    for (const s of stopSignals) s.removeEventListener('abort', onStop);
    offClose();
    stop.abort();
    // Let the producer run its finally blocks; a pending next() is abandoned.
    void Promise.resolve(iterator.return?.()).catch(() => undefined);
    if (!res.destroyed) res.end();
  }
}
