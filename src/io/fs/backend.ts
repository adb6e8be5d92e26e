/**
 * The file-system backend interface (internal) and the value types both backends return.
 *
 * Implementation note. A backend offers the few primitives the public functions in
 * `fs.ts` are written on (open/read/write/sync/rename/...), so that atomic `writeFile`,
 * `walk` and `copy` are one piece of code that runs unchanged on libuv and in memory.
 * Backends report errors the way Node does: an `Error` with `code`, `errno`, `syscall`
 * and `path`.
 */

/** What a directory entry or stat result is. */
export type EntryKind = 'file' | 'directory' | 'symlink' | 'other';

/**
 * Metadata of a file or directory, as returned by `stat` and `FileHandle.stat`.
 *
 * @example
 * ```ts
 * import { stat } from 'zokio/fs';
 * const s = await stat('package.json');
 * if (s.isFile()) console.log(s.size);
 * ```
 */
export class FileStat {
  /** File, directory, symlink or other. */
  readonly kind: EntryKind;
  /** Size in bytes (0 for directories on the memory backend). */
  readonly size: number;
  /** Permission bits and type bits, as in `fs.Stats.mode`. */
  readonly mode: number;
  /** Last modification time in ms since the epoch. */
  readonly mtimeMs: number;

  /** @internal */
  constructor(kind: EntryKind, size: number, mode: number, mtimeMs: number) {
    this.kind = kind;
    this.size = size;
    this.mode = mode;
    this.mtimeMs = mtimeMs;
  }

  /** True for a regular file. */
  isFile(): boolean {
    return this.kind === 'file';
  }

  /** True for a directory. */
  isDirectory(): boolean {
    return this.kind === 'directory';
  }

  /** True for a symbolic link (only from `stat(path, { followSymlinks: false })`). */
  isSymbolicLink(): boolean {
    return this.kind === 'symlink';
  }
}

/**
 * One entry of `readDir`.
 *
 * @example
 * ```ts
 * import { readDir } from 'zokio/fs';
 * for (const entry of await readDir('.')) if (entry.isDirectory()) console.log(entry.name);
 * ```
 */
export class DirEntry {
  /** The entry's name inside its directory. */
  readonly name: string;
  /** File, directory, symlink or other. */
  readonly kind: EntryKind;

  /** @internal */
  constructor(name: string, kind: EntryKind) {
    this.name = name;
    this.kind = kind;
  }

  /** True for a regular file. */
  isFile(): boolean {
    return this.kind === 'file';
  }

  /** True for a directory. */
  isDirectory(): boolean {
    return this.kind === 'directory';
  }

  /** True for a symbolic link. */
  isSymbolicLink(): boolean {
    return this.kind === 'symlink';
  }
}

/** Flags accepted by `open`: the same letters as Node's. */
export type OpenFlags = 'r' | 'r+' | 'w' | 'w+' | 'wx' | 'wx+' | 'a' | 'a+' | 'ax' | 'ax+';

/** @internal An open file of a backend. */
export interface BackendHandle {
  /** Reads up to `length` bytes into `buffer[offset..]` at `position` (null: current position). */
  read(buffer: Uint8Array, offset: number, length: number, position: number | null): Promise<number>;
  /** Writes `buffer[offset..offset+length]` at `position` (null: current position / append). */
  write(buffer: Uint8Array, offset: number, length: number, position: number | null): Promise<number>;
  sync(): Promise<void>;
  stat(): Promise<FileStat>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

/** @internal The primitives a file-system backend provides. Paths are absolute. */
export interface FsBackend {
  readonly name: 'node' | 'memory';
  readFile(path: string, signal: AbortSignal | undefined): Promise<Buffer>;
  open(path: string, flags: OpenFlags, mode: number | undefined): Promise<BackendHandle>;
  stat(path: string, followSymlinks: boolean): Promise<FileStat>;
  readDir(path: string): Promise<DirEntry[]>;
  mkdir(path: string, recursive: boolean, mode: number | undefined): Promise<void>;
  rm(path: string, recursive: boolean, force: boolean): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  copyFile(from: string, to: string, overwrite: boolean): Promise<void>;
  /** Flushes a directory entry change (after rename) to disk; a no-op where unsupported. */
  syncDir(path: string): Promise<void>;
}
