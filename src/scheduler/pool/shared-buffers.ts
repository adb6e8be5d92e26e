/**
 * The side table that lets `SharedArrayBuffer`s travel between the pool's threads: the
 * application's buffers inside task arguments and results, and (memory strategy `heap`)
 * the one-payload buffers of main-thread task records.
 *
 * Implementation note. `v8.Serializer` can write a `SharedArrayBuffer` only as an id that
 * Node's `v8.Deserializer` cannot read back, and task records hold bytes, not handles.
 * So a buffer gets a pool-wide id (a counter in the pool header) the first time a thread
 * sends it, and the thread posts `{ id, sab }` once on its `MessagePort`s (posting a SAB
 * shares it; nothing is copied). From then on only the id travels. A receiver that meets
 * an unknown id drains its ports synchronously with `receiveMessageOnPort`: the sender
 * posted before it published the record with an atomic store, and a `MessagePort` queues
 * a message at once on post (a `BroadcastChannel` does not, which is why this uses ports).
 *
 * The ports form a star: the main thread holds one port per worker, each worker one port
 * to the main thread. The main thread announces a buffer to every worker; a worker
 * announces one it created to the main thread only, so a buffer created on a worker can
 * go back to the main thread but not straight to another worker. Application buffers stay
 * in every table until the pool shuts down (they are usually long-lived shared objects).
 *
 * Payload buffers (`sendPayload`) are one-shot: a payload too long for a record's inline
 * bytes, in a SharedArrayBuffer of its own, posted as `{ id, sab, rec }` where `rec` is
 * the word offset of the record whose `R_PAYLOAD_SAB` word holds `id` while the payload
 * is unread. Only main-thread records use them, so the star is enough: arguments go from
 * the main thread to every worker (any worker may run the record), results from the
 * running worker to the main thread. A payload is live while its record's `R_PAYLOAD_SAB`
 * word equals its id (ids are never reused; the reader, or whoever discards the payload,
 * stores 0 there with `Atomics`), and a table keeps only live payloads:
 *
 * ```
 *  writer: store id → R_PAYLOAD_SAB, post {id, sab, rec}, publish the record (state word)
 *  reader: takePayload(id): table hit, or drain the ports (the message is there) and take;
 *          then store 0 → R_PAYLOAD_SAB
 *  every drain: a received payload whose R_PAYLOAD_SAB no longer holds its id is dropped,
 *          and so is every table entry whose record moved on (read elsewhere, discarded)
 * ```
 *
 * A worker drains when it misses and before it parks; the main thread drains when it
 * misses and when the pool goes idle, and then wakes each parked worker whose table still
 * holds payload buffers (each worker publishes its count in its control block), so that
 * it drains again. A thread's table thus holds at most the payloads that were live at its
 * last drain (a busy worker's port queue also holds the messages posted while it runs one
 * task), and the tables empty soon after the pool goes idle. The main thread also keeps
 * the argument buffers it sent until their records complete (`forgetSent`), to hand the
 * live ones to a replacement worker, which did not have a port when they were posted.
 *
 * @module
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { H_NEXT_PAYLOAD_ID, H_NEXT_SAB_ID, R_PAYLOAD_SAB } from './layout.js';

interface SabMessage {
  readonly id: number;
  readonly sab: SharedArrayBuffer;
  /** Payload buffers only: word offset of the record that carries the payload. */
  readonly rec?: number;
}

/**
 * A payload that travels as a message, to one thread only, so that ArrayBuffers can be
 * transferred (`rt.exec({ transfer })`, a task's `move(value, transferList)`): `value` is
 * the argument list or the result, live while the record's `R_PAYLOAD_SAB` word holds
 * `id`. `pin`: the record index, for argument messages (the record is on no queue: only
 * the receiving worker may run it, see `pool-worker.ts`).
 */
interface ValueMessage {
  readonly id: number;
  readonly rec: number;
  readonly value: unknown;
  readonly pin?: number;
}

/** A payload buffer and the record (word offset) it belongs to. */
interface Payload {
  readonly rec: number;
  readonly sab: SharedArrayBuffer;
}

/** A live payload buffer for a replacement worker's start-up data: `[id, rec, sab]`. */
export type PayloadEntry = readonly [id: number, rec: number, sab: SharedArrayBuffer];

/** How a thread's table starts. */
export interface BufferTableOptions {
  /** True on the main thread (it keeps the argument payloads it sends, see `forgetSent`). */
  readonly main?: boolean;
  /** Application buffers a replacement worker starts with. */
  readonly known?: ReadonlyArray<readonly [number, SharedArrayBuffer]>;
  /** Live payload buffers a replacement worker starts with. */
  readonly payloads?: readonly PayloadEntry[];
  /** Where a worker publishes how many payload buffers its table holds (-1: nowhere). */
  readonly countWord?: number;
}

/** One thread's view of the pool-wide buffer table. */
export class SharedBufferTable {
  readonly #pool: Int32Array;
  readonly #ports: Array<MessagePort | undefined>;
  readonly #byId = new Map<number, SharedArrayBuffer>();
  readonly #ids = new WeakMap<SharedArrayBuffer, number>();
  /** Live payload buffers received on this thread, by payload id. */
  readonly #payloads = new Map<number, Payload>();
  /** Main thread: argument payloads sent and not yet completed, by record word offset. */
  readonly #sent = new Map<number, { readonly id: number; readonly sab: SharedArrayBuffer }>();
  /** Live message payloads received on this thread, by payload id. */
  readonly #messages = new Map<number, { readonly rec: number; readonly value: unknown }>();
  /** Records pinned to this thread (a worker) that it has received and not taken yet. */
  readonly #pinned: number[] = [];
  readonly #main: boolean;
  /** Word of the pool memory where this thread publishes `#payloads.size` (-1: none). */
  readonly #countWord: number;

  /** `pool`: the pool's shared memory; `ports`: on the main thread one per worker, on a worker `[toMain]`. */
  constructor(pool: Int32Array, ports: Array<MessagePort | undefined>, options: BufferTableOptions = {}) {
    this.#pool = pool;
    this.#ports = ports;
    this.#main = options.main ?? false;
    this.#countWord = options.countWord ?? -1;
    for (const port of ports) port?.unref();
    for (const [id, sab] of options.known ?? []) this.#remember(id, sab);
    for (const [id, rec, sab] of options.payloads ?? []) this.#receivePayload(id, rec, sab);
    this.#publishCount();
  }

  /** Main thread: the port to worker `w` changed (a replacement worker). */
  setPort(w: number, port: MessagePort): void {
    port.unref();
    this.#ports[w] = port;
  }

  /** Every buffer this thread knows, for a replacement worker's start-up data. */
  entries(): Array<[number, SharedArrayBuffer]> {
    this.drain();
    return [...this.#byId];
  }

  #remember(id: number, sab: SharedArrayBuffer): void {
    this.#byId.set(id, sab);
    this.#ids.set(sab, id);
  }

  /** The pool-wide id of `sab`, announcing it on every port the first time. */
  idOf(sab: SharedArrayBuffer): number {
    let id = this.#ids.get(sab);
    if (id === undefined) {
      id = Atomics.add(this.#pool, H_NEXT_SAB_ID, 1) + 1;
      this.#remember(id, sab);
      for (const port of this.#ports) port?.postMessage({ id, sab } satisfies SabMessage);
    }
    return id;
  }

  /** The buffer with pool-wide id `id`; drains the ports when it is not known yet. */
  get(id: number): SharedArrayBuffer {
    let sab = this.#byId.get(id);
    if (sab !== undefined) return sab;
    this.drain();
    sab = this.#byId.get(id);
    if (sab === undefined) {
      throw new Error(`zokio pool: shared buffer #${id} is unknown on this thread (a SharedArrayBuffer created on a worker can be sent to the main thread, not to another worker)`);
    }
    return sab;
  }

  // ── payload buffers ─────────────────────────────────────────────────────────────

  /**
   * Gives `sab` a new payload id, stores the id in the `R_PAYLOAD_SAB` word of the record
   * at word offset `rec` and posts the buffer on every port (call it before the record is
   * published). On the main thread the buffer is also kept until {@link forgetSent}.
   */
  sendPayload(rec: number, sab: SharedArrayBuffer): number {
    let id = Atomics.add(this.#pool, H_NEXT_PAYLOAD_ID, 1) + 1;
    if (id === 0) id = Atomics.add(this.#pool, H_NEXT_PAYLOAD_ID, 1) + 1; // 0 means "no payload"
    Atomics.store(this.#pool, rec + R_PAYLOAD_SAB, id);
    if (this.#main) this.#sent.set(rec, { id, sab });
    for (const port of this.#ports) port?.postMessage({ id, sab, rec } satisfies SabMessage);
    return id;
  }

  /**
   * Takes the payload buffer `id` out of the table (draining the ports when it has not
   * arrived yet); the caller then stores 0 in the record's `R_PAYLOAD_SAB` word.
   */
  takePayload(id: number): SharedArrayBuffer {
    let entry = this.#payloads.get(id);
    if (entry === undefined) {
      this.drain();
      entry = this.#payloads.get(id);
      if (entry === undefined) throw new Error(`zokio pool: payload buffer #${id} is unknown on this thread`);
    }
    this.#payloads.delete(id);
    this.#publishCount();
    return entry.sab;
  }

  /** Forgets payload `id` if this table holds it (the payload was discarded unread). */
  dropPayload(id: number): void {
    if (this.#payloads.delete(id)) this.#publishCount();
  }

  /** Main thread: the record at word offset `rec` completed; its argument buffer is no longer needed here. */
  forgetSent(rec: number): void {
    if (this.#sent.size > 0) this.#sent.delete(rec);
  }

  /** Main thread: the argument payloads still unread, for a replacement worker. */
  sentPayloads(): PayloadEntry[] {
    const out: PayloadEntry[] = [];
    for (const [rec, { id, sab }] of this.#sent) {
      if (Atomics.load(this.#pool, rec + R_PAYLOAD_SAB) === id) out.push([id, rec, sab]);
    }
    return out;
  }

  // ── message payloads (transfers) ─────────────────────────────────────────────────

  /**
   * Posts `value` on port `to` (a worker's index on the main thread, 0 on a worker) with
   * `transfer` moved, under a new payload id stored in the record's `R_PAYLOAD_SAB` word
   * (call it before the record is published). `pin`: the record index, for arguments.
   * Throws what `postMessage` throws (a value it cannot clone), leaving the word as it was.
   */
  sendMessage(to: number, rec: number, value: unknown, transfer: readonly ArrayBuffer[], pin?: number): number {
    const port = this.#ports[to];
    if (port === undefined) throw new Error(`zokio pool: no port to thread ${to}`);
    let id = Atomics.add(this.#pool, H_NEXT_PAYLOAD_ID, 1) + 1;
    if (id === 0) id = Atomics.add(this.#pool, H_NEXT_PAYLOAD_ID, 1) + 1;
    const message: ValueMessage = pin === undefined ? { id, rec, value } : { id, rec, value, pin };
    // The id goes into the record before the message leaves: the receiver may drain its port
    // the moment the message is queued, and a drain drops every message whose record does
    // not hold its id (stale). Stored after the post, a drain in between dropped a live
    // message, and the pinned record then ran without its arguments ("payload #N is unknown
    // on this thread", seen in the scheduler bench's 1 MiB transfers).
    const before = Atomics.exchange(this.#pool, rec + R_PAYLOAD_SAB, id);
    try {
      port.postMessage(message, transfer as ArrayBuffer[]);
    } catch (err) {
      Atomics.store(this.#pool, rec + R_PAYLOAD_SAB, before);
      throw err;
    }
    return id;
  }

  /** Takes message payload `id` (draining the ports when it has not arrived yet). */
  takeMessage(id: number): unknown {
    let entry = this.#messages.get(id);
    if (entry === undefined) {
      this.drain();
      entry = this.#messages.get(id);
      if (entry === undefined) throw new Error(`zokio pool: message payload #${id} is unknown on this thread`);
    }
    this.#messages.delete(id);
    return entry.value;
  }

  /** Forgets message payload `id` if this table holds it (discarded unread). */
  dropMessage(id: number): void {
    this.#messages.delete(id);
  }

  /** A worker: the next record pinned to it, or -1 (drains its port first when it has none). */
  takePinned(): number {
    if (this.#pinned.length === 0) this.drain();
    return this.#pinned.length > 0 ? this.#pinned.shift()! : -1;
  }

  /** Payload buffers this thread holds now: received and unread, plus (main thread) sent and not completed. */
  get payloadCount(): number {
    return this.#payloads.size + this.#sent.size;
  }

  #receivePayload(id: number, rec: number, sab: SharedArrayBuffer): void {
    if (Atomics.load(this.#pool, rec + R_PAYLOAD_SAB) === id) this.#payloads.set(id, { rec, sab });
  }

  #publishCount(): void {
    if (this.#countWord >= 0) Atomics.store(this.#pool, this.#countWord, this.#payloads.size);
  }

  /** Receives every announced buffer, and drops payload buffers that are no longer live. */
  drain(): void {
    for (const port of this.#ports) {
      if (port === undefined) continue;
      for (;;) {
        const m = receiveMessageOnPort(port) as { message: SabMessage | ValueMessage } | undefined;
        if (m === undefined) break;
        const message = m.message;
        if ('value' in message) {
          this.#messages.set(message.id, { rec: message.rec, value: message.value });
          if (message.pin !== undefined) this.#pinned.push(message.pin);
          continue;
        }
        const { id, sab, rec } = message;
        if (rec === undefined) this.#remember(id, sab);
        else this.#receivePayload(id, rec, sab);
      }
    }
    if (this.#messages.size > 0) {
      for (const [id, { rec }] of this.#messages) {
        if (Atomics.load(this.#pool, rec + R_PAYLOAD_SAB) !== id) this.#messages.delete(id);
      }
    }
    if (this.#payloads.size > 0) {
      for (const [id, { rec }] of this.#payloads) {
        if (Atomics.load(this.#pool, rec + R_PAYLOAD_SAB) !== id) this.#payloads.delete(id);
      }
    }
    this.#publishCount();
  }

  /** Closes the ports and forgets every payload buffer. */
  close(): void {
    for (const port of this.#ports) port?.close();
    this.#payloads.clear();
    this.#messages.clear();
    this.#sent.clear();
    this.#publishCount();
  }
}
