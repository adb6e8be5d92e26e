/**
 * The `pool` part of a runtime built with `.workers(n)`: the work-stealing pool behind
 * `rt.exec` and `rt.map`.
 *
 * Implementation note. Building the part creates nothing: the pool engine (`WorkerPool`,
 * with its SharedArrayBuffer and its workers) is created on the first `exec` or `map`, so
 * a runtime that never runs a worker task starts no thread. Its counters show in
 * `rt.metrics().pool` from then on.
 *
 * @module
 */
import { RuntimeClosedError } from '../../errors.js';
import type { ResolvedConfig } from '../../runtime/config.js';
import type { ParallelEngine } from '../../runtime/parallel.js';
import type { PartHost, RuntimePart } from '../../runtime/part.js';
import { createWorkerPool } from './worker-pool.js';

/** @internal The `pool` part: creates the work-stealing pool on first use. */
export class PoolPart implements RuntimePart {
  readonly name = 'pool';
  readonly #config: ResolvedConfig;
  readonly #host: PartHost;
  #engine: ParallelEngine | undefined;

  constructor(config: ResolvedConfig, host: PartHost) {
    this.#config = config;
    this.#host = host;
  }

  /**
   * The pool engine, created on first use (its workers start on its first task).
   * @throws RuntimeClosedError once the runtime is shut down.
   */
  engine(): ParallelEngine {
    if (this.#engine === undefined) {
      if (this.#host.closed) throw new RuntimeClosedError('runtime is shut down: cannot run worker tasks');
      this.#engine = createWorkerPool(this.#config, this.#host);
    }
    return this.#engine;
  }

  metrics(): unknown {
    return this.#engine?.metrics().pool;
  }

  async shutdown(timeoutMs: number, force?: boolean): Promise<void> {
    await this.#engine?.shutdown(timeoutMs, force);
  }
}
