/**
 * `zokio/fs`: async file-system functions over the current runtime's I/O backend.
 *
 * Implementation note. Every operation goes through the runtime's fs limiter (a FIFO
 * concurrency limit) and retries `EMFILE`/`ENFILE` with exponential backoff on the
 * runtime's `sleep`. Atomic `writeFile`, `walk` and `copy` are written once over the
 * backend primitives, so both backends run the same code. Errors are the backend's own,
 * which keep Node's `code`, `syscall` and `path`.
 */
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readyFor, taskIterator, taskWait } from '../../scheduler/task.js';
import { abortReason, sleep } from '../../scheduler/time.js';
import { ioDriver, type IoDriver } from '../driver.js';
import type { BackendHandle, DirEntry, EntryKind, FileStat, OpenFlags } from './backend.js';

/** A path: a string (relative to `process.cwd()`) or a `file:` URL. */
export type PathLike = string | URL;

/** Options every fs function accepts. */
export interface FsOptions {
  /** Aborts the operation while it waits for a slot, between retries, and between steps. */
  readonly signal?: AbortSignal;
}

/** Retries of an operation that fails with EMFILE/ENFILE before the error is thrown. */
const MAX_RETRIES = 10;
/** Longest backoff between retries, in ms. */
const MAX_BACKOFF_MS = 100;

function toPath(path: PathLike): string {
  return resolve(typeof path === 'string' ? path : fileURLToPath(path));
}

function isFdExhaustion(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'EMFILE' || code === 'ENFILE';
}

/** Runs `op` under the limiter, retrying fd exhaustion with backoff 1, 2, 4 … 100 ms. */
async function run<T>(driver: IoDriver, op: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    await driver.fsLimiter.acquire(signal);
    driver.fsOps++;
    try {
      return await op();
    } catch (err) {
      if (!isFdExhaustion(err) || attempt >= MAX_RETRIES) throw err;
      driver.fsRetries++;
    } finally {
      driver.fsLimiter.release();
    }
    await sleep(Math.min(2 ** attempt, MAX_BACKOFF_MS), { signal });
  }
}

/**
 * Sets how many fs operations the current runtime (or `runtime`) runs at once; extra
 * calls wait in FIFO order.
 *
 * Use it to keep a burst of file work from flooding libuv's thread pool or the process's
 * file-descriptor table.
 *
 * @example
 * ```ts
 * import { setFsConcurrency } from 'zokio/fs';
 * setFsConcurrency(16);
 * ```
 * @default 64
 */
export function setFsConcurrency(limit: number, runtime?: object): void {
  ioDriver(runtime).fsLimiter.limit = limit;
}

/** Options of {@link readFile}. */
export interface ReadFileOptions extends FsOptions {
  /** Decode the bytes as text with this encoding; without it you get a `Buffer`. */
  readonly encoding?: BufferEncoding;
}

/**
 * Reads a whole file.
 *
 * @example
 * ```ts
 * import { readFile } from 'zokio/fs';
 * const bytes = await readFile('package.json');
 * const text = await readFile('package.json', { encoding: 'utf8' });
 * ```
 *
 * *Cancellation*: an aborted `signal` rejects with its reason; on the node backend the
 * read itself is cancelled between chunks.
 * @throws the backend's error, with Node's `code` and `path` (e.g. `ENOENT`).
 */
export function readFile(path: PathLike, options: ReadFileOptions & { readonly encoding: BufferEncoding }): Promise<string>;
export function readFile(path: PathLike, options?: ReadFileOptions): Promise<Buffer>;
export function readFile(path: PathLike, options?: ReadFileOptions): Promise<Buffer | string> {
  return taskWait(readFileNow(path, options));
}

async function readFileNow(path: PathLike, options?: ReadFileOptions): Promise<Buffer | string> {
  const driver = ioDriver();
  const abs = toPath(path);
  const signal = options?.signal;
  const data = await run(driver, () => driver.fs.readFile(abs, signal), signal);
  return options?.encoding === undefined ? data : data.toString(options.encoding);
}

/** What `writeFile` and `appendFile` accept. */
export type FileData = string | Uint8Array;

function toBytes(data: FileData): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data) : data;
}

async function writeAll(handle: BackendHandle, bytes: Uint8Array, position: number | null): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const n = await handle.write(bytes, done, bytes.length - done, position === null ? null : position + done);
    done += n;
  }
}

/** Options of {@link writeFile}. */
export interface WriteFileOptions extends FsOptions {
  /**
   * Permission bits of the new file (before the umask), e.g. `0o600`.
   * @default 0o666
   */
  readonly mode?: number;
}

/**
 * Replaces a file's contents atomically: writes a temporary file in the same directory,
 * fsyncs it, renames it over the target and fsyncs the directory. A crash at any moment
 * leaves either the old contents or the new, never a mix.
 *
 * Use it for config files, state snapshots, anything a reader must never see half
 * written. For logs use {@link appendFile}.
 *
 * @example
 * ```ts
 * import { writeFile } from 'zokio/fs';
 * await writeFile('state.json', JSON.stringify({ n: 1 }), { mode: 0o600 });
 * ```
 *
 * *Cancellation*: an aborted `signal` stops before the rename; the temporary file is
 * removed and the target keeps its old contents. A process killed mid-write can leave a
 * `.NAME.*.tmp` file beside the target.
 */
export function writeFile(path: PathLike, data: FileData, options?: WriteFileOptions): Promise<void> {
  return taskWait(writeFileNow(path, data, options));
}

async function writeFileNow(path: PathLike, data: FileData, options?: WriteFileOptions): Promise<void> {
  const driver = ioDriver();
  const target = toPath(path);
  const signal = options?.signal;
  const bytes = toBytes(data);
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const fs = driver.fs;
  let renamed = false;
  try {
    await run(driver, async () => {
      const handle = await fs.open(temp, 'wx', options?.mode);
      try {
        await writeAll(handle, bytes, 0);
        signal?.throwIfAborted();
        await handle.sync();
      } finally {
        await handle.close();
      }
    }, signal);
    signal?.throwIfAborted();
    await run(driver, () => fs.rename(temp, target), signal);
    renamed = true;
    await run(driver, () => fs.syncDir(dirname(target)), undefined);
  } finally {
    if (!renamed) await fs.rm(temp, false, true).catch(() => undefined);
  }
}

/**
 * Appends to a file, creating it if needed.
 *
 * @example
 * ```ts
 * import { appendFile } from 'zokio/fs';
 * await appendFile('app.log', 'started\n');
 * ```
 *
 * *Cancellation*: an aborted `signal` rejects before the write starts; a write in
 * progress completes.
 */
export function appendFile(path: PathLike, data: FileData, options?: WriteFileOptions): Promise<void> {
  return taskWait(appendFileNow(path, data, options));
}

async function appendFileNow(path: PathLike, data: FileData, options?: WriteFileOptions): Promise<void> {
  const driver = ioDriver();
  const abs = toPath(path);
  const bytes = toBytes(data);
  await run(driver, async () => {
    const handle = await driver.fs.open(abs, 'a', options?.mode);
    try {
      await writeAll(handle, bytes, null);
    } finally {
      await handle.close();
    }
  }, options?.signal);
}

/**
 * An open file with positional reads and writes. Close it with `close()` or
 * `await using`.
 *
 * @example
 * ```ts
 * import { open } from 'zokio/fs';
 * await using file = await open('data.bin', 'w+');
 * await file.write('hello', 0);
 * const buf = new Uint8Array(5);
 * await file.read(buf, 0);
 * ```
 */
export class FileHandle {
  #handle: BackendHandle | undefined;
  readonly #driver: IoDriver;
  /** The absolute path the file was opened with. */
  readonly path: string;

  /** @internal Use {@link open}. */
  constructor(driver: IoDriver, handle: BackendHandle, path: string) {
    this.#driver = driver;
    this.#handle = handle;
    this.path = path;
  }

  #live(): BackendHandle {
    if (this.#handle === undefined) throw Object.assign(new Error(`EBADF: bad file descriptor, file handle of '${this.path}' is closed`), { code: 'EBADF', syscall: 'read', path: this.path });
    return this.#handle;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#handle === undefined;
  }

  /**
   * Reads into `buffer` starting at byte `position` of the file (`null`: at the current
   * position, which then advances). Returns the number of bytes read; 0 at end of file.
   *
   * *Cancellation*: `signal` aborts while waiting for an fs slot.
   */
  read(buffer: Uint8Array, position: number | null = null, options?: FsOptions & { readonly offset?: number; readonly length?: number }): Promise<number> {
    return taskWait(this.#readNow(buffer, position, options));
  }

  async #readNow(buffer: Uint8Array, position: number | null, options: (FsOptions & { readonly offset?: number; readonly length?: number }) | undefined): Promise<number> {
    const handle = this.#live();
    const offset = options?.offset ?? 0;
    const length = options?.length ?? buffer.length - offset;
    return run(this.#driver, () => handle.read(buffer, offset, length, position), options?.signal);
  }

  /**
   * Writes all of `data` at byte `position` of the file (`null`: at the current position,
   * or at the end for files opened in append mode). Returns the number of bytes written.
   *
   * *Cancellation*: `signal` aborts while waiting for an fs slot.
   */
  write(data: FileData, position: number | null = null, options?: FsOptions): Promise<number> {
    return taskWait(this.#writeNow(data, position, options));
  }

  async #writeNow(data: FileData, position: number | null, options: FsOptions | undefined): Promise<number> {
    const handle = this.#live();
    const bytes = toBytes(data);
    await run(this.#driver, () => writeAll(handle, bytes, position), options?.signal);
    return bytes.length;
  }

  /**
   * Flushes the file's data and metadata to disk (fsync).
   *
   * *Cancellation*: `signal` aborts while waiting for an fs slot; not once started.
   */
  sync(options?: FsOptions): Promise<void> {
    return taskWait(this.#op((handle) => handle.sync(), options));
  }

  /**
   * The file's metadata.
   *
   * *Cancellation*: `signal` aborts while waiting for an fs slot; not once started.
   */
  stat(options?: FsOptions): Promise<FileStat> {
    return taskWait(this.#op((handle) => handle.stat(), options));
  }

  /**
   * Cuts or extends the file to `length` bytes.
   *
   * *Cancellation*: `signal` aborts while waiting for an fs slot; not once started.
   */
  truncate(length = 0, options?: FsOptions): Promise<void> {
    return taskWait(this.#op((handle) => handle.truncate(length), options));
  }

  /** One operation on the open handle, through the fs slots (a closed handle rejects with EBADF). */
  async #op<T>(op: (handle: BackendHandle) => Promise<T>, options: FsOptions | undefined): Promise<T> {
    const handle = this.#live();
    return run(this.#driver, () => op(handle), options?.signal);
  }

  /** Closes the file; later calls do nothing. *Cancellation*: not cancellable. */
  close(): Promise<void> {
    const handle = this.#handle;
    if (handle === undefined) return readyFor(undefined);
    this.#handle = undefined;
    return taskWait(handle.close());
  }

  /** `await using file = await open(...)` closes the file at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Options of {@link open}. */
export interface OpenOptions extends FsOptions {
  /** Permission bits when the file is created. @default 0o666 */
  readonly mode?: number;
}

/**
 * Opens a file for positional reads and writes. Flags are Node's: `'r'` (default),
 * `'r+'`, `'w'`, `'w+'`, `'wx'`, `'a'`, `'a+'`, ...
 *
 * @example
 * ```ts
 * import { open } from 'zokio/fs';
 * const file = await open('data.bin', 'a');
 * await file.write('line\n');
 * await file.close();
 * ```
 *
 * *Cancellation*: `signal` aborts while waiting for an fs slot or between EMFILE retries.
 */
export function open(path: PathLike, flags: OpenFlags = 'r', options?: OpenOptions): Promise<FileHandle> {
  return taskWait(openNow(path, flags, options));
}

async function openNow(path: PathLike, flags: OpenFlags = 'r', options?: OpenOptions): Promise<FileHandle> {
  const driver = ioDriver();
  const abs = toPath(path);
  const handle = await run(driver, () => driver.fs.open(abs, flags, options?.mode), options?.signal);
  return new FileHandle(driver, handle, abs);
}

/** Options of {@link stat}. */
export interface StatOptions extends FsOptions {
  /** `false` describes a symlink itself (lstat). @default true */
  readonly followSymlinks?: boolean;
}

/**
 * Reads a file's or directory's metadata.
 *
 * @example
 * ```ts
 * import { stat } from 'zokio/fs';
 * const s = await stat('src');
 * console.log(s.isDirectory(), s.mtimeMs);
 * ```
 *
 * *Cancellation*: `signal` aborts while waiting for an fs slot.
 */
export function stat(path: PathLike, options?: StatOptions): Promise<FileStat> {
  const driver = ioDriver();
  const abs = toPath(path);
  return taskWait(run(driver, () => driver.fs.stat(abs, options?.followSymlinks ?? true), options?.signal));
}

/**
 * Lists a directory, sorted by name (on both backends).
 *
 * @example
 * ```ts
 * import { readDir } from 'zokio/fs';
 * const names = (await readDir('.')).map((e) => e.name);
 * ```
 *
 * *Cancellation*: `signal` aborts while waiting for an fs slot.
 */
export function readDir(path: PathLike, options?: FsOptions): Promise<DirEntry[]> {
  const driver = ioDriver();
  const abs = toPath(path);
  return taskWait(run(driver, () => driver.fs.readDir(abs), options?.signal));
}

/** One entry yielded by {@link walk}. */
export interface WalkEntry {
  /** Absolute path. */
  readonly path: string;
  /** Name inside its directory. */
  readonly name: string;
  /** File, directory, symlink or other (symlinks are not followed). */
  readonly kind: EntryKind;
  /** 1 for the root's children, 2 for their children, ... */
  readonly depth: number;
}

/** Options of {@link walk}. */
export interface WalkOptions extends FsOptions {
  /** Return false to skip an entry; a skipped directory is not entered. */
  readonly filter?: (entry: WalkEntry) => boolean;
  /** Deepest level to descend to. @default Infinity */
  readonly maxDepth?: number;
}

/**
 * Walks a directory tree depth-first (pre-order, children sorted by name), yielding
 * every entry below `root`. Symlinks are yielded but not followed.
 *
 * @example
 * ```ts
 * import { walk } from 'zokio/fs';
 * for await (const entry of walk('src', { filter: (e) => e.name !== 'node_modules' })) {
 *   if (entry.kind === 'file' && entry.name.endsWith('.ts')) console.log(entry.path);
 * }
 * ```
 *
 * *Cancellation*: when `signal` aborts, the next step of the iteration rejects with its
 * reason; breaking out of the loop stops the walk too. Inside a task, each step settles
 * as the task's own wait, so an aborted task stops at its next await after it.
 */
export function walk(root: PathLike, options?: WalkOptions): AsyncGenerator<WalkEntry, void, undefined> {
  return taskIterator(walkSteps(root, options));
}

async function* walkSteps(root: PathLike, options?: WalkOptions): AsyncGenerator<WalkEntry, void, undefined> {
  const driver = ioDriver();
  const signal = options?.signal;
  const filter = options?.filter;
  const maxDepth = options?.maxDepth ?? Infinity;
  // An explicit stack of directory listings: depth-first without recursion.
  const stack: Array<{ dir: string; depth: number; entries: DirEntry[]; next: number }> = [];
  const rootPath = toPath(root);
  stack.push({ dir: rootPath, depth: 1, entries: await run(driver, () => driver.fs.readDir(rootPath), signal), next: 0 });
  while (stack.length > 0) {
    if (signal?.aborted) throw abortReason(signal);
    const top = stack[stack.length - 1]!;
    if (top.next >= top.entries.length) {
      stack.pop();
      continue;
    }
    const dirent = top.entries[top.next++]!;
    const entry: WalkEntry = { path: join(top.dir, dirent.name), name: dirent.name, kind: dirent.kind, depth: top.depth };
    if (filter !== undefined && !filter(entry)) continue;
    yield entry;
    if (entry.kind === 'directory' && entry.depth < maxDepth) {
      const entries = await run(driver, () => driver.fs.readDir(entry.path), signal);
      stack.push({ dir: entry.path, depth: entry.depth + 1, entries, next: 0 });
    }
  }
}

/** Options of {@link mkdir}. */
export interface MkdirOptions extends FsOptions {
  /** Create missing parents; no error if the directory exists. @default false */
  readonly recursive?: boolean;
  /** Permission bits. @default 0o777 */
  readonly mode?: number;
}

/**
 * Creates a directory.
 *
 * @example
 * ```ts
 * import { mkdir } from 'zokio/fs';
 * await mkdir('out/reports', { recursive: true });
 * ```
 *
 * *Cancellation*: `signal` aborts while waiting for an fs slot.
 */
export function mkdir(path: PathLike, options?: MkdirOptions): Promise<void> {
  const driver = ioDriver();
  const abs = toPath(path);
  return taskWait(run(driver, () => driver.fs.mkdir(abs, options?.recursive ?? false, options?.mode), options?.signal));
}

/** Options of {@link rm}. */
export interface RmOptions extends FsOptions {
  /** Remove directories and their contents. @default false */
  readonly recursive?: boolean;
  /** No error when the path does not exist. @default false */
  readonly force?: boolean;
}

/**
 * Removes a file, or a directory tree with `recursive: true`.
 *
 * @example
 * ```ts
 * import { rm } from 'zokio/fs';
 * await rm('out', { recursive: true, force: true });
 * ```
 *
 * *Cancellation*: `signal` aborts while waiting for an fs slot.
 */
export function rm(path: PathLike, options?: RmOptions): Promise<void> {
  const driver = ioDriver();
  const abs = toPath(path);
  return taskWait(run(driver, () => driver.fs.rm(abs, options?.recursive ?? false, options?.force ?? false), options?.signal));
}

/** Options of {@link copy}. */
export interface CopyOptions extends FsOptions {
  /** Replace existing files at the destination. @default true */
  readonly overwrite?: boolean;
}

/**
 * Copies a file, or a directory tree (created as needed at `dest`).
 *
 * @example
 * ```ts
 * import { copy } from 'zokio/fs';
 * await copy('assets', 'dist/assets');
 * ```
 *
 * *Cancellation*: when `signal` aborts, the copy stops before the next file; files
 * already copied stay.
 */
export function copy(src: PathLike, dest: PathLike, options?: CopyOptions): Promise<void> {
  return taskWait(copyNow(src, dest, options));
}

async function copyNow(src: PathLike, dest: PathLike, options?: CopyOptions): Promise<void> {
  const driver = ioDriver();
  const from = toPath(src);
  const to = toPath(dest);
  const signal = options?.signal;
  const overwrite = options?.overwrite ?? true;
  const info = await run(driver, () => driver.fs.stat(from, true), signal);
  if (!info.isDirectory()) {
    await run(driver, () => driver.fs.copyFile(from, to, overwrite), signal);
    return;
  }
  await run(driver, () => driver.fs.mkdir(to, true, info.mode & 0o777), signal);
  for await (const entry of walk(from, { signal })) {
    const target = join(to, entry.path.slice(from.length + 1));
    if (entry.kind === 'directory') await run(driver, () => driver.fs.mkdir(target, true, undefined), signal);
    else if (entry.kind === 'file') await run(driver, () => driver.fs.copyFile(entry.path, target, overwrite), signal);
  }
}
