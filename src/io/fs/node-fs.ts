/**
 * The `node` file-system backend (internal): libuv through `node:fs/promises`.
 *
 * Implementation note. Every primitive maps to one `fs/promises` call, so errors are
 * Node's own (with `code`, `errno`, `syscall`, `path`). `readDir` sorts names so that both
 * backends list a directory in the same order.
 */
import { constants } from 'node:fs';
import * as fsp from 'node:fs/promises';
import type { Dirent, Stats } from 'node:fs';
import { DirEntry, FileStat, type BackendHandle, type EntryKind, type FsBackend, type OpenFlags } from './backend.js';

function kindOfStats(s: Stats | Dirent): EntryKind {
  if (s.isFile()) return 'file';
  if (s.isDirectory()) return 'directory';
  if (s.isSymbolicLink()) return 'symlink';
  return 'other';
}

function toStat(s: Stats): FileStat {
  return new FileStat(kindOfStats(s), s.size, s.mode, s.mtimeMs);
}

class NodeHandle implements BackendHandle {
  readonly #fh: fsp.FileHandle;
  constructor(fh: fsp.FileHandle) {
    this.#fh = fh;
  }
  async read(buffer: Uint8Array, offset: number, length: number, position: number | null): Promise<number> {
    return (await this.#fh.read(buffer, offset, length, position)).bytesRead;
  }
  async write(buffer: Uint8Array, offset: number, length: number, position: number | null): Promise<number> {
    return (await this.#fh.write(buffer, offset, length, position)).bytesWritten;
  }
  sync(): Promise<void> {
    return this.#fh.sync();
  }
  async stat(): Promise<FileStat> {
    return toStat(await this.#fh.stat());
  }
  truncate(length: number): Promise<void> {
    return this.#fh.truncate(length);
  }
  close(): Promise<void> {
    return this.#fh.close();
  }
}

/** @internal The libuv-backed file system. */
export const nodeFs: FsBackend = {
  name: 'node',
  readFile(path, signal) {
    return fsp.readFile(path, { signal });
  },
  async open(path: string, flags: OpenFlags, mode: number | undefined) {
    return new NodeHandle(await fsp.open(path, flags, mode));
  },
  async stat(path, followSymlinks) {
    return toStat(followSymlinks ? await fsp.stat(path) : await fsp.lstat(path));
  },
  async readDir(path) {
    const entries = await fsp.readdir(path, { withFileTypes: true });
    return entries.map((d) => new DirEntry(d.name, kindOfStats(d))).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  },
  async mkdir(path, recursive, mode) {
    await fsp.mkdir(path, { recursive, mode });
  },
  rm(path, recursive, force) {
    return fsp.rm(path, { recursive, force });
  },
  rename(from, to) {
    return fsp.rename(from, to);
  },
  copyFile(from, to, overwrite) {
    return fsp.copyFile(from, to, overwrite ? 0 : constants.COPYFILE_EXCL);
  },
  async syncDir(path) {
    if (process.platform === 'win32') return;
    let fh: fsp.FileHandle | undefined;
    try {
      fh = await fsp.open(path, 'r');
      await fh.sync();
    } catch {
      // Some file systems refuse fsync on a directory; the rename itself already happened.
    } finally {
      await fh?.close();
    }
  },
};
