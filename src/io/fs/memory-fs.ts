/**
 * The `memory` file-system backend: a deterministic in-memory tree for tests.
 *
 * Implementation note. Nodes are kept in one `Map` keyed by absolute POSIX path; a
 * directory node also holds the set of its child names so that listing is O(children).
 * Operations complete on a microtask (never synchronously, like real I/O) and in call
 * order. Errors are shaped like libuv's (`systemError`). An optional `maxOpenFiles` makes
 * `open` fail with `EMFILE`, to test the retry path.
 *
 * ```
 * nodes: '/'        → { dir, children: {'tmp'} }
 *        '/tmp'     → { dir, children: {'a.txt'} }
 *        '/tmp/a.txt' → { file, data: Uint8Array(n) }
 * handles: fd → { path, position, readable, writable, append }
 * ```
 */
import { posix } from 'node:path';
import { systemError } from '../system-error.js';
import { DirEntry, FileStat, type BackendHandle, type FsBackend, type OpenFlags } from './backend.js';

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

interface FileNode {
  kind: 'file';
  data: Uint8Array;
  size: number;
  mode: number;
  mtimeMs: number;
}

interface DirNode {
  kind: 'directory';
  children: Set<string>;
  mode: number;
  mtimeMs: number;
}

type MemNode = FileNode | DirNode;

/** Options of a {@link MemoryFileSystem}. */
export interface MemoryFileSystemOptions {
  /**
   * How many files may be open at once; `open` beyond it fails with `EMFILE`.
   * @default Infinity
   */
  readonly maxOpenFiles?: number;
}

/**
 * The file system of the `memory` I/O backend: deterministic, in memory, with the same
 * errors as the `node` backend. Every runtime built with `.io('memory')` has its own.
 *
 * Use it in tests through `zokio/fs` on a memory runtime; reach it with
 * `memoryBackend(rt).fs` (from `zokio/testing`) to seed files or inspect the tree.
 *
 * @example
 * ```ts
 * import { Runtime } from 'zokio';
 * import { readFile } from 'zokio/fs';
 * import { memoryBackend } from 'zokio/testing';
 * const rt = Runtime.builder().io('memory').build();
 * memoryBackend(rt).fs.seed({ '/app/config.json': '{"port":8080}' });
 * const text = await rt.run(() => readFile('/app/config.json', { encoding: 'utf8' }));
 * await rt.shutdown();
 * ```
 */
export class MemoryFileSystem implements FsBackend {
  readonly name = 'memory' as const;
  readonly #nodes = new Map<string, MemNode>();
  #openFiles = 0;
  #clock = 0;
  /** How many files may be open at once (`EMFILE` beyond). */
  maxOpenFiles: number;

  constructor(options: MemoryFileSystemOptions = {}) {
    this.maxOpenFiles = options.maxOpenFiles ?? Infinity;
    this.#nodes.set('/', { kind: 'directory', children: new Set(), mode: S_IFDIR | 0o755, mtimeMs: 0 });
    // Make the process's working directory exist, so relative paths resolve as on disk.
    this.#mkdirp(posix.resolve(process.cwd().replace(/\\/g, '/')), 0o755);
  }

  /** Files currently open. */
  get openFiles(): number {
    return this.#openFiles;
  }

  /**
   * Creates files (and their parent directories) synchronously: `{ path: contents }`.
   * Relative paths are resolved against `process.cwd()`.
   */
  seed(files: Readonly<Record<string, string | Uint8Array>>): void {
    for (const [path, contents] of Object.entries(files)) {
      const abs = posix.resolve(path);
      this.#mkdirp(posix.dirname(abs), 0o755);
      const data = typeof contents === 'string' ? Buffer.from(contents) : Uint8Array.from(contents);
      this.#put(abs, { kind: 'file', data, size: data.length, mode: S_IFREG | 0o644, mtimeMs: this.#tick() });
    }
  }

  /** Every path in the tree, sorted (for assertions in tests). */
  paths(): string[] {
    return [...this.#nodes.keys()].sort();
  }

  #tick(): number {
    return ++this.#clock;
  }

  #mkdirp(path: string, mode: number): void {
    if (this.#nodes.has(path)) return;
    this.#mkdirp(posix.dirname(path), mode);
    this.#put(path, { kind: 'directory', children: new Set(), mode: S_IFDIR | mode, mtimeMs: this.#tick() });
  }

  #put(path: string, node: MemNode): void {
    this.#nodes.set(path, node);
    if (path !== '/') (this.#nodes.get(posix.dirname(path)) as DirNode).children.add(posix.basename(path));
  }

  #remove(path: string): void {
    this.#nodes.delete(path);
    (this.#nodes.get(posix.dirname(path)) as DirNode | undefined)?.children.delete(posix.basename(path));
  }

  /** The parent directory of `path`, or the error libuv would give for `syscall`. */
  #parent(path: string, syscall: string): DirNode {
    const parent = this.#nodes.get(posix.dirname(path));
    if (parent === undefined) {
      // A missing ancestor or a file in the middle of the path.
      let p = posix.dirname(path);
      while (p !== '/' && !this.#nodes.has(p)) p = posix.dirname(p);
      throw systemError(this.#nodes.get(p)?.kind === 'file' ? 'ENOTDIR' : 'ENOENT', syscall, path);
    }
    if (parent.kind !== 'directory') throw systemError('ENOTDIR', syscall, path);
    return parent;
  }

  #get(path: string, syscall: string): MemNode {
    const node = this.#nodes.get(path);
    if (node === undefined) {
      this.#parent(path, syscall);
      throw systemError('ENOENT', syscall, path);
    }
    return node;
  }

  async readFile(path: string, signal: AbortSignal | undefined): Promise<Buffer> {
    await undefined;
    signal?.throwIfAborted();
    if (this.#openFiles >= this.maxOpenFiles) throw systemError('EMFILE', 'open', path);
    const node = this.#get(path, 'open');
    if (node.kind === 'directory') throw systemError('EISDIR', 'read');
    return Buffer.from(node.data.subarray(0, node.size));
  }

  async open(path: string, flags: OpenFlags, mode: number | undefined): Promise<BackendHandle> {
    await undefined;
    if (this.#openFiles >= this.maxOpenFiles) throw systemError('EMFILE', 'open', path);
    const exclusive = flags.includes('x');
    const create = flags[0] === 'w' || flags[0] === 'a';
    let node = this.#nodes.get(path);
    if (node !== undefined && exclusive) throw systemError('EEXIST', 'open', path);
    if (node === undefined) {
      if (!create) this.#get(path, 'open');
      this.#parent(path, 'open');
      node = { kind: 'file', data: new Uint8Array(0), size: 0, mode: S_IFREG | (mode ?? 0o666) & 0o777, mtimeMs: this.#tick() };
      this.#put(path, node);
    }
    if (node.kind === 'directory') {
      if (flags !== 'r') throw systemError('EISDIR', 'open', path);
      throw systemError('EISDIR', 'open', path);
    }
    if (flags[0] === 'w') {
      node.size = 0;
      node.mtimeMs = this.#tick();
    }
    this.#openFiles++;
    return new MemoryHandle(this, node, flags[0] === 'r' || flags.includes('+'), flags[0] !== 'r' || flags.includes('+'), flags[0] === 'a');
  }

  /** @internal */
  _closed(): void {
    this.#openFiles--;
  }

  /** @internal */
  _touch(node: FileNode): void {
    node.mtimeMs = this.#tick();
  }

  async stat(path: string, _followSymlinks: boolean): Promise<FileStat> {
    await undefined;
    return statOf(this.#get(path, 'stat'));
  }

  async readDir(path: string): Promise<DirEntry[]> {
    await undefined;
    const node = this.#get(path, 'scandir');
    if (node.kind !== 'directory') throw systemError('ENOTDIR', 'scandir', path);
    return [...node.children].sort().map((name) => new DirEntry(name, this.#nodes.get(posix.join(path, name))!.kind));
  }

  async mkdir(path: string, recursive: boolean, mode: number | undefined): Promise<void> {
    await undefined;
    const existing = this.#nodes.get(path);
    if (existing !== undefined) {
      if (recursive && existing.kind === 'directory') return;
      throw systemError('EEXIST', 'mkdir', path);
    }
    if (recursive) {
      let p = posix.dirname(path);
      while (!this.#nodes.has(p)) p = posix.dirname(p);
      if (this.#nodes.get(p)!.kind !== 'directory') throw systemError('ENOTDIR', 'mkdir', path);
      this.#mkdirp(path, (mode ?? 0o777) & 0o777);
      return;
    }
    this.#parent(path, 'mkdir');
    this.#put(path, { kind: 'directory', children: new Set(), mode: S_IFDIR | ((mode ?? 0o777) & 0o777), mtimeMs: this.#tick() });
  }

  async rm(path: string, recursive: boolean, force: boolean): Promise<void> {
    await undefined;
    const node = this.#nodes.get(path);
    if (node === undefined) {
      if (force) return;
      this.#get(path, 'rm');
      return;
    }
    if (node.kind === 'directory') {
      if (!recursive) throw Object.assign(systemError('EISDIR', 'rm', path), { code: 'ERR_FS_EISDIR' });
      if (path === '/') throw systemError('EINVAL', 'rm', path);
      for (const name of [...node.children]) await this.rm(posix.join(path, name), true, force);
    }
    this.#remove(path);
  }

  async rename(from: string, to: string): Promise<void> {
    await undefined;
    const node = this.#nodes.get(from);
    if (node === undefined) {
      this.#parent(from, 'rename');
      throw systemError('ENOENT', 'rename', from, to);
    }
    this.#parent(to, 'rename');
    const target = this.#nodes.get(to);
    if (target !== undefined) {
      if (target.kind === 'directory' && node.kind !== 'directory') throw systemError('EISDIR', 'rename', from, to);
      if (target.kind === 'directory' && target.children.size > 0) throw systemError('ENOTEMPTY', 'rename', from, to);
      if (target.kind === 'file' && node.kind === 'directory') throw systemError('ENOTDIR', 'rename', from, to);
    }
    // Move the node and, for a directory, every descendant key.
    const moves: Array<[string, MemNode]> = [];
    for (const [key, value] of this.#nodes) if (key === from || key.startsWith(from + '/')) moves.push([key, value]);
    this.#remove(from);
    for (const [key] of moves) this.#nodes.delete(key);
    if (target !== undefined) this.#remove(to);
    for (const [key, value] of moves) {
      const moved = to + key.slice(from.length);
      if (key === from) this.#put(moved, value);
      else this.#nodes.set(moved, value);
    }
  }

  async copyFile(from: string, to: string, overwrite: boolean): Promise<void> {
    await undefined;
    const node = this.#get(from, 'copyfile');
    if (node.kind !== 'file') throw systemError('EISDIR', 'copyfile', from, to);
    this.#parent(to, 'copyfile');
    const target = this.#nodes.get(to);
    if (target !== undefined && !overwrite) throw systemError('EEXIST', 'copyfile', from, to);
    if (target?.kind === 'directory') throw systemError('EISDIR', 'copyfile', from, to);
    const data = node.data.slice(0, node.size);
    this.#put(to, { kind: 'file', data, size: data.length, mode: node.mode, mtimeMs: this.#tick() });
  }

  async syncDir(_path: string): Promise<void> {
    await undefined;
  }
}

function statOf(node: MemNode): FileStat {
  return new FileStat(node.kind, node.kind === 'file' ? node.size : 0, node.mode, node.mtimeMs);
}

class MemoryHandle implements BackendHandle {
  #fs: MemoryFileSystem | undefined;
  readonly #node: FileNode;
  readonly #readable: boolean;
  readonly #writable: boolean;
  readonly #append: boolean;
  #position = 0;

  constructor(fs: MemoryFileSystem, node: FileNode, readable: boolean, writable: boolean, append: boolean) {
    this.#fs = fs;
    this.#node = node;
    this.#readable = readable;
    this.#writable = writable;
    this.#append = append;
  }

  #check(syscall: string, allowed: boolean): void {
    if (this.#fs === undefined || !allowed) throw systemError('EBADF', syscall);
  }

  async read(buffer: Uint8Array, offset: number, length: number, position: number | null): Promise<number> {
    await undefined;
    this.#check('read', this.#readable);
    const node = this.#node;
    const at = position ?? this.#position;
    const n = Math.max(0, Math.min(length, node.size - at));
    buffer.set(node.data.subarray(at, at + n), offset);
    if (position === null) this.#position += n;
    return n;
  }

  async write(buffer: Uint8Array, offset: number, length: number, position: number | null): Promise<number> {
    await undefined;
    this.#check('write', this.#writable);
    const node = this.#node;
    // O_APPEND: every write goes to the end, whatever the position (as on Linux).
    const at = this.#append ? node.size : position ?? this.#position;
    const end = at + length;
    if (end > node.data.length) {
      const grown = new Uint8Array(Math.max(end, node.data.length * 2, 64));
      grown.set(node.data.subarray(0, node.size));
      node.data = grown;
    }
    if (at > node.size) node.data.fill(0, node.size, at);
    node.data.set(buffer.subarray(offset, offset + length), at);
    node.size = Math.max(node.size, end);
    if (position === null || this.#append) this.#position = end;
    this.#fs!._touch(node);
    return length;
  }

  async sync(): Promise<void> {
    await undefined;
    this.#check('fsync', true);
  }

  async stat(): Promise<FileStat> {
    await undefined;
    this.#check('fstat', true);
    return statOf(this.#node);
  }

  async truncate(length: number): Promise<void> {
    await undefined;
    this.#check('ftruncate', this.#writable);
    const node = this.#node;
    if (length > node.data.length) {
      const grown = new Uint8Array(length);
      grown.set(node.data.subarray(0, node.size));
      node.data = grown;
    } else if (length > node.size) node.data.fill(0, node.size, length);
    node.size = length;
  }

  async close(): Promise<void> {
    await undefined;
    this.#check('close', true);
    this.#fs!._closed();
    this.#fs = undefined;
  }
}
