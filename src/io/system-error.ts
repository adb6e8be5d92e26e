/**
 * Node-shaped system errors for the memory backend (internal): the same `code`, `errno`,
 * `syscall`, `path` and message layout as libuv's, so code that branches on
 * `err.code === 'ENOENT'` behaves the same on both backends.
 */
import { constants } from 'node:os';

const MESSAGES: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EEXIST: 'file already exists',
  ENOTDIR: 'not a directory',
  EISDIR: 'illegal operation on a directory',
  ENOTEMPTY: 'directory not empty',
  EBADF: 'bad file descriptor',
  EMFILE: 'too many open files',
  ENFILE: 'file table overflow',
  EINVAL: 'invalid argument',
  ECONNREFUSED: 'connection refused',
  EADDRINUSE: 'address already in use',
  ECONNRESET: 'connection reset by peer',
  EPIPE: 'broken pipe',
};

/** @internal A Node-style system error. */
export interface SystemError extends Error {
  code: string;
  errno: number;
  syscall: string;
  path?: string;
  dest?: string;
  address?: string;
  port?: number;
}

/** @internal Builds an error shaped like the one libuv would give for `syscall` on `path`. */
export function systemError(code: string, syscall: string, path?: string, dest?: string): SystemError {
  const where = path === undefined ? '' : dest === undefined ? ` '${path}'` : ` '${path}' -> '${dest}'`;
  const err = new Error(`${code}: ${MESSAGES[code] ?? 'error'}, ${syscall}${where}`) as SystemError;
  err.errno = -((constants.errno as Record<string, number>)[code] ?? 1);
  err.code = code;
  err.syscall = syscall;
  if (path !== undefined) err.path = path;
  if (dest !== undefined) err.dest = dest;
  return err;
}
