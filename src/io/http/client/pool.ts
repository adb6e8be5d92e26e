/**
 * The HTTP client's connection pools: one runtime part per runtime (internal).
 *
 * Implementation note. `composeParts` builds the part with every runtime; it holds one
 * undici `Agent` (a `Pool` per origin, each of `connections` sockets carrying `pipelining`
 * requests) per TLS option set: the runtime's plain agent, and one per `tls` object a
 * request passes (a `WeakMap`, so an options object that is dropped frees its agent once
 * idle). undici parses the responses (llhttp); Zokio writes no client parser.
 *
 * undici's own header and body timers are off: deadlines run on the runtime's timers
 * (`request.ts`), so a `VirtualClock` drives them. On the `node` backend the connector is
 * undici's (TCP or TLS, with its session cache); on `memory` it is a stream of the
 * runtime's in-memory loopback (with node:tls over it for `https:`), so a client and a
 * `serve()` on that backend talk without a real socket. Shutdown destroys every agent:
 * in-flight requests fail, sockets close.
 *
 * undici is imported on the first request (`undici.ts`), not with `zokio/http` and not by
 * this part: a program that only serves never loads it, and a bundle of an application
 * that sends no request does not contain it.
 */
import type { Duplex } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import type { Agent, Dispatcher, buildConnector } from 'undici';
import type { Undici } from './undici.js';
import type { PartHost, RuntimePart } from '../../../runtime/part.js';
import type { IoDriver } from '../../io-driver.js';
import { contextStorage } from '../../../runtime/context.js';
import { handshake } from '../../net/tls-handshake.js';

/** TLS options of a request: node:tls's (`ca`, `cert`, `key`, `servername`, `rejectUnauthorized`). */
export type ClientTlsOptions = Pick<ConnectionOptions, 'ca' | 'cert' | 'key' | 'servername' | 'rejectUnauthorized' | 'passphrase' | 'pfx'>;

/** Counters of the HTTP client, under `rt.metrics()` parts. */
export interface HttpClientMetrics {
  /** Requests started since the runtime started (each retry counts). */
  readonly requests: number;
  /** Requests retried. */
  readonly retries: number;
  /** Requests in flight now. */
  readonly inFlight: number;
  /** Agents (one per TLS option set) alive. */
  readonly agents: number;
}

/** @internal The `http-client` part of a runtime. */
export class HttpClientPart implements RuntimePart {
  readonly name = 'http-client';
  readonly #runtime: PartHost;
  #plain: Agent | undefined;
  readonly #tls = new WeakMap<object, Agent>();
  readonly #all = new Set<Agent>();
  requests = 0;
  retries = 0;
  inFlight = 0;

  constructor(runtime: PartHost) {
    this.#runtime = runtime;
  }

  /** The agent for requests with these TLS options (none: the plain agent), made with `u` (the loaded undici). */
  agent(u: Undici, tls: ClientTlsOptions | undefined): Dispatcher {
    if (tls === undefined) return (this.#plain ??= this.#create(u, undefined));
    let agent = this.#tls.get(tls);
    if (agent === undefined) {
      agent = this.#create(u, tls);
      this.#tls.set(tls, agent);
    }
    return agent;
  }

  #create({ Agent, buildConnector }: Undici, tls: ClientTlsOptions | undefined): Agent {
    const { connections, pipelining, keepAliveTimeoutMs, connectTimeoutMs } = this.#runtime.config.http;
    const driver = this.#runtime.part<IoDriver>('io')!; // built before this part (compose.ts)
    const connect = driver.backend === 'node' ? buildConnector({ ...tls, timeout: connectTimeoutMs }) : memoryConnector(driver, tls);
    const agent = new Agent({
      connections,
      pipelining,
      keepAliveTimeout: keepAliveTimeoutMs,
      keepAliveMaxTimeout: Math.max(keepAliveTimeoutMs, 600_000),
      headersTimeout: 0,
      bodyTimeout: 0,
      allowH2: false,
      connect,
    });
    this.#all.add(agent);
    return agent;
  }

  /** Undefined (left out of `rt.metrics()`) until the client is used. */
  metrics(): HttpClientMetrics | undefined {
    if (this.requests === 0 && this.#all.size === 0) return undefined;
    return { requests: this.requests, retries: this.retries, inFlight: this.inFlight, agents: this.#all.size };
  }

  async shutdown(): Promise<void> {
    const agents = [...this.#all];
    this.#all.clear();
    this.#plain = undefined;
    await Promise.allSettled(agents.map((a) => a.destroy()));
  }
}

/**
 * A connector over the runtime's in-memory loopback (the `memory` backend); for `https:`
 * the TLS handshake runs over the in-memory connection, as `TcpStream.connect({ tls })`
 * does there.
 */
function memoryConnector(driver: IoDriver, tls: ClientTlsOptions | undefined): buildConnector.connector {
  return (options, callback) => {
    const secure = options.protocol === 'https:';
    const port = Number(options.port || (secure ? 443 : 80));
    const host = options.hostname;
    driver.net
      .connect(host, port, undefined)
      .then((raw): Duplex | Promise<Duplex> => (secure ? handshake({ servername: options.servername ?? undefined, ...tls, host, port, socket: raw }, undefined) : raw))
      .then(
        (socket) => {
          // undici refs/unrefs its sockets; an in-memory stream holds no handle.
          const s = socket as unknown as Record<string, unknown>;
          s.ref ??= () => socket;
          s.unref ??= () => socket;
          s.setKeepAlive ??= () => socket;
          s.setNoDelay ??= () => socket;
          callback(null, socket as never);
        },
        (err: Error) => callback(err, null),
      );
  };
}

/**
 * @internal The signal of the scope the caller runs in (a scope's failure or abort stops
 * its requests), or undefined at the top level of `rt.run` and in `serve()` handlers: there
 * the runtime's shutdown stops requests by destroying the pools, without a listener per
 * request on the runtime's signal.
 */
export function scopeSignal(runtime: object): AbortSignal | undefined {
  const signal = (contextStorage.getStore() as { signal?: AbortSignal } | undefined)?.signal;
  return signal === undefined || signal === (runtime as PartHost).signal ? undefined : signal;
}

/** @internal The HTTP client part of `runtime`, created on first use. */
export function httpClientOf(runtime: object): HttpClientPart {
  const part = (runtime as PartHost).part<HttpClientPart>('http-client');
  if (part === undefined) throw new Error('zokio: this runtime has no HTTP client part');
  return part;
}
