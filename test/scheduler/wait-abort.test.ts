/**
 * Abort at the next await for the waits that are not parked in a WaiterQueue: socket reads
 * (read, readExact, the async iterator, TcpStream.read), the drain wait of a write, accept
 * on Unix and TCP listeners, and the I/O limiter's slot. Real sockets on a node-backed
 * runtime; every case checks the reason, that the body ran no further, and that the stream
 * is left usable where the doc comment says so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { channel, Runtime, select, Semaphore, sleep, TaskAbortedError } from '../../src/index.js';
import { appendFile, copy, mkdir, open, readDir, readFile, rm, stat, walk, writeFile } from '../../src/io/fs/index.js';
import { request, serve } from '../../src/io/http/index.js';
import { tasks } from '../fixtures/pool-tasks.js';
import { createRuntime } from '../../src/runtime/runtime.js';
import { framed, lines, TcpListener, TcpStream, UnixListener, UnixStream } from '../../src/io/net/index.js';
import { Limiter } from '../../src/io/limiter.js';
import { WaitAbort, abortableWait, abortedBeforeWait, taskAwareSignal } from '../../src/scheduler/wait-abort.js';
import { spawnProcess } from '../../src/io/process/index.js';

const dir = mkdtempSync(join(tmpdir(), 'zk-wait-abort-'));
let socketNo = 0;
const rt = createRuntime({ io: 'node' });

afterAll(async () => {
  await rt.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

/** A connected pair of Unix streams: `client` and the accepted `server`. */
async function unixPair(): Promise<{ client: UnixStream; server: UnixStream; close: () => Promise<void> }> {
  return rt.run(async () => {
    const listener = await UnixListener.bind({ path: join(dir, `s${socketNo++}.sock`) });
    const accepted = listener.accept();
    const client = await UnixStream.connect({ path: listener.path });
    const server = await accepted;
    return {
      client,
      server,
      close: async () => {
        await client.close();
        await server.close();
        await listener.close();
      },
    };
  });
}

/** Settles once `task` is parked: a few turns of the event loop. */
async function parked(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** `task`'s outcome, or 'still pending' when it has not settled 2 s after the abort (a hang guard, not a timing check). */
function settled(task: PromiseLike<unknown>): Promise<unknown> {
  return Promise.race([Promise.resolve(task).then(() => 'resolved', (e: unknown) => e), new Promise((resolve) => setTimeout(() => resolve('still pending'), 2_000))]);
}

/** Spawns `body` as a task, aborts it once parked, and checks it stopped at the wait. */
async function abortParked(body: () => Promise<unknown>): Promise<{ caught: unknown; reason: Error }> {
  let caught: unknown;
  let after = false;
  const task = rt.spawn(async () => {
    try {
      await body();
    } catch (err) {
      caught = err;
      throw err;
    }
    after = true;
  });
  await parked();
  expect(task.state).toBe('running');
  const reason = new Error('stop');
  task.abort(reason);
  const result = await settled(task);
  expect(result).toBeInstanceOf(TaskAbortedError);
  expect((result as TaskAbortedError).cause).toBe(reason);
  expect(after).toBe(false);
  return { caught, reason };
}

describe('socket waits stop an aborted task', () => {
  it('UnixStream.read: rejects with the reason; the next read gets the data', async () => {
    const { client, server, close } = await unixPair();
    const { caught, reason } = await abortParked(() => server.read());
    expect(caught).toBe(reason);
    await client.write(Buffer.from('hello'));
    expect(Buffer.from((await server.read())!).toString()).toBe('hello');
    await close();
  });

  it('UnixStream.readExact after a short chunk: rejects, and the bytes that came are put back', async () => {
    const { client, server, close } = await unixPair();
    const { caught, reason } = await abortParked(async () => {
      const exact = server.readExact(8);
      await client.write(Buffer.from('abc')); // 3 of 8: the rest is read on the task's behalf
      return exact;
    });
    expect(caught).toBe(reason);
    await client.write(Buffer.from('defgh'));
    expect(Buffer.from(await server.readExact(8)).toString()).toBe('abcdefgh');
    await close();
  });

  it('the async iterator of a UnixStream: the loop stops at its next step', async () => {
    const { client, server, close } = await unixPair();
    const seen: string[] = [];
    let caught: unknown;
    const task = rt.spawn(async () => {
      try {
        for await (const chunk of server) seen.push(Buffer.from(chunk).toString());
      } catch (err) {
        caught = err;
      }
    });
    await client.write(Buffer.from('one'));
    await parked();
    expect(seen).toEqual(['one']); // the second step waits, and the task is still known there
    const reason = new Error('stop loop');
    task.abort(reason);
    expect(await settled(task)).toBeInstanceOf(TaskAbortedError);
    expect(caught).toBe(reason);
    await close();
  });

  it('UnixStream.write waiting for drain: rejects with the reason; the bytes stay queued', async () => {
    const { server, close } = await unixPair();
    const chunk = Buffer.alloc(256 * 1024, 1);
    const { caught, reason } = await abortParked(async () => {
      // The client reads nothing: the kernel buffer fills and a write waits for drain.
      for (;;) await server.write(chunk);
    });
    expect(caught).toBe(reason);
    expect(server.bufferedBytes).toBeGreaterThan(0);
    await close();
  });

  it('UnixListener.accept: rejects; a connection that comes later is accepted by the next call', async () => {
    const listener = await rt.run(() => UnixListener.bind({ path: join(dir, `s${socketNo++}.sock`) }));
    const { caught, reason } = await abortParked(() => listener.accept());
    expect(caught).toBe(reason);
    const client = await rt.run(() => UnixStream.connect({ path: listener.path }));
    const server = await listener.accept();
    await client.write(Buffer.from('x'));
    expect(Buffer.from((await server.read())!).toString()).toBe('x');
    await client.close();
    await server.close();
    await listener.close();
  });

  it('TcpListener.accept and TcpStream.read (127.0.0.1)', async () => {
    const listener = await rt.run(() => TcpListener.bind({ host: '127.0.0.1', port: 0 }));
    const accepting = await abortParked(() => listener.accept());
    expect(accepting.caught).toBe(accepting.reason);
    const client = await rt.run(() => TcpStream.connect({ host: '127.0.0.1', port: listener.address.port }));
    const server = await listener.accept();
    const reading = await abortParked(() => server.read());
    expect(reading.caught).toBe(reading.reason);
    await client.write(Buffer.from('tcp'));
    expect(Buffer.from((await server.read())!).toString()).toBe('tcp');
    await client.close();
    await server.close();
    await listener.close();
  });

  it('a read that completes resumes the task as the running task: its next wait is task-aware', async () => {
    const { client, server, close } = await unixPair();
    const steps: string[] = [];
    const task = rt.spawn(async () => {
      await server.read();
      steps.push('read');
      await new Semaphore(0).acquire(); // never granted: only the task's abort ends it
      steps.push('after');
    });
    await parked();
    await client.write(Buffer.from('go'));
    await parked();
    expect(steps).toEqual(['read']);
    task.abort();
    expect(await settled(task)).toBeInstanceOf(TaskAbortedError);
    expect(steps).toEqual(['read']);
    await close();
  });

  it('an explicit signal still works inside a task, and outside a task nothing changes', async () => {
    const { client, server, close } = await unixPair();
    const controller = new AbortController();
    const task = rt.spawn(() => server.read({ signal: controller.signal }));
    await parked();
    const reason = new Error('signal');
    controller.abort(reason);
    await expect(task).rejects.toBe(reason);
    expect(task.state).toBe('failed');
    const outside = server.read(); // not in a task: only data or close ends it
    await client.write(Buffer.from('z'));
    expect(Buffer.from((await outside)!).toString()).toBe('z');
    await close();
  });
});

describe('process and connect waits', () => {
  it('child.wait(): rejects with the reason; the child keeps running until killed', async () => {
    const child = await rt.run(() => spawnProcess('sleep', ['30'], { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' }));
    const { caught, reason } = await abortParked(() => child.wait());
    expect(caught).toBe(reason);
    expect(child.kill('SIGKILL')).toBe(true); // still running: the abort stopped the wait, not the child
    expect((await child.wait()).signal).toBe('SIGKILL');
  });

  it('abortableWait over a shared promise: an aborted waiter rejects with its reason, the others get the value', async () => {
    let finish!: (value: string) => void;
    const shared = new Promise<string>((resolve) => (finish = resolve));
    expect(abortableWait(shared, undefined)).toBe(shared); // outside a task, no signal: the promise itself
    const { caught, reason } = await abortParked(() => abortableWait(shared, undefined));
    expect(caught).toBe(reason);
    const controller = new AbortController();
    const bySignal = abortableWait(shared, controller.signal);
    const other = rt.spawn(() => abortableWait(shared, new AbortController().signal));
    controller.abort(reason);
    await expect(bySignal).rejects.toBe(reason);
    finish('done');
    expect(await other).toBe('done');
    // A waiter that gave up before waiting leaves no unhandled rejection behind.
    await expect(abortableWait(Promise.reject(new Error('failed work')), AbortSignal.abort(reason))).rejects.toBe(reason);
  });

  it("taskAwareSignal (connect's signal) aborts with the task's reason, and is the caller's signal outside a task", async () => {
    let seen: AbortSignal | undefined;
    let done: (() => void) | undefined;
    const task = rt.spawn(async () => {
      ({ signal: seen, done } = taskAwareSignal(undefined));
      await new Semaphore(0).acquire();
    });
    await parked();
    expect(seen?.aborted).toBe(false);
    const reason = new Error('stop connect');
    task.abort(reason);
    await task.catch(() => undefined);
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(reason);
    done!();
    const own = new AbortController().signal;
    expect(taskAwareSignal(own).signal).toBe(own);
  });
});

/**
 * I/O that has nothing to wait for (bytes already received, room in the write buffer, a
 * connection already queued, a child that has exited) keeps the task known: the body's
 * next wait stops at an abort. Each setup runs outside the task; the body does the ready
 * call, then a long sleep, and is aborted there.
 */
/**
 * Spawns a task on `runtime` that awaits `ready()` then a 60 s sleep, aborts it at the
 * sleep, and checks it stopped there: the sleep was known as the task's, so the task
 * stayed known after the await of `ready()`.
 */
async function stopsAfter(ready: () => Promise<unknown>, runtime: Pick<typeof rt, 'spawn'> = rt): Promise<void> {
  const steps: string[] = [];
  const task = runtime.spawn(async () => {
    await ready();
    steps.push('ready');
    await sleep(60_000);
    steps.push('slept');
  });
  // Until the body has passed `ready()` (a worker thread may still be starting): a hang guard, not a timing check.
  for (let i = 0; i < 3000 && steps.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  await parked();
  expect(steps).toEqual(['ready']);
  task.abort(new Error('stop'));
  expect(await settled(task)).toBeInstanceOf(TaskAbortedError);
  expect(steps).toEqual(['ready']);
}

describe('I/O that completes at once keeps the task known', () => {

  /** A Unix pair whose server side has `bytes` received and queued. */
  async function withQueued(bytes: string): Promise<{ server: UnixStream; close: () => Promise<void> }> {
    const pair = await unixPair();
    await rt.run(() => pair.client.write(Buffer.from(bytes)));
    await parked();
    return pair;
  }

  it('read, readExact, the async iterator (next, and return as a `break` calls it) and write', async () => {
    for (const ready of [
      (s: UnixStream) => s.read(),
      (s: UnixStream) => s.readExact(2),
      (s: UnixStream) => s[Symbol.asyncIterator]().next(),
      (s: UnixStream) => s[Symbol.asyncIterator]().return!(),
      (s: UnixStream) => s.write(Buffer.from('ok')),
    ]) {
      const { server, close } = await withQueued('hi');
      await stopsAfter(() => ready(server));
      await close();
    }
  });

  it('readExact gathered from several chunks, readLine, and a framed stream\'s read and iterator step', async () => {
    const gathered = await unixPair();
    await rt.run(() => gathered.client.write(Buffer.from('ab')));
    await parked();
    // 2 bytes queued, 2 more sent once the read waits: the rest is gathered by the general loop.
    await stopsAfter(() => {
      const read = gathered.server.readExact(4);
      void rt.run(() => gathered.client.write(Buffer.from('cd')));
      return read;
    });
    await gathered.close();
    const short = await unixPair();
    // No bytes queued yet: the first chunk is short (the pending read hands over to the loop).
    await stopsAfter(() => {
      const read = short.server.readExact(4);
      void rt.run(async () => {
        await short.client.write(Buffer.from('a'));
        await new Promise((resolve) => setTimeout(resolve, 20));
        await short.client.write(Buffer.from('bcd'));
      });
      return read;
    });
    await short.close();
    const { server, close } = await withQueued('one\ntwo\nthree\n');
    await stopsAfter(() => server.readLine());
    const frames = framed(server, lines());
    await stopsAfter(() => frames.read()); // 'two', read from the stream
    await stopsAfter(() => frames.read()); // 'three', held since the last read
    await stopsAfter(() => frames[Symbol.asyncIterator]().return!());
    await close();
    const more = await withQueued('x\ny\n');
    const moreFrames = framed(more.server, lines());
    await stopsAfter(() => moreFrames[Symbol.asyncIterator]().next());
    await more.close();
  });

  it('accept of a queued connection, connect, and the next step of a listener\'s async iterator', async () => {
    const listener = await rt.run(() => UnixListener.bind({ path: join(dir, `s${socketNo++}.sock`) }));
    const clients = await rt.run(() => Promise.all([UnixStream.connect({ path: listener.path }), UnixStream.connect({ path: listener.path })]));
    await parked();
    const accepted: UnixStream[] = [];
    /** `work` itself (the body awaits the Zokio promise), keeping what it gives for the cleanup. */
    const keep = <T>(work: Promise<T>, take: (value: T) => void): Promise<T> => {
      void work.then(take, () => undefined);
      return work;
    };
    await stopsAfter(() => keep(listener.accept(), (conn) => accepted.push(conn)));
    await stopsAfter(() => keep(listener[Symbol.asyncIterator]().next(), (step) => accepted.push(step.value as UnixStream)));
    await stopsAfter(() => keep(UnixStream.connect({ path: listener.path }), (conn) => clients.push(conn)));
    await rt.run(async () => {
      for (const conn of [...clients, ...accepted]) await conn.close();
      await listener.close();
    });
  });

  it('TCP: connect, a read of received bytes, and write', async () => {
    const listener = await rt.run(() => TcpListener.bind({ host: '127.0.0.1', port: 0 }));
    const port = listener.address.port;
    await stopsAfter(() => TcpStream.connect({ host: '127.0.0.1', port })); // its server side is closed with the listener
    const client = await rt.run(() => TcpStream.connect({ host: '127.0.0.1', port }));
    await parked();
    const first = await rt.run(() => listener.accept()); // the connection made inside the task
    const server = await rt.run(() => listener.accept());
    await rt.run(() => client.write(Buffer.from('hi')));
    await parked();
    await stopsAfter(() => server.read());
    await stopsAfter(() => server.write(Buffer.from('ok')));
    await rt.run(async () => {
      await client.close();
      await first.close();
      await server.close();
      await listener.close();
    });
  });

  it('child.wait() of a child that has exited', async () => {
    const child = await rt.run(() => spawnProcess(process.execPath, ['-e', '']));
    await rt.run(() => child.wait());
    await stopsAfter(() => child.wait());
  });
});

describe('the I/O limiter', () => {
  it('a slot wait made by a task rejects when the task is aborted; the slot goes to the next waiter', async () => {
    const limiter = new Limiter(1);
    limiter.acquire(); // the one slot, held
    const { caught, reason } = await abortParked(async () => limiter.acquire());
    expect(caught).toBe(reason);
    let granted = false;
    const next = Promise.resolve(limiter.acquire()).then(() => (granted = true));
    limiter.release();
    await next;
    expect(granted).toBe(true);
    expect(limiter.metrics()).toMatchObject({ active: 1, queued: 0 });
  });
});

describe('WaitAbort', () => {
  it('allocates nothing and aborts nothing outside a task without a signal', () => {
    expect(WaitAbort.start(undefined, () => undefined)).toBeUndefined();
    expect(abortedBeforeWait(undefined)).toBeUndefined();
  });

  it('runs onAbort once, for the first of signal and task, and never after settle', async () => {
    const controller = new AbortController();
    const reasons: unknown[] = [];
    const abort = WaitAbort.start(controller.signal, (r) => reasons.push(r))!;
    controller.abort('first');
    abort.cancelForTask('second');
    expect(reasons).toEqual(['first']);

    const other = new AbortController();
    const late = WaitAbort.start(other.signal, (r) => reasons.push(r))!;
    let value: unknown;
    late.settle((v) => (value = v), 7);
    other.abort('too late');
    expect(value).toBe(7);
    expect(reasons).toEqual(['first']);
    expect(abortedBeforeWait(other.signal)).toEqual({ reason: 'too late' });
  });
});

describe('fs, HTTP client and worker-pool calls keep the task known after their await', () => {
  it('zokio/fs: readFile, writeFile, appendFile, stat, readDir, mkdir, rm, copy, open and a FileHandle\'s read, stat and close', async () => {
    const file = join(dir, 'fs-known.txt');
    await rt.run(() => writeFile(file, 'hello'));
    await stopsAfter(() => writeFile(file, 'hello'));
    await stopsAfter(() => appendFile(file, '!'));
    await stopsAfter(() => readFile(file));
    await stopsAfter(() => stat(file));
    await stopsAfter(() => readDir(dir));
    await stopsAfter(() => mkdir(join(dir, 'fs-known-dir'), { recursive: true }));
    await stopsAfter(() => copy(file, join(dir, 'fs-known-copy.txt')));
    await stopsAfter(() => rm(join(dir, 'fs-known-copy.txt')));
    const handle = await rt.run(() => open(file));
    await stopsAfter(() => handle.read(new Uint8Array(5), 0));
    await stopsAfter(() => handle.stat());
    await stopsAfter(() => handle.close());
    await stopsAfter(() => handle.close()); // closed already: nothing to wait for
  });

  it("zokio/fs: each step of walk (next, and return as a `break` calls it)", async () => {
    const root = join(dir, 'walk-known');
    await rt.run(() => mkdir(join(root, 'a'), { recursive: true }));
    await rt.run(() => writeFile(join(root, 'a', 'b.txt'), 'b'));
    await rt.run(() => writeFile(join(root, 'c.txt'), 'c'));
    await stopsAfter(() => walk(root).next()); // the first step reads the root
    const steps = walk(root);
    expect((await rt.run(() => steps.next())).value).toMatchObject({ name: 'a' });
    await stopsAfter(() => steps.next()); // 'a' was a directory: this step reads it
    await stopsAfter(() => walk(root).return());
  });

  it('zokio/http: request() and the body reads json(), text(), bytes()', async () => {
    const server = await rt.run(() => serve(() => ({ body: '{"ok":true}' }), { port: 0 }));
    const url = `http://127.0.0.1:${server.port}/`;
    try {
      await stopsAfter(() => request(url));
      for (const read of ['json', 'text', 'bytes'] as const) {
        const res = await rt.run(() => request(url));
        await stopsAfter(() => res[read]());
      }
    } finally {
      await server.close();
    }
  });

  it('rt.exec and rt.map', async () => {
    const pool = Runtime.builder().workers(1).build();
    try {
      await stopsAfter(() => pool.exec(tasks.inc, 1), pool);
      await stopsAfter(() => pool.map(tasks.inc, [1, 2, 3]), pool);
    } finally {
      await pool.shutdown();
    }
  });

  it('select whose branch is ready at once', async () => {
    const [tx, rx] = channel<number>(1);
    await stopsAfter(() => {
      tx.trySend(1);
      return select({ rx });
    });
  });
});
