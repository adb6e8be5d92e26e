/**
 * Options of `rt.console(...)` and the handle it returns, in three pieces (input, resolved,
 * defaults) like the runtime's own config.
 */
import { ConfigError } from '../errors.js';

/** How much the console keeps: every buffer it holds is bounded by one of these. */
export interface ConsoleRetention {
  /** Task rows kept and sent (live and recently ended tasks, newest first); the rest are counted. @default 2000 */
  readonly tasks?: number;
  /** Recent spans kept for the flame and `/api/v1/trace.json`. @default 2000 */
  readonly spans?: number;
  /** Update frames kept for clients that resume with `Last-Event-ID`. @default 120 */
  readonly frames?: number;
  /** Frames queued per client before a slow client starts dropping them. @default 8 */
  readonly clientFrames?: number;
  /** How long an ended task stays in the tree with its final state, in ms. @default 5000 */
  readonly endedMs?: number;
}

/** Options of `rt.console(...)`. */
export interface ConsoleOptions {
  /** Port; 0 picks a free one. @default 0 */
  readonly port?: number;
  /**
   * Address to listen on. Anything but a loopback address needs `token` (and
   * `allowRemote: true`), because the console would then be reachable from the network.
   * @default '127.0.0.1'
   */
  readonly host?: string;
  /** Listening on a non-loopback `host` is refused unless this is true. @default false */
  readonly allowRemote?: boolean;
  /** The access token (at least 16 characters). @default 32 random hex digits */
  readonly token?: string;
  /** Sampling interval while a client is connected, in ms (50..60000). @default 1000 */
  readonly intervalMs?: number;
  /** Stream clients at once; more get 503. @default 4 */
  readonly maxClients?: number;
  /** Bounds of what the console keeps. */
  readonly retention?: ConsoleRetention;
  /** Warning thresholds. */
  readonly warnings?: {
    /** Event-loop delay p99 over this is "event loop blocked", in ms. @default 100 */
    readonly loopDelayMs?: number;
    /** A synchronous stretch (loop delay max, or a worker span) over this is "long synchronous stretch", in ms. @default 50 */
    readonly longSyncMs?: number;
    /** Semaphore waiters that see no permit for this long are "starving", in ms. @default 5000 */
    readonly starvingMs?: number;
    /** Samples in a row an unbounded channel must grow to be "keeps growing". @default 5 */
    readonly growingSamples?: number;
  };
}

/** The resolved options: every field set. */
export interface ResolvedConsoleOptions {
  readonly port: number;
  readonly host: string;
  readonly token: string;
  readonly intervalMs: number;
  readonly maxClients: number;
  readonly retention: Required<ConsoleRetention>;
  readonly warnings: { readonly loopDelayMs: number; readonly longSyncMs: number; readonly starvingMs: number; readonly growingSamples: number };
}

/** The defaults of {@link ConsoleOptions}. */
export const CONSOLE_DEFAULTS = Object.freeze({
  port: 0,
  host: '127.0.0.1',
  intervalMs: 1000,
  maxClients: 4,
  retention: Object.freeze({ tasks: 2000, spans: 2000, frames: 120, clientFrames: 8, endedMs: 5000 }),
  warnings: Object.freeze({ loopDelayMs: 100, longSyncMs: 50, starvingMs: 5000, growingSamples: 5 }),
});

/** A running console. */
export interface RuntimeConsole extends AsyncDisposable {
  /** The page's address, token included: open it in a browser. */
  readonly url: string;
  /** The address without the token. */
  readonly origin: string;
  /** The access token (sent as `?token=` or `authorization: Bearer`). */
  readonly token: string;
  /** The port it listens on. */
  readonly port: number;
  /** Stops the server, ends every stream and stops sampling. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** True for the loopback addresses the console listens on without `allowRemote`. */
export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.');
}

function intIn(field: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`console.${field}`, `console.${field} must be an integer from ${min} to ${max}`, value);
  }
  return value;
}

/**
 * Checks and completes the options; `randomToken` makes the default token.
 * @throws ConfigError (code `ZOKIO_ERR_CONFIG`) naming the field and its rule.
 */
export function resolveConsoleOptions(options: ConsoleOptions | undefined, randomToken: () => string): ResolvedConsoleOptions {
  const o = options ?? {};
  const d = CONSOLE_DEFAULTS;
  const host = o.host ?? d.host;
  if (typeof host !== 'string' || host.length === 0) throw new ConfigError('console.host', 'console.host must be a non-empty string', host);
  if (o.token !== undefined && (typeof o.token !== 'string' || o.token.length < 16 || !/^[\x21-\x7e]+$/.test(o.token))) {
    throw new ConfigError('console.token', 'console.token must be at least 16 printable ASCII characters', o.token);
  }
  if (!isLoopback(host) && (o.allowRemote !== true || o.token === undefined)) {
    throw new ConfigError('console.host', 'console.host other than loopback needs allowRemote: true and an explicit token', host);
  }
  const r = o.retention ?? {};
  const w = o.warnings ?? {};
  return {
    port: intIn('port', o.port, 0, 65535, d.port),
    host,
    token: o.token ?? randomToken(),
    intervalMs: intIn('intervalMs', o.intervalMs, 50, 60_000, d.intervalMs),
    maxClients: intIn('maxClients', o.maxClients, 1, 64, d.maxClients),
    retention: {
      tasks: intIn('retention.tasks', r.tasks, 1, 1_000_000, d.retention.tasks),
      spans: intIn('retention.spans', r.spans, 0, 1_000_000, d.retention.spans),
      frames: intIn('retention.frames', r.frames, 1, 100_000, d.retention.frames),
      clientFrames: intIn('retention.clientFrames', r.clientFrames, 1, 10_000, d.retention.clientFrames),
      endedMs: intIn('retention.endedMs', r.endedMs, 0, 3_600_000, d.retention.endedMs),
    },
    warnings: {
      loopDelayMs: intIn('warnings.loopDelayMs', w.loopDelayMs, 1, 600_000, d.warnings.loopDelayMs),
      longSyncMs: intIn('warnings.longSyncMs', w.longSyncMs, 1, 600_000, d.warnings.longSyncMs),
      starvingMs: intIn('warnings.starvingMs', w.starvingMs, 1, 3_600_000, d.warnings.starvingMs),
      growingSamples: intIn('warnings.growingSamples', w.growingSamples, 2, 10_000, d.warnings.growingSamples),
    },
  };
}
