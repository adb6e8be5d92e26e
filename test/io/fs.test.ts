import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/runtime/runtime.js';
import { ioDriver, setBackendProbe } from '../../src/io/driver.js';
import { ConfigError } from '../../src/errors.js';
import { appendFile, copy, mkdir, open, readDir, readFile, rm, setFsConcurrency, stat, walk, writeFile } from '../../src/io/fs/index.js';
import type { MemoryFileSystem } from '../../src/io/fs/memory-fs.js';

type Backend = 'node' | 'memory';

describe.each<Backend>(['node', 'memory'])('zokio/fs on the %s backend', (backend) => {
  let rt: ReturnType<typeof createRuntime>;
  let root: string;

  beforeEach(() => {
    rt = createRuntime({ io: backend });
    root = backend === 'node' ? mkdtempSync(join(tmpdir(), 'zokio-fs-')) : '/zokio-fs-test';
    if (backend === 'memory') ioDriver(rt).memoryFs!.seed({ [join(root, '.keep')]: '' });
  });

  afterEach(async () => {
    await rt.shutdown();
    if (backend === 'node') rmSync(root, { recursive: true, force: true });
  });

  const inRt = <T>(fn: () => Promise<T>): Promise<T> => rt.run(fn);

  it('reports the backend it runs on', () => {
    expect(rt.report.io.backend).toBe(backend);
    expect(ioDriver(rt).backend).toBe(backend);
  });

  it('writes, reads, appends and stats files', async () => {
    await inRt(async () => {
      const file = join(root, 'a.txt');
      await writeFile(file, 'hello');
      expect(await readFile(file, { encoding: 'utf8' })).toBe('hello');
      await writeFile(file, 'replaced');
      expect((await readFile(file)).toString()).toBe('replaced');
      await appendFile(file, ' and more');
      expect(await readFile(file, { encoding: 'utf8' })).toBe('replaced and more');
      const s = await stat(file);
      expect(s.isFile()).toBe(true);
      expect(s.isDirectory()).toBe(false);
      expect(s.size).toBe('replaced and more'.length);
      expect((await stat(root)).isDirectory()).toBe(true);
      // No temporary file is left beside the target.
      expect((await readDir(root)).map((e) => e.name).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    });
  });

  it('writeFile applies the mode', async () => {
    await inRt(async () => {
      const file = join(root, 'secret');
      await writeFile(file, 'x', { mode: 0o600 });
      expect((await stat(file)).mode & 0o777).toBe(0o600);
    });
  });

  it('keeps Node error codes and paths', async () => {
    await inRt(async () => {
      const missing = join(root, 'missing.txt');
      const err = await readFile(missing).catch((e: unknown) => e) as NodeJS.ErrnoException;
      expect(err.code).toBe('ENOENT');
      expect(err.path).toBe(missing);
      const err2 = await stat(join(root, 'nope', 'deeper')).catch((e: unknown) => e) as NodeJS.ErrnoException;
      expect(err2.code).toBe('ENOENT');
      await mkdir(join(root, 'd'));
      const err3 = await mkdir(join(root, 'd')).catch((e: unknown) => e) as NodeJS.ErrnoException;
      expect(err3.code).toBe('EEXIST');
      expect(err3.path).toBe(join(root, 'd'));
      // writeFile into a missing directory fails with ENOENT and leaves nothing behind.
      const err4 = await writeFile(join(root, 'nodir', 'f'), 'x').catch((e: unknown) => e) as NodeJS.ErrnoException;
      expect(err4.code).toBe('ENOENT');
    });
  });

  it('opens handles with positional read/write and asyncDispose', async () => {
    await inRt(async () => {
      const file = join(root, 'data.bin');
      {
        await using fh = await open(file, 'w+');
        expect(await fh.write('hello world', 0)).toBe(11);
        await fh.write('HELLO', 0);
        const buf = new Uint8Array(5);
        expect(await fh.read(buf, 6)).toBe(5);
        expect(Buffer.from(buf).toString()).toBe('world');
        expect((await fh.stat()).size).toBe(11);
        await fh.sync();
      }
      expect(await readFile(file, { encoding: 'utf8' })).toBe('HELLO world');
      const fh = await open(file);
      const buf = new Uint8Array(100);
      expect(await fh.read(buf, 0)).toBe(11);
      expect(await fh.read(buf, 11)).toBe(0);
      await fh.close();
      expect(fh.closed).toBe(true);
      await expect(fh.read(buf, 0)).rejects.toMatchObject({ code: 'EBADF' });
    });
  });

  it('mkdir, readDir (sorted), walk depth-first with filter, copy and rm', async () => {
    await inRt(async () => {
      const tree = join(root, 'tree');
      await mkdir(join(tree, 'b', 'deep'), { recursive: true });
      await mkdir(join(tree, 'a'), { recursive: true });
      await mkdir(join(tree, 'skip'), { recursive: true });
      await writeFile(join(tree, 'a', '1.txt'), 'one');
      await writeFile(join(tree, 'b', 'deep', '2.txt'), 'two');
      await writeFile(join(tree, 'skip', '3.txt'), 'three');
      await writeFile(join(tree, 'z.txt'), 'zed');
      expect((await readDir(tree)).map((e) => `${e.name}:${e.kind}`)).toEqual(['a:directory', 'b:directory', 'skip:directory', 'z.txt:file']);

      const seen: string[] = [];
      for await (const e of walk(tree, { filter: (e) => e.name !== 'skip' })) seen.push(`${e.depth}:${e.path.slice(tree.length + 1)}`);
      expect(seen).toEqual(['1:a', '2:a/1.txt', '1:b', '2:b/deep', '3:b/deep/2.txt', '1:z.txt']);

      const controller = new AbortController();
      const partial: string[] = [];
      await expect((async () => {
        for await (const e of walk(tree, { signal: controller.signal })) {
          partial.push(e.name);
          controller.abort(new Error('stop'));
        }
      })()).rejects.toThrow('stop');
      expect(partial).toEqual(['a']);

      const dest = join(root, 'copy');
      await copy(tree, dest);
      expect(await readFile(join(dest, 'b', 'deep', '2.txt'), { encoding: 'utf8' })).toBe('two');
      await copy(join(tree, 'z.txt'), join(root, 'z-copy.txt'));
      expect(await readFile(join(root, 'z-copy.txt'), { encoding: 'utf8' })).toBe('zed');
      await expect(copy(join(tree, 'z.txt'), join(root, 'z-copy.txt'), { overwrite: false })).rejects.toMatchObject({ code: 'EEXIST' });

      await rm(dest, { recursive: true });
      await expect(stat(dest)).rejects.toMatchObject({ code: 'ENOENT' });
      await rm(dest, { recursive: true, force: true });
      await expect(rm(join(root, 'absent'))).rejects.toMatchObject({ code: 'ENOENT' });
    });
  });

  it("a FileHandle's sync, stat and truncate take a signal that aborts their wait for an fs slot", async () => {
    await inRt(async () => {
      const file = join(root, 'handle');
      await writeFile(file, 'abcdef');
      const handle = await open(file, 'r+');
      setFsConcurrency(1);
      const limiter = ioDriver().fsLimiter;
      await limiter.acquire(); // hold the only slot
      const controller = new AbortController();
      const waits = [handle.sync({ signal: controller.signal }), handle.stat({ signal: controller.signal }), handle.truncate(2, { signal: controller.signal })];
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      expect(ioDriver().metrics().fs.queued).toBe(3);
      controller.abort(new Error('no longer needed'));
      for (const wait of waits) await expect(wait).rejects.toThrow('no longer needed');
      expect(ioDriver().metrics().fs.queued).toBe(0);
      limiter.release();
      // Nothing ran: the file is as it was, and the handle still works.
      expect((await handle.stat()).size).toBe(6);
      await handle.truncate(2);
      await handle.close();
      expect(await readFile(file, { encoding: 'utf8' })).toBe('ab');
    });
  });

  it('limits concurrency per runtime', async () => {
    await inRt(async () => {
      setFsConcurrency(2);
      await Promise.all(Array.from({ length: 20 }, (_, i) => writeFile(join(root, `f${i}`), String(i))));
      const texts = await Promise.all(Array.from({ length: 20 }, (_, i) => readFile(join(root, `f${i}`), { encoding: 'utf8' })));
      expect(texts).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
      const m = ioDriver().metrics();
      expect(m.fs.peak).toBeLessThanOrEqual(2);
      expect(m.fs.active).toBe(0);
    });
  });
});

describe('zokio/fs retry on EMFILE (memory backend)', () => {
  it('retries with backoff until a descriptor is free', async () => {
    const rt = createRuntime({ io: 'memory' });
    try {
      await rt.run(async () => {
        const memfs = ioDriver().memoryFs as MemoryFileSystem;
        memfs.seed({ '/x/a': 'A', '/x/b': 'B' });
        memfs.maxOpenFiles = 1;
        const held = await open('/x/a');
        let done = false;
        const pending = readFile('/x/b', { encoding: 'utf8' }).then((t) => ((done = true), t));
        // The open fails with EMFILE until the held handle closes; the read waits, it does not fail.
        const pendingOpen = open('/x/b').then((h) => h.close());
        while (ioDriver().metrics().fs.retries < 2) await new Promise((r) => setTimeout(r, 1));
        expect(done).toBe(false);
        await held.close();
        expect(await pending).toBe('B');
        await pendingOpen;
        memfs.maxOpenFiles = 0;
        // Every retry keeps failing: after the last one the EMFILE error reaches the caller.
        await expect(readFile('/x/a')).rejects.toMatchObject({ code: 'EMFILE', path: '/x/a' });
      });
    } finally {
      await rt.shutdown();
    }
  });
});

describe('backend selection', () => {
  it('auto picks node here and the report names the poller', async () => {
    const rt = createRuntime({ io: 'auto' });
    expect(ioDriver(rt).backend).toBe('node');
    expect(rt.report.io.backend).toBe('node');
    expect(['epoll', 'kqueue', 'IOCP', 'event ports', 'poll']).toContain(rt.report.io.poller);
    expect(rt.describe()).toMatch(/io\s+node \(requested auto; poller \w+/);
    await rt.shutdown();
  });

  it('a backend that cannot run here is a ConfigError at build() naming the alternatives', () => {
    const previous = setBackendProbe((b) => (b === 'node' ? 'libuv is not available (simulated)' : undefined));
    try {
      let err: unknown;
      try {
        createRuntime({ io: 'node' });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).field).toBe('io');
      expect((err as Error).message).toMatch(/'node' cannot run here.*'auto' or 'memory'/);
      // auto falls back to memory.
      expect(ioDriver(createRuntime({ io: 'auto' })).backend).toBe('memory');
    } finally {
      setBackendProbe(previous);
    }
  });
});
