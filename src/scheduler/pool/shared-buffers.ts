/**
 * The side table that lets `SharedArrayBuffer`s travel inside task arguments and results.
 *
 * Implementation note. `v8.Serializer` can write a `SharedArrayBuffer` only as an id that
 * Node's `v8.Deserializer` cannot read back, and task records hold bytes, not handles.
 * So a buffer gets a pool-wide id (a counter in the pool header) the first time a thread
 * sends it; the thread posts `{ id, sab }` once on a `BroadcastChannel` that every pool
 * thread joined (posting a SAB shares it, nothing is copied) and from then on only the id
 * travels. A receiver that meets an unknown id drains the channel synchronously with
 * `receiveMessageOnPort` until the id appears: the sender posted before it published the
 * record with an atomic store, so the message is already in the receiver's queue.
 *
 * Payloads too big for a record's inline bytes travel in a one-shot buffer sent the same
 * way; its first word is a "consumed" flag that its reader sets, and every thread drops
 * consumed one-shot buffers from its table the next time it drains the channel.
 * Buffers passed by the application stay in the table of every thread until the pool
 * shuts down (they are usually long-lived shared objects).
 *
 * @module
 */
import { BroadcastChannel, receiveMessageOnPort } from 'node:worker_threads';
import { H_NEXT_SAB_ID } from './layout.js';

interface SabMessage {
  readonly id: number;
  readonly sab: SharedArrayBuffer;
  readonly oneShot: boolean;
}

/** Offset (bytes) of the data in a one-shot payload buffer; word 0 is the consumed flag, word 1 the length. */
export const ONE_SHOT_HEADER = 8;

/** One thread's view of the pool-wide buffer table. */
export class SharedBufferTable {
  readonly #header: Int32Array;
  readonly #channel: BroadcastChannel;
  readonly #byId = new Map<number, SharedArrayBuffer>();
  readonly #ids = new WeakMap<SharedArrayBuffer, number>();
  readonly #oneShots = new Set<number>();

  /** Joins the channel `name`; `header` is the pool's Int32 view (for the id counter). */
  constructor(header: Int32Array, name: string) {
    this.#header = header;
    this.#channel = new BroadcastChannel(name);
    (this.#channel as unknown as { unref?: () => void }).unref?.();
  }

  /** The pool-wide id of `sab`, announcing it to every thread the first time. */
  idOf(sab: SharedArrayBuffer): number {
    let id = this.#ids.get(sab);
    if (id === undefined) {
      id = Atomics.add(this.#header, H_NEXT_SAB_ID, 1) + 1;
      this.#ids.set(sab, id);
      this.#byId.set(id, sab);
      this.#channel.postMessage({ id, sab, oneShot: false } satisfies SabMessage);
    }
    return id;
  }

  /** Puts `bytes` in a new one-shot buffer, announces it, and returns its id. */
  sendOneShot(bytes: Uint8Array): number {
    const sab = new SharedArrayBuffer(ONE_SHOT_HEADER + bytes.byteLength);
    new Uint8Array(sab, ONE_SHOT_HEADER).set(bytes);
    new Int32Array(sab, 0, 2)[1] = bytes.byteLength;
    const id = Atomics.add(this.#header, H_NEXT_SAB_ID, 1) + 1;
    this.#channel.postMessage({ id, sab, oneShot: true } satisfies SabMessage);
    return id;
  }

  /** Reads a one-shot buffer's bytes (a private copy) and marks it consumed. */
  takeOneShot(id: number): Uint8Array {
    const sab = this.get(id);
    const words = new Int32Array(sab, 0, 2);
    const bytes = new Uint8Array(sab, ONE_SHOT_HEADER, words[1]).slice();
    Atomics.store(words, 0, 1);
    this.#byId.delete(id);
    this.#oneShots.delete(id);
    return bytes;
  }

  /** The buffer with pool-wide id `id`; drains the channel when it is not known yet. */
  get(id: number): SharedArrayBuffer {
    let sab = this.#byId.get(id);
    if (sab !== undefined) return sab;
    this.drain();
    sab = this.#byId.get(id);
    if (sab === undefined) throw new Error(`zokio pool: shared buffer #${id} was never announced to this thread`);
    return sab;
  }

  /** Receives every announced buffer and forgets one-shot buffers that were consumed. */
  drain(): void {
    for (;;) {
      const m = receiveMessageOnPort(this.#channel as never) as { message: SabMessage } | undefined;
      if (m === undefined) break;
      const { id, sab, oneShot } = m.message;
      this.#byId.set(id, sab);
      if (oneShot) this.#oneShots.add(id);
      else this.#ids.set(sab, id);
    }
    for (const id of this.#oneShots) {
      const sab = this.#byId.get(id);
      if (sab === undefined || Atomics.load(new Int32Array(sab, 0, 1), 0) === 1) {
        this.#oneShots.delete(id);
        this.#byId.delete(id);
      }
    }
  }

  /** Leaves the channel. */
  close(): void {
    this.#channel.close();
  }
}
