/**
 * The `memory` network backend: an in-memory loopback for tests.
 *
 * Implementation note. A connection is a pair of linked `Duplex` streams. Writing to one
 * side pushes the chunk into the other side's readable buffer; when that buffer is over
 * its high-water mark (`push` returns false), the writer's callback is held until the
 * reader pulls (`_read`), so the writer's `write()` returns false and `drain` comes only
 * after the reader has consumed data: the same backpressure chain as a kernel socket,
 * without the kernel's own buffers. Listeners live in a per-runtime port table.
 *
 * ```
 *   A.write(x) ─► A._write ─► B.push(x) ─► B's readable buffer ─► B.read()
 *                    │ push() false: hold cb            │ B._read(): release A's cb
 * ```
 *
 * `setTimeout(ms)` works as on `net.Socket` (a `'timeout'` event after `ms` without reads
 * or writes; `node:http` uses it for `keepAliveTimeout`), on the runtime's timers, so it
 * runs on a `VirtualClock` in tests. Activity only records the time; the one armed timer
 * re-arms itself for the remaining time when it fires early.
 */
import { Duplex } from 'node:stream';
import { systemError } from '../system-error.js';
import { abortReason } from '../../scheduler/abort-reason.js';
import type { TimerDriver } from '../../scheduler/timer-driver.js';
import type { BackendListener, NetBackend } from './backend.js';

/** High-water mark of each direction of an in-memory connection, in bytes. */
const MEMORY_HWM = 16 * 1024;

/** @internal The timers of the runtime that owns a memory network (read on each use: a test may install a clock after the network exists). */
export type MemoryTimers = () => TimerDriver;

/** @internal One side of an in-memory connection. */
export class MemorySocket extends Duplex {
  peer: MemorySocket | undefined;
  /** The peer's write callback, held while our readable buffer is over its high-water mark. */
  #pendingWrite: ((error?: Error) => void) | undefined;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** Idle time in ms after which `'timeout'` is emitted; 0: never (as `net.Socket#timeout`). */
  timeout = 0;
  readonly #timers: MemoryTimers | undefined;
  /** Clock time of the last read or write, while a timeout is set. */
  #lastActive = 0;
  /** Wheel id of the idle timer, -1 when none is armed, and the timers it is armed on. */
  #timer = -1;
  #armedOn: TimerDriver | undefined;

  constructor(local: { host: string; port: number }, remote: { host: string; port: number }, timers?: MemoryTimers) {
    super({ highWaterMark: MEMORY_HWM, allowHalfOpen: true });
    this.localAddress = local.host;
    this.localPort = local.port;
    this.remoteAddress = remote.host;
    this.remotePort = remote.port;
    this.#timers = timers;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const peer = this.peer;
    if (peer === undefined || peer.destroyed) {
      callback(systemError('EPIPE', 'write'));
      return;
    }
    if (this.timeout > 0) this.#touch();
    if (peer.timeout > 0) peer.#touch();
    if (peer.push(chunk)) callback();
    else peer.#pendingWrite = callback;
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.peer?.push(null);
    callback();
  }

  override _read(): void {
    // The peer's write that pushed past our high-water mark completes now that we read.
    const release = this.#pendingWrite;
    if (release !== undefined) {
      this.#pendingWrite = undefined;
      release();
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#disarm();
    const held = this.#pendingWrite;
    this.#pendingWrite = undefined;
    held?.(systemError('EPIPE', 'write'));
    const peer = this.peer;
    this.peer = undefined;
    if (peer !== undefined && !peer.destroyed) {
      peer.peer = undefined;
      // The other side sees end-of-stream, as after a TCP FIN/RST.
      if (!peer.readableEnded) peer.push(null);
    }
    callback(error);
  }

  /**
   * Ends this side and destroys the stream once the written bytes are flushed to the
   * peer (as `net.Socket.destroySoon`, which `node:http` calls after a last response).
   */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  /** No-op: there is no Nagle algorithm in memory. */
  setNoDelay(_noDelay?: boolean): this {
    return this;
  }

  /** No-op: in-memory connections need no TCP keep-alive probes. */
  setKeepAlive(_enable?: boolean, _initialDelay?: number): this {
    return this;
  }

  /**
   * Emits `'timeout'` once `ms` pass on the runtime's clock with no read or write (as
   * `net.Socket#setTimeout`: the socket is not closed; 0 disables it). Without runtime
   * timers (a socket made outside a network) it only records `timeout`.
   */
  setTimeout(ms: number, callback?: () => void): this {
    if (this.destroyed) return this;
    this.#disarm();
    this.timeout = ms;
    if (ms === 0) {
      if (callback !== undefined) this.off('timeout', callback);
      return this;
    }
    if (callback !== undefined) this.once('timeout', callback);
    this.#touch();
    this.#arm(this.#lastActive + ms);
    return this;
  }

  #touch(): void {
    const timers = this.#timers;
    if (timers !== undefined) this.#lastActive = timers().clock.now();
  }

  #arm(atMs: number): void {
    const timers = this.#timers?.();
    if (timers === undefined || timers.closed) return;
    this.#timer = timers.add(atMs, this.#onTimer, true);
    this.#armedOn = timers;
  }

  #disarm(): void {
    if (this.#timer === -1) return;
    this.#armedOn!.cancel(this.#timer);
    this.#timer = -1;
    this.#armedOn = undefined;
  }

  readonly #onTimer = (): void => {
    const timers = this.#armedOn!;
    this.#timer = -1;
    this.#armedOn = undefined;
    if (this.destroyed || this.timeout === 0) return;
    const due = this.#lastActive + this.timeout;
    // Activity since the timer was armed moved the deadline: wait for the rest.
    if (timers.clock.now() < due) this.#arm(due);
    else this.emit('timeout');
  };
}

interface MemoryListenerEntry {
  readonly host: string;
  readonly backlog: number;
  readonly onConnection: (socket: MemorySocket) => void;
}

/**
 * The network of the `memory` I/O backend: listeners and connections that exist only in
 * this process, with the same backpressure as TCP. Every runtime built with
 * `.io('memory')` has its own; ports are allocated from 49152 upward for port 0.
 *
 * @example
 * ```ts
 * import { Runtime } from 'zokio';
 * import { TcpListener, TcpStream } from 'zokio/net';
 * const rt = Runtime.builder().io('memory').build();
 * await rt.run(async () => {
 *   const listener = await TcpListener.bind({ host: '127.0.0.1', port: 0 });
 *   const client = await TcpStream.connect(listener.address);
 *   const server = await listener.accept();
 *   await client.write('ping');
 *   console.log(String(await server.read()));
 *   await Promise.all([client.close(), server.close(), listener.close()]);
 * });
 * await rt.shutdown();
 * ```
 */
export class MemoryNetwork implements NetBackend {
  readonly name = 'memory' as const;
  readonly #listeners = new Map<number, MemoryListenerEntry>();
  readonly #paths = new Map<string, MemoryListenerEntry>();
  #nextPort = 49152;
  #nextClientPort = 32768;
  readonly #timers: MemoryTimers | undefined;

  /** @internal `timers`: the owning runtime's timers, for the sockets' idle timeouts. */
  constructor(timers?: MemoryTimers) {
    this.#timers = timers;
  }

  /** Ports with a listener. */
  ports(): number[] {
    return [...this.#listeners.keys()].sort((a, b) => a - b);
  }

  async listen(host: string, port: number, backlog: number, onConnection: (socket: Duplex) => void): Promise<BackendListener> {
    await undefined;
    if (port === 0) {
      while (this.#listeners.has(this.#nextPort)) this.#nextPort++;
      port = this.#nextPort++;
    } else if (this.#listeners.has(port)) {
      throw Object.assign(systemError('EADDRINUSE', 'listen'), { address: host, port });
    }
    const entry: MemoryListenerEntry = { host, backlog, onConnection };
    this.#listeners.set(port, entry);
    return {
      address: { host, port },
      close: async () => {
        await undefined;
        if (this.#listeners.get(port) === entry) this.#listeners.delete(port);
      },
    };
  }

  /** Unix socket paths with a listener. */
  paths(): string[] {
    return [...this.#paths.keys()].sort();
  }

  async listenPath(path: string, backlog: number, onConnection: (socket: Duplex) => void): Promise<BackendListener> {
    await undefined;
    // No file outlives its listener here, so a taken path is always a live listener.
    if (this.#paths.has(path)) throw Object.assign(systemError('EADDRINUSE', 'listen'), { address: path, message: `listen EADDRINUSE: address already in use ${path} (a live listener holds it)` });
    const entry: MemoryListenerEntry = { host: path, backlog, onConnection };
    this.#paths.set(path, entry);
    return {
      address: { host: '', port: 0 },
      path,
      close: async () => {
        await undefined;
        if (this.#paths.get(path) === entry) this.#paths.delete(path);
      },
    };
  }

  async connectPath(path: string, signal: AbortSignal | undefined): Promise<Duplex> {
    await undefined;
    if (signal?.aborted) throw abortReason(signal);
    const entry = this.#paths.get(path);
    if (entry === undefined) throw Object.assign(systemError('ENOENT', 'connect', path), { address: path, message: `connect ENOENT ${path}` });
    return this.#link(entry, { host: '', port: 0 }, { host: path, port: 0 });
  }

  async connect(host: string, port: number, signal: AbortSignal | undefined): Promise<Duplex> {
    await undefined;
    if (signal?.aborted) throw abortReason(signal);
    const entry = this.#listeners.get(port);
    if (entry === undefined) throw Object.assign(systemError('ECONNREFUSED', 'connect'), { address: host, port, message: `connect ECONNREFUSED ${host}:${port}` });
    return this.#link(entry, { host: '127.0.0.1', port: this.#nextClientPort++ }, { host: entry.host, port });
  }

  #link(entry: MemoryListenerEntry, clientAddr: { host: string; port: number }, serverAddr: { host: string; port: number }): MemorySocket {
    const client = new MemorySocket(clientAddr, serverAddr, this.#timers);
    const server = new MemorySocket(serverAddr, clientAddr, this.#timers);
    client.peer = server;
    server.peer = client;
    entry.onConnection(server);
    return client;
  }
}
