/**
 * What pool workers print: `console.log` and friends in a task reach the main thread's
 * `process.stdout`/`process.stderr` before the task's result is delivered, and nothing a
 * worker printed is lost when the process exits or the pool shuts down.
 *
 * Implementation note. Node gives a worker a `process.stdout` that posts each chunk to
 * the main thread and then holds further writes until the main thread acknowledges, which
 * the worker only sees when its event loop runs. A pool worker parked in `Atomics.wait`
 * runs no event loop, so its later lines wait there, and are lost at exit. Here a worker's
 * `process.stdout.write` and `process.stderr.write` post every chunk at once on a port of
 * their own and count it in a word of the pool header (`H_LOGS_POSTED`), before the task
 * returns. The main thread writes what arrives on these ports to its own streams (as
 * messages come in, for long tasks that print as they go), and before it settles a batch
 * of completions it compares the word with what it received and, if they differ, takes the
 * rest synchronously (`receiveMessageOnPort`): the lines a task printed come out before its
 * promise settles. It also takes them after a worker died and at shutdown.
 *
 * @module
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { H_LOGS_POSTED } from './layout.js';

/** One chunk: 1 = stdout, 2 = stderr. */
type StdioMessage = readonly [fd: 1 | 2, chunk: string | Uint8Array];

/**
 * Worker side: sends everything written to `process.stdout`/`process.stderr` on `port`,
 * counting each chunk in `pool[H_LOGS_POSTED]` after it is posted.
 */
export function redirectWorkerStdio(port: MessagePort, pool: Int32Array): void {
  port.unref();
  const patch = (stream: NodeJS.WriteStream, fd: 1 | 2): void => {
    const write = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
      const cb = typeof encoding === 'function' ? encoding : callback;
      let data: string | Uint8Array;
      if (typeof chunk === 'string') data = typeof encoding === 'string' && encoding !== 'utf8' && encoding !== 'utf-8' ? Buffer.from(chunk, encoding as BufferEncoding) : chunk;
      else if (chunk instanceof Uint8Array) data = new Uint8Array(chunk); // a copy: the writer may reuse its buffer
      else data = String(chunk);
      port.postMessage([fd, data] satisfies StdioMessage);
      Atomics.add(pool, H_LOGS_POSTED, 1);
      if (typeof cb === 'function') queueMicrotask(() => (cb as (err?: Error | null) => void)(null));
      return true;
    };
    Object.defineProperty(stream, 'write', { value: write, configurable: true, writable: true });
  };
  patch(process.stdout, 1);
  patch(process.stderr, 2);
}

/** Main side: writes what the workers print to this thread's stdout/stderr. */
export class StdioRelay {
  readonly #pool: Int32Array;
  readonly #ports = new Set<MessagePort>();
  /** Chunks received so far (compared with `H_LOGS_POSTED`). */
  #received = 0;

  constructor(pool: Int32Array) {
    this.#pool = pool;
  }

  /** Starts relaying what a (new) worker posts on `port`. */
  add(port: MessagePort): void {
    this.#ports.add(port);
    port.on('message', (m: StdioMessage) => this.#write(m));
    port.unref();
  }

  #write(m: StdioMessage): void {
    this.#received++;
    (m[0] === 1 ? process.stdout : process.stderr).write(m[1]);
  }

  /** Writes every chunk posted so far, synchronously. Cheap when there is none (one load). */
  pull(): void {
    if (Atomics.load(this.#pool, H_LOGS_POSTED) === this.#received) return;
    this.pullAll();
  }

  /** Writes every chunk already queued on any port (after a worker died, at shutdown). */
  pullAll(): void {
    for (const port of this.#ports) {
      for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) this.#write(m.message as StdioMessage);
    }
  }

  /** Stops relaying `port` (its worker is gone) once what it holds is written. */
  remove(port: MessagePort): void {
    if (!this.#ports.has(port)) return;
    for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) this.#write(m.message as StdioMessage);
    this.#ports.delete(port);
    port.close();
  }

  /** Writes what is left and closes every port. */
  close(): void {
    for (const port of [...this.#ports]) this.remove(port);
  }
}
