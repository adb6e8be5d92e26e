/**
 * The side table that lets application `SharedArrayBuffer`s travel inside task arguments
 * and results.
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
 * go back to the main thread but not straight to another worker. Buffers stay in every
 * table until the pool shuts down (they are usually long-lived shared objects).
 *
 * @module
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { H_NEXT_SAB_ID } from './layout.js';

interface SabMessage {
  readonly id: number;
  readonly sab: SharedArrayBuffer;
}

/** One thread's view of the pool-wide buffer table. */
export class SharedBufferTable {
  readonly #header: Int32Array;
  readonly #ports: Array<MessagePort | undefined>;
  readonly #byId = new Map<number, SharedArrayBuffer>();
  readonly #ids = new WeakMap<SharedArrayBuffer, number>();

  /** `ports`: on the main thread one per worker, on a worker `[toMain]`. */
  constructor(header: Int32Array, ports: Array<MessagePort | undefined>, known: ReadonlyArray<readonly [number, SharedArrayBuffer]> = []) {
    this.#header = header;
    this.#ports = ports;
    for (const port of ports) port?.unref();
    for (const [id, sab] of known) this.#remember(id, sab);
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
      id = Atomics.add(this.#header, H_NEXT_SAB_ID, 1) + 1;
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

  /** Receives every announced buffer. */
  drain(): void {
    for (const port of this.#ports) {
      if (port === undefined) continue;
      for (;;) {
        const m = receiveMessageOnPort(port) as { message: SabMessage } | undefined;
        if (m === undefined) break;
        this.#remember(m.message.id, m.message.sab);
      }
    }
  }

  /** Closes the ports. */
  close(): void {
    for (const port of this.#ports) port?.close();
  }
}
