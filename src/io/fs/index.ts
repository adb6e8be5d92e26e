/**
 * `zokio/fs`: async file system on the current runtime's I/O backend (`node` or
 * `memory`): atomic `writeFile`, positional file handles, `walk`, a per-runtime
 * concurrency limit and retry on `EMFILE`/`ENFILE`.
 *
 * @module zokio/fs
 */
export {
  readFile,
  writeFile,
  appendFile,
  open,
  stat,
  readDir,
  walk,
  mkdir,
  rm,
  copy,
  setFsConcurrency,
  FileHandle,
  type PathLike,
  type FsOptions,
  type ReadFileOptions,
  type WriteFileOptions,
  type FileData,
  type OpenOptions,
  type StatOptions,
  type WalkEntry,
  type WalkOptions,
  type MkdirOptions,
  type RmOptions,
  type CopyOptions,
} from './fs.js';
export { FileStat, DirEntry, type EntryKind, type OpenFlags } from './backend.js';
