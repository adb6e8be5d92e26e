/**
 * The I/O driver: one per runtime, the runtime part named `io`.
 *
 * Implementation note. The composition function builds the driver with the runtime
 * (`build()` / `createRuntime`): it resolves the configured backend (`auto` → `node` when
 * libuv is reachable, else `memory`), and throws `ConfigError` naming the alternatives
 * when the requested one cannot run here. It holds the per-runtime fs concurrency
 * limiter, the memory backend's state (created on first use), and the servers and signal
 * handlers that shutdown must close. `zokio/fs`, `zokio/net` and `zokio/http` reach it
 * through `ioDriver()` in `driver.ts`, which reads the current runtime from the context.
 *
 * @module
 */
import type { Duplex } from 'node:stream';
import { ConfigError } from '../errors.js';
import type { PartHost, RuntimePart } from '../runtime/part.js';
import { timerDriverOf } from '../scheduler/timer-driver.js';
import type { FsBackend } from './fs/backend.js';
import { MemoryFileSystem } from './fs/memory-fs.js';
import { nodeFs } from './fs/node-fs.js';
import { Limiter, type LimiterMetrics } from './limiter.js';
import type { NetBackend } from './net/backend.js';
import { MemoryNetwork } from './net/memory-net.js';
import { nodeNet } from './net/node-net.js';

/** The backends a runtime can run on. */
export type IoBackendKind = 'node' | 'memory';

/** Default number of fs operations one runtime runs at once (libuv's pool is 4 threads; queued work waits in libuv otherwise). */
export const DEFAULT_FS_CONCURRENCY = 64;

/** Something shutdown must close first (servers, listeners). */
export interface IoCloseable {
  close(): Promise<void>;
}

/** Counters of the I/O driver, in `rt.metrics().io`. */
export interface IoMetrics {
  readonly backend: IoBackendKind;
  /** The fs concurrency limiter. */
  readonly fs: LimiterMetrics & { readonly ops: number; readonly retries: number };
  /** Open servers and listeners. */
  readonly servers: number;
}

/** Why a backend cannot run in this process, or undefined when it can. */
export type BackendProbe = (backend: IoBackendKind) => string | undefined;

function defaultProbe(backend: IoBackendKind): string | undefined {
  if (backend === 'memory') return undefined;
  const versions = typeof process === 'undefined' ? undefined : process.versions;
  if (typeof versions?.node !== 'string' || typeof versions.uv !== 'string') return 'libuv (node:fs, node:net) is not available in this process';
  return undefined;
}

let probe: BackendProbe = defaultProbe;

/** @internal Replaces the availability probe (tests simulate a platform without libuv). Returns the previous one. */
export function setBackendProbe(next: BackendProbe | undefined): BackendProbe {
  const previous = probe;
  probe = next ?? defaultProbe;
  return previous;
}

/** @internal The `io` part of a runtime. */
export class IoDriver implements RuntimePart {
  readonly name = 'io';
  readonly backend: IoBackendKind;
  readonly fsLimiter = new Limiter(DEFAULT_FS_CONCURRENCY);
  readonly closeables = new Set<IoCloseable>();
  /** Connected and accepted streams still open; shutdown closes them after the listeners. */
  readonly #streams = new Set<IoCloseable>();
  readonly #shutdownHooks = new Set<() => void>();
  #memoryFs: MemoryFileSystem | undefined;
  #memoryNet: MemoryNetwork | undefined;
  readonly #runtime: PartHost;
  fsOps = 0;
  fsRetries = 0;

  /** `runtime`: the owner, whose timers the memory network's socket timeouts run on. */
  constructor(requested: 'auto' | 'node' | 'memory', runtime: PartHost) {
    this.#runtime = runtime;
    if (requested === 'auto') {
      this.backend = probe('node') === undefined ? 'node' : 'memory';
    } else {
      const reason = probe(requested);
      if (reason !== undefined) {
        const others = (['auto', 'node', 'memory'] as const).filter((b) => b !== requested && (b === 'auto' || probe(b) === undefined));
        throw new ConfigError('io', `io backend '${requested}' cannot run here: ${reason}; use ${others.map((b) => `'${b}'`).join(' or ')}`, requested);
      }
      this.backend = requested;
    }
  }

  /** The file-system backend. */
  get fs(): FsBackend {
    if (this.backend === 'node') return nodeFs;
    return (this.#memoryFs ??= new MemoryFileSystem());
  }

  /** The network backend. */
  get net(): NetBackend {
    if (this.backend === 'node') return nodeNet;
    if (this.#memoryNet === undefined) {
      const runtime = this.#runtime;
      this.#memoryNet = new MemoryNetwork(() => timerDriverOf(runtime));
    }
    return this.#memoryNet;
  }

  /** The memory file system (created on first use); undefined on the node backend. */
  get memoryFs(): MemoryFileSystem | undefined {
    return this.backend === 'memory' ? (this.fs as MemoryFileSystem) : undefined;
  }

  /** The memory network (created on first use); undefined on the node backend. */
  get memoryNet(): MemoryNetwork | undefined {
    return this.backend === 'memory' ? (this.net as MemoryNetwork) : undefined;
  }

  /** Registers something to run at shutdown (signal listeners); returns its remover. */
  onShutdown(hook: () => void): () => void {
    this.#shutdownHooks.add(hook);
    return () => this.#shutdownHooks.delete(hook);
  }

  /** Closes every open server and listener gracefully. */
  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.closeables].map((c) => c.close()));
  }

  /** Holds `stream` (over `socket`) until its socket closes, so that shutdown closes it if its owner did not. */
  trackStream(stream: IoCloseable, socket: Duplex): void {
    this.#streams.add(stream);
    socket.once('close', () => this.#streams.delete(stream));
  }

  metrics(): IoMetrics {
    return {
      backend: this.backend,
      fs: { ...this.fsLimiter.metrics(), ops: this.fsOps, retries: this.fsRetries },
      servers: this.closeables.size,
    };
  }

  async shutdown(): Promise<void> {
    for (const hook of [...this.#shutdownHooks]) hook();
    this.#shutdownHooks.clear();
    await this.closeAll();
    // A stream left open would keep the process alive after shutdown. Each close is
    // bounded: it destroys a socket whose unsent bytes the peer is not reading.
    await Promise.allSettled([...this.#streams].map((s) => s.close()));
  }
}
