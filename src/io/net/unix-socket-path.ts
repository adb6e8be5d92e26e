/**
 * The length rule of a Unix socket path (internal), checked before any syscall.
 *
 * Implementation note. A Unix socket address is a `sockaddr_un` whose `sun_path` is a
 * fixed array with a terminating NUL: 108 bytes on Linux (107 usable), 104 on macOS and
 * the BSDs (103 usable). The kernel rejects a longer path with a bare `EINVAL` (or, worse,
 * some runtimes truncate it), so the check here names the path, its length and the limit.
 */
import { Buffer } from 'node:buffer';
import { SocketPathTooLongError, ZokioError } from '../../errors.js';

/** The most bytes a Unix socket path may have on `platform` (without the NUL). */
export function maxSocketPathBytes(platform: NodeJS.Platform = process.platform): number {
  return platform === 'linux' || platform === 'android' ? 107 : 103;
}

/**
 * @internal Throws `SocketPathTooLongError` for a path the OS cannot take, and
 * `ZOKIO_ERR_INVALID_ARGUMENT` for an empty one or one with a NUL byte.
 */
export function checkSocketPath(path: unknown, platform: NodeJS.Platform = process.platform): string {
  if (typeof path !== 'string' || path.length === 0) throw new ZokioError('ZOKIO_ERR_INVALID_ARGUMENT', `a Unix socket path must be a non-empty string (received ${typeof path === 'string' ? '""' : typeof path})`);
  if (path.includes('\0')) throw new ZokioError('ZOKIO_ERR_INVALID_ARGUMENT', 'a Unix socket path must not contain a NUL byte');
  const bytes = Buffer.byteLength(path);
  const max = maxSocketPathBytes(platform);
  if (bytes > max) throw new SocketPathTooLongError(path, bytes, max);
  return path;
}
