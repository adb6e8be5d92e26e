/**
 * The `remote` runtime part (internal): `rt.remote` on a runtime built with
 * `.distributed(...)`.
 *
 * Implementation note. `composeParts` builds it only when the config has `distributed`.
 * The client (and BullMQ and ioredis) is imported on the first call, not when the runtime is built;
 * shutdown rejects the pending calls with `RuntimeClosedError` and closes the Redis
 * connections. A call made once shutdown has begun rejects at once.
 */
import { RuntimeClosedError } from '../errors.js';
import type { PartHost, RuntimePart } from '../runtime/part.js';
import type { TaskRef } from '../scheduler/task-ref.js';
import type { DistributedConfig } from './options.js';
import type { RemoteClient, RemoteMetrics, RemoteTasks } from './remote-client.js';

/** @internal */
export class RemotePart implements RuntimePart {
  readonly name = 'remote';
  /** What `rt.remote` returns. */
  readonly tasks: RemoteTasks;
  readonly #host: PartHost;
  readonly #config: DistributedConfig;
  #client: Promise<RemoteClient> | undefined;
  #loaded: RemoteClient | undefined;

  constructor(host: PartHost, config: DistributedConfig) {
    this.#host = host;
    this.#config = config;
    this.tasks = {
      // Once loaded, straight to the client: a pending call holds no promise of its own here.
      exec: ((...call: unknown[]) => {
        const loaded = this.#loaded;
        return loaded !== undefined && !this.#host.closed ? loaded.exec(call) : this.#load().then((c) => c.exec(call));
      }) as RemoteTasks['exec'],
      map: ((ref: TaskRef, inputs: Iterable<unknown>, options?: object) => this.#load().then((c) => c.map(ref, inputs, options))) as RemoteTasks['map'],
      metrics: () => this.#loaded?.metrics() ?? { submitted: 0, pending: 0, fromEvents: 0, fromPolls: 0 },
    };
  }

  #load(): Promise<RemoteClient> {
    if (this.#host.closed) return Promise.reject(new RuntimeClosedError('runtime is shut down: cannot submit remote tasks'));
    return (this.#client ??= import('./remote-client.js').then(({ RemoteClient }) => (this.#loaded = new RemoteClient(this.#config))));
  }

  /** Undefined (left out of `rt.metrics()`) until the first call. */
  metrics(): RemoteMetrics | undefined {
    return this.#loaded?.metrics();
  }

  async shutdown(timeoutMs: number): Promise<void> {
    const client = this.#client;
    if (client === undefined) return;
    const c = await client.catch(() => undefined);
    await c?.close(timeoutMs);
  }
}
