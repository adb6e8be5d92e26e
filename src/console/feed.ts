/**
 * The console feed: ticks, numbered update frames, and the stream clients.
 *
 * Implementation note. Sampling runs only while at least one stream client is connected:
 * the first client starts a timer on the runtime's clock (a `VirtualClock` in tests) and
 * the HTTP counters; the last one to leave stops both. Each tick samples a state, diffs it
 * against the previous one and serialises the frame once (`update` event data is a
 * string, shared by every client). The last `retention.frames` frames are kept so that a
 * client reconnecting with `Last-Event-ID` gets exactly the frames it missed.
 *
 * Each client has a queue of at most `retention.clientFrames` frames. `sse()` pulls from it
 * only while the socket keeps up; when a frame arrives at a full queue the client's queued
 * frames are dropped and counted, and the next thing it receives is a `snapshot` event
 * with the whole state (so its view is whole again), never a growing buffer.
 *
 * ```
 *  tick ─► sample ─► diff ─► frame {seq, json} ─► frames ring (Last-Event-ID)
 *                                     └─► client queue (≤ clientFrames) ─► sse() ─► socket
 *                                              full? drop all, count, send a snapshot next
 * ```
 */
import { performance } from 'node:perf_hooks';
import type { SseEvent } from '../io/http/sse.js';
import type { TimerDriver } from '../scheduler/time.js';
import { diffStates } from './diff.js';
import type { HttpStats } from './http-stats.js';
import { CONSOLE_SCHEMA, type ConsoleHello, type ConsoleState, type ConsoleUpdate } from './model.js';
import type { ResolvedConsoleOptions } from './options.js';
import type { Sampler } from './sampler.js';

/** One numbered update frame, serialised once. */
interface Frame {
  readonly seq: number;
  readonly update: ConsoleUpdate;
  readonly json: string;
}

/** @internal One connected stream client. */
export class FeedClient implements AsyncIterable<SseEvent> {
  readonly #feed: ConsoleFeed;
  /** Events waiting to be written (hello, missed frames, new frames). */
  readonly queue: SseEvent[] = [];
  /** Frames dropped for this client. */
  dropped = 0;
  resync = false;
  wake: (() => void) | undefined = undefined;
  closed = false;

  constructor(feed: ConsoleFeed) {
    this.#feed = feed;
  }

  /** Queues a frame; a full queue is dropped (counted) and replaced by a snapshot later. */
  push(event: SseEvent, limit: number): number {
    let dropped = 0;
    if (this.queue.length >= limit) {
      dropped = this.queue.length + 1;
      this.dropped += dropped;
      this.queue.length = 0;
      this.resync = true;
    } else if (!this.resync) {
      this.queue.push(event);
    } else {
      dropped = 1;
      this.dropped++;
    }
    this.#wakeUp();
    return dropped;
  }

  #wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Ends the stream. */
  close(): void {
    this.closed = true;
    this.#wakeUp();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<SseEvent> {
    try {
      while (!this.closed) {
        if (this.resync) {
          this.resync = false;
          yield this.#feed.snapshotEvent();
          continue;
        }
        const next = this.queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      this.#feed.detach(this);
    }
  }
}

/** @internal */
export class ConsoleFeed {
  readonly #sampler: Sampler;
  readonly #http: HttpStats;
  readonly #timers: TimerDriver;
  readonly #options: ResolvedConsoleOptions;
  readonly #report: unknown;
  readonly #clients = new Set<FeedClient>();
  #frames: Frame[] = [];
  #state: ConsoleState | undefined;
  #seq = 0;
  #timer = -1;
  #dropped = 0;
  #tickMs = 0;
  #closed = false;

  readonly #stopWhen: () => boolean;

  /** `stopWhen` is asked at each tick: true (the runtime is shutting down) ends every stream. */
  constructor(sampler: Sampler, http: HttpStats, timers: TimerDriver, options: ResolvedConsoleOptions, report: unknown, stopWhen: () => boolean = () => false) {
    this.#stopWhen = stopWhen;
    this.#sampler = sampler;
    this.#http = http;
    this.#timers = timers;
    this.#options = options;
    this.#report = report;
  }

  /** Stream clients connected now. */
  get clients(): number {
    return this.#clients.size;
  }

  /** Frames dropped for slow clients so far. */
  get dropped(): number {
    return this.#dropped;
  }

  /** The sequence number of the newest state. */
  get seq(): number {
    return this.#seq;
  }

  /** Main-thread time of the last tick (sample + diff + serialise), in ms. */
  get tickMs(): number {
    return this.#tickMs;
  }

  /** The newest state, sampling one now when no client keeps the feed ticking. */
  snapshot(): ConsoleState {
    if (this.#state === undefined || this.#clients.size === 0) this.tick();
    return this.#state!;
  }

  /** The `snapshot` event a client gets after it dropped frames. */
  snapshotEvent(): SseEvent {
    const state = this.#state!;
    return { event: 'snapshot', id: state.seq, data: JSON.stringify(state) };
  }

  /**
   * Connects a stream client. `lastEventId` (from `Last-Event-ID`) resumes: when every frame
   * after it is still kept, the client gets a `hello` without state and those frames;
   * otherwise a `hello` with the whole state. Returns undefined at `maxClients`.
   */
  attach(lastEventId: number | undefined): FeedClient | undefined {
    if (this.#closed || this.#clients.size >= this.#options.maxClients) return undefined;
    // Start (and take the first sample) before the client joins, so its hello comes first.
    const first = this.#clients.size === 0;
    if (first) this.#start();
    const client = new FeedClient(this);
    this.#clients.add(client);
    if (first) this.#schedule();
    const current = this.#state!;
    const oldest = this.#frames.length === 0 ? current.seq + 1 : this.#frames[0]!.seq;
    const resumable = lastEventId !== undefined && lastEventId <= current.seq && lastEventId >= oldest - 1;
    const hello: ConsoleHello = resumable
      ? { schema: CONSOLE_SCHEMA, seq: current.seq, report: this.#report, resumedFrom: lastEventId }
      : { schema: CONSOLE_SCHEMA, seq: current.seq, report: this.#report, state: current };
    client.queue.push({ event: 'hello', id: current.seq, data: JSON.stringify(hello) });
    if (resumable) {
      for (const frame of this.#frames) if (frame.seq > lastEventId) client.queue.push({ event: 'update', id: frame.seq, data: frame.json });
    }
    return client;
  }

  /** @internal Called when a client's stream ends. */
  detach(client: FeedClient): void {
    if (!this.#clients.delete(client)) return;
    if (this.#clients.size === 0) this.#stop();
  }

  #start(): void {
    this.#sampler.start();
    this.#http.install();
    this.tick();
  }

  #stop(): void {
    if (this.#timer >= 0) this.#timers.cancel(this.#timer);
    this.#timer = -1;
    this.#http.uninstall();
    this.#sampler.stop();
  }

  #schedule(): void {
    if (this.#closed || this.#clients.size === 0) return;
    // unref: an open console never keeps the process alive by itself.
    this.#timer = this.#timers.add(this.#timers.clock.now() + this.#options.intervalMs, this.#onTimer, true);
  }

  readonly #onTimer = (): void => {
    this.#timer = -1;
    if (this.#clients.size === 0) return;
    if (this.#stopWhen()) {
      // The runtime is shutting down: end the streams so that it does not wait for them.
      this.close();
      return;
    }
    this.tick();
    this.#schedule();
  };

  /** Samples, diffs and sends one frame. Returns the frame's update. */
  tick(): ConsoleUpdate | undefined {
    const started = performance.now();
    const seq = ++this.#seq;
    const state = this.#sampler.sample(seq, this.#timers.clock.now(), {
      clients: this.#clients.size,
      dropped: this.#dropped,
      tickMs: this.#tickMs,
      intervalMs: this.#options.intervalMs,
    });
    const previous = this.#state;
    this.#state = state;
    if (previous === undefined) {
      this.#tickMs = performance.now() - started;
      return undefined;
    }
    const update = diffStates(previous, state, this.#sampler.lastTaskChange);
    const frame: Frame = { seq, update, json: JSON.stringify(update) };
    this.#frames.push(frame);
    if (this.#frames.length > this.#options.retention.frames) this.#frames.splice(0, this.#frames.length - this.#options.retention.frames);
    const event: SseEvent = { event: 'update', id: seq, data: frame.json };
    for (const client of this.#clients) this.#dropped += client.push(event, this.#options.retention.clientFrames);
    this.#tickMs = Math.round((performance.now() - started) * 1000) / 1000;
    return update;
  }

  /** Frames kept for resuming (oldest first), for tests and recording. */
  frames(): readonly ConsoleUpdate[] {
    return this.#frames.map((f) => f.update);
  }

  /** Ends every stream and stops ticking. */
  close(): void {
    this.#closed = true;
    for (const client of [...this.#clients]) client.close();
    this.#clients.clear();
    this.#stop();
  }
}
