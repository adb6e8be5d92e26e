/**
 * A small Redis client with the surface BullMQ drives on an ioredis instance.
 *
 * Implementation note. BullMQ talks to Redis through an ioredis-shaped client (it wraps
 * one with its own `createIORedisClient` adapter), but ioredis is an optional peer of
 * BullMQ that this repository does not install. This client speaks RESP2 over one
 * `node:net` socket and offers what the adapter calls: any Redis command as a lower-case
 * method (`client.hget(k, f)`, `client.client('SETNAME', n)`), `defineCommand` for Lua
 * scripts (EVALSHA, loading the script first on a connection that has not seen it),
 * `pipeline()` / `multi()`, `duplicate()`, `status` with ioredis's vocabulary and its
 * events (`connect`, `ready`, `error`, `close`, `reconnecting`, `end`).
 *
 * Replies come back in order, so pending commands are a FIFO of callbacks:
 *
 * ```
 *   write ──► [cmd1][cmd2][cmd3] ──► socket      socket ──► reply ──► shift() cmd1
 * ```
 *
 * When the socket drops, the commands in flight fail with `Connection is closed.`; the
 * client reconnects after `retryStrategy(attempt)` ms. Commands issued while it is not
 * connected wait in an offline queue, or fail at once with `enableOfflineQueue: false`
 * (what a producer wants: fail fast instead of waiting for Redis to come back).
 * `quit()` on a client that is not connected ends it at once (ioredis would wait for the
 * connection to come back, which is how BullMQ's `close()` can hang with Redis gone).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';

/** Options of {@link RespClient}; the names are ioredis's. */
export interface RespClientOptions {
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 6379 */
  readonly port?: number;
  readonly password?: string;
  readonly username?: string;
  readonly db?: number;
  /** Sent as `CLIENT SETNAME` on every connection. */
  readonly connectionName?: string;
  /** Queue commands while disconnected (true) or fail them at once (false). @default true */
  readonly enableOfflineQueue?: boolean;
  /** Kept for BullMQ's checks; commands in flight when the socket drops always fail. */
  readonly maxRetriesPerRequest?: number | null;
  /** Delay before reconnect attempt `times` (1-based); `null` stops reconnecting. */
  readonly retryStrategy?: (times: number) => number | null | void;
  /** Give up a connection attempt after this long, in ms. @default 10000 */
  readonly connectTimeout?: number;
  /** Do not connect in the constructor. @default false */
  readonly lazyConnect?: boolean;
  readonly [key: string]: unknown;
}

/** An error reply from Redis. */
export class ReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplyError';
  }
}

type Reply = string | number | null | ReplyError | Reply[];
interface Pending {
  readonly resolve: (value: Reply) => void;
  readonly reject: (err: Error) => void;
}
interface Script {
  readonly lua: string;
  readonly sha: string;
  readonly keys: number;
}
type Arg = string | number | Buffer | Uint8Array | readonly Arg[] | null | undefined;

const CLOSED = 'Connection is closed.';
const CRLF = Buffer.from('\r\n');

/** The ioredis-shaped client; see the module note. */
export class RespClient extends EventEmitter {
  status: 'wait' | 'connecting' | 'connect' | 'ready' | 'reconnecting' | 'close' | 'end' = 'wait';
  readonly isCluster = false;
  options: RespClientOptions;
  #socket: Socket | undefined;
  #pending: Pending[] = [];
  #offline: Array<{ parts: Buffer[]; pending: Pending }> = [];
  #buffer: Buffer = Buffer.alloc(0);
  #outgoing: Buffer[] = [];
  #manualClose = false;
  #attempts = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #connecting: Promise<void> | undefined;
  readonly #scripts = new Map<string, Script>();
  #loaded = new Set<string>();

  constructor(options: RespClientOptions = {}) {
    super();
    this.options = { host: '127.0.0.1', port: 6379, enableOfflineQueue: true, connectTimeout: 10_000, ...options };
    if (this.options.lazyConnect !== true) this.connect().catch(() => undefined);
    // Every method call not defined below is a Redis command (lower-case name).
    const bound = new Map<string | symbol, unknown>();
    return new Proxy(this, {
      get(target, prop) {
        if (typeof prop !== 'string' || prop in target) {
          // Methods run on the target itself: private fields are not reachable through a proxy.
          const value: unknown = Reflect.get(target, prop, target);
          if (typeof value !== 'function') return value;
          let fn = bound.get(prop);
          if (fn === undefined) bound.set(prop, (fn = (value as (...a: unknown[]) => unknown).bind(target)));
          return fn;
        }
        const script = target.#scripts.get(prop);
        if (script !== undefined) return (...args: Arg[]) => target.#evalScript(script, args);
        if (/^[a-z]+$/.test(prop) && prop !== 'then' && prop !== 'nodes') return (...args: Arg[]) => target.call(prop, ...args);
        return undefined;
      },
    });
  }

  /** Connects (or waits for the connection in progress); resolves when ready. */
  connect(): Promise<void> {
    if (this.status === 'ready') return Promise.resolve();
    if (this.#connecting !== undefined) return this.#connecting;
    this.#manualClose = false;
    this.#connecting = new Promise<void>((resolve, reject) => {
      this.status = 'connecting';
      const socket = connect({ host: this.options.host ?? '127.0.0.1', port: this.options.port ?? 6379 });
      this.#socket = socket;
      socket.setNoDelay(true);
      socket.setTimeout(this.options.connectTimeout ?? 10_000);
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        this.#connecting = undefined;
        reject(err);
      };
      socket.once('timeout', () => socket.destroy(new Error('connect ETIMEDOUT')));
      socket.on('data', (chunk: Buffer) => this.#onData(chunk));
      socket.on('error', (err) => {
        if (this.listenerCount('error') > 0) this.emit('error', err);
        fail(err);
      });
      socket.on('close', () => {
        fail(new Error(CLOSED));
        this.#onClose(socket);
      });
      socket.once('connect', () => {
        socket.setTimeout(0);
        this.status = 'connect';
        this.#loaded = new Set();
        this.emit('connect');
        this.#handshake().then(
          () => {
            if (settled) return;
            settled = true;
            this.#connecting = undefined;
            this.#attempts = 0;
            this.status = 'ready';
            const offline = this.#offline;
            this.#offline = [];
            for (const { parts, pending } of offline) this.#send(parts, pending);
            this.emit('ready');
            resolve();
          },
          (err: Error) => {
            fail(err);
            socket.destroy(err);
          },
        );
      });
    });
    return this.#connecting;
  }

  async #handshake(): Promise<void> {
    const o = this.options;
    if (o.password !== undefined) await this.#direct(o.username !== undefined ? ['AUTH', o.username, o.password] : ['AUTH', o.password]);
    if (o.db !== undefined && o.db !== 0) await this.#direct(['SELECT', o.db]);
    if (o.connectionName !== undefined) await this.#direct(['CLIENT', 'SETNAME', o.connectionName]);
  }

  #direct(args: Arg[]): Promise<Reply> {
    return new Promise((resolve, reject) => this.#send(encode(args), { resolve, reject }));
  }

  #onClose(socket: Socket): void {
    if (this.#socket !== socket) return;
    this.#socket = undefined;
    this.#buffer = Buffer.alloc(0);
    this.#outgoing = [];
    const inFlight = this.#pending;
    this.#pending = [];
    for (const p of inFlight) p.reject(new Error(CLOSED));
    this.emit('close');
    const delay = this.#manualClose ? null : this.options.retryStrategy?.(++this.#attempts) ?? Math.min(this.#attempts * 50, 2000);
    if (typeof delay !== 'number') {
      this.#end();
      return;
    }
    this.status = 'reconnecting';
    this.emit('reconnecting', delay);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (!this.#manualClose) this.connect().catch(() => undefined);
    }, delay);
  }

  #end(): void {
    this.status = 'end';
    const offline = this.#offline;
    this.#offline = [];
    for (const { pending } of offline) pending.reject(new Error(CLOSED));
    this.emit('end');
  }

  /** Closes at once; with `reconnect`, connects again. */
  disconnect(reconnect = false): void {
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#manualClose = !reconnect;
    const socket = this.#socket;
    if (socket !== undefined) {
      socket.destroy();
      // Ended from now on; the socket's close still fails the commands in flight and emits 'end'.
      if (!reconnect) this.status = 'end';
    } else if (!reconnect && this.status !== 'end') this.#end();
    else if (reconnect) this.connect().catch(() => undefined);
  }

  /** `QUIT` when connected; otherwise ends the client at once. */
  async quit(): Promise<string> {
    if (this.status !== 'ready') {
      this.disconnect(false);
      return 'OK';
    }
    this.#manualClose = true;
    try {
      await this.call('QUIT');
    } catch {
      // The server closes the socket after OK; a reply lost with it is fine.
    }
    this.disconnect(false);
    return 'OK';
  }

  /** A new client with the same options (and `overrides`). */
  duplicate(overrides?: Partial<RespClientOptions>): RespClient {
    return new RespClient({ ...this.options, ...overrides });
  }

  /** Registers a Lua script as method `name`: `client[name](...keys, ...args)`. */
  defineCommand(name: string, definition: { numberOfKeys: number; lua: string }): void {
    const sha = createHash('sha1').update(definition.lua).digest('hex');
    this.#scripts.set(name, { lua: definition.lua, sha, keys: definition.numberOfKeys });
  }

  /** @internal True when `name` was registered with {@link defineCommand}. */
  hasScript(name: string): boolean {
    return this.#scripts.has(name);
  }

  /** Sends one command. */
  call(name: string, ...args: Arg[]): Promise<unknown> {
    return this.#command(name, args).then((reply) => transform(name, reply));
  }

  #command(name: string, args: Arg[]): Promise<Reply> {
    const parts = encode([name, ...args]);
    return new Promise<Reply>((resolve, reject) => {
      const pending: Pending = {
        resolve: (v) => (v instanceof ReplyError ? reject(v) : resolve(v)),
        reject,
      };
      if (this.status === 'ready' && this.#socket !== undefined) this.#send(parts, pending);
      else if (this.status === 'end' || this.options.enableOfflineQueue === false) {
        reject(new Error(this.status === 'end' ? CLOSED : "Stream isn't writeable and enableOfflineQueue options is false"));
      } else this.#offline.push({ parts, pending });
    });
  }

  async #ensureLoaded(script: Script): Promise<void> {
    if (this.#loaded.has(script.sha)) return;
    await this.#command('SCRIPT', ['LOAD', script.lua]);
    this.#loaded.add(script.sha);
  }

  async #evalScript(script: Script, args: Arg[]): Promise<unknown> {
    await this.#ensureLoaded(script);
    try {
      return await this.#command('EVALSHA', [script.sha, script.keys, ...args]);
    } catch (err) {
      if (!(err instanceof ReplyError) || !err.message.startsWith('NOSCRIPT')) throw err;
      this.#loaded.delete(script.sha);
      return this.#command('EVAL', [script.lua, script.keys, ...args]);
    }
  }

  #send(parts: Buffer[], pending: Pending): void {
    const socket = this.#socket;
    if (socket === undefined) {
      pending.reject(new Error(CLOSED));
      return;
    }
    this.#pending.push(pending);
    // Commands issued in the same tick go out in one write (BullMQ issues many at once).
    for (const part of parts) this.#outgoing.push(part);
    if (this.#outgoing.length === parts.length) process.nextTick(() => this.#flush());
  }

  #flush(): void {
    const out = this.#outgoing;
    this.#outgoing = [];
    // A socket that closed meanwhile has failed these commands already (see #onClose).
    const socket = this.#socket;
    if (out.length > 0 && socket !== undefined && !socket.destroyed) socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    let offset = 0;
    for (;;) {
      const parsed = parse(this.#buffer, offset);
      if (parsed === undefined) break;
      offset = parsed.next;
      const pending = this.#pending.shift();
      if (pending !== undefined) pending.resolve(parsed.value);
      else if (Array.isArray(parsed.value) && parsed.value[0] === 'message') this.emit('message', parsed.value[1], parsed.value[2]);
    }
    this.#buffer = offset === this.#buffer.length ? Buffer.alloc(0) : this.#buffer.subarray(offset);
  }

  /** A batch of commands sent together; `exec()` gives `[error, result]` per command. */
  pipeline(): Batch {
    return batch(this, false);
  }

  /** A `MULTI` / `EXEC` transaction with the pipeline's interface. */
  multi(): Batch {
    return batch(this, true);
  }

  /** @internal Sends queued commands of a batch (scripts loaded first). */
  async runBatch(commands: ReadonlyArray<{ name: string; args: Arg[] }>, transaction: boolean): Promise<Array<[Error | null, unknown]>> {
    const resolved = commands.map(({ name, args }) => {
      const script = this.#scripts.get(name);
      return script === undefined ? { name, args, script } : { name: 'EVALSHA', args: [script.sha, script.keys, ...args], script };
    });
    for (const { script } of resolved) if (script !== undefined) await this.#ensureLoaded(script);
    if (!transaction) {
      return Promise.all(resolved.map(({ name, args }) => this.#command(name, args).then((v) => [null, transform(name, v)] as [null, unknown], (e: Error) => [e, null] as [Error, null])));
    }
    const begin = this.#command('MULTI', []);
    const queued = resolved.map(({ name, args }) => this.#command(name, args).catch((e: Error) => e));
    const exec = this.#command('EXEC', []);
    await begin;
    const errors = await Promise.all(queued);
    const results = (await exec) as Reply[] | null;
    if (results === null) return resolved.map(() => [new Error('transaction aborted'), null]);
    return results.map((r, i) => {
      const queuedError = errors[i];
      if (queuedError instanceof Error) return [queuedError, null];
      return r instanceof ReplyError ? [r, null] : [null, transform(resolved[i]!.name, r)];
    });
  }
}

/** A pipeline or transaction: every command method queues, `exec()` sends. */
export type Batch = { exec(): Promise<Array<[Error | null, unknown]>> } & Record<string, (...args: Arg[]) => Batch>;

function batch(client: RespClient, transaction: boolean): Batch {
  const commands: Array<{ name: string; args: Arg[] }> = [];
  const target: Record<string, unknown> = {
    exec: () => client.runBatch(commands, transaction),
  };
  const proxy: Batch = new Proxy(target, {
    get(t, prop) {
      if (typeof prop !== 'string' || prop in t) return Reflect.get(t, prop);
      if (prop === 'then' || !(/^[a-z]+$/.test(prop) || client.hasScript(prop))) return undefined;
      return (...args: Arg[]) => {
        commands.push({ name: prop, args });
        return proxy;
      };
    },
  }) as unknown as Batch;
  return proxy;
}

/** ioredis's reply shapes where they differ from the raw reply. */
function transform(name: string, reply: Reply): unknown {
  if (name === 'hgetall' && Array.isArray(reply)) {
    const out: Record<string, unknown> = {};
    for (let i = 0; i + 1 < reply.length; i += 2) out[reply[i] as string] = reply[i + 1];
    return out;
  }
  return reply;
}

function encode(args: readonly Arg[]): Buffer[] {
  const flat: Buffer[] = [];
  const push = (a: Arg): void => {
    if (Array.isArray(a)) for (const x of a) push(x as Arg);
    else if (a === null || a === undefined) flat.push(Buffer.from(''));
    else if (typeof a === 'string') flat.push(Buffer.from(a));
    else if (typeof a === 'number') flat.push(Buffer.from(String(a)));
    else if (Buffer.isBuffer(a)) flat.push(a);
    else flat.push(Buffer.from((a as Uint8Array).buffer, (a as Uint8Array).byteOffset, (a as Uint8Array).byteLength));
  };
  for (const a of args) push(a);
  const parts: Buffer[] = [Buffer.from(`*${flat.length}\r\n`)];
  for (const b of flat) parts.push(Buffer.from(`$${b.length}\r\n`), b, CRLF);
  return [Buffer.concat(parts)];
}

/** Parses one reply at `offset`; undefined when the buffer holds only part of it. */
function parse(buf: Buffer, offset: number): { value: Reply; next: number } | undefined {
  if (offset >= buf.length) return undefined;
  const end = buf.indexOf(CRLF, offset);
  if (end < 0) return undefined;
  const type = buf[offset];
  const line = buf.toString('utf8', offset + 1, end);
  const next = end + 2;
  switch (type) {
    case 0x2b: // +
      return { value: line, next };
    case 0x2d: // -
      return { value: new ReplyError(line), next };
    case 0x3a: // :
      return { value: Number(line), next };
    case 0x24: { // $
      const len = Number(line);
      if (len < 0) return { value: null, next };
      if (buf.length < next + len + 2) return undefined;
      return { value: buf.toString('utf8', next, next + len), next: next + len + 2 };
    }
    case 0x2a: { // *
      const count = Number(line);
      if (count < 0) return { value: null, next };
      const items: Reply[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parse(buf, at);
        if (item === undefined) return undefined;
        items.push(item.value);
        at = item.next;
      }
      return { value: items, next: at };
    }
    default:
      throw new Error(`RESP: unexpected reply type byte ${type}`);
  }
}
