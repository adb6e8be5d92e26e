/**
 * Platform detection: what this process can do, read once at start.
 */
import { arch, availableParallelism, platform } from 'node:os';

/** What the platform offers, as detected at start. */
export interface PlatformCapabilities {
  /** `process.platform`, e.g. `linux`. */
  readonly os: NodeJS.Platform;
  /** `process.arch`, e.g. `x64`. */
  readonly arch: string;
  /** Cores available to this process (`os.availableParallelism()`). */
  readonly cpus: number;
  /** Node.js version. */
  readonly node: string;
  /** Whether `SharedArrayBuffer` exists. */
  readonly sharedArrayBuffer: boolean;
  /** Whether `Atomics.waitAsync` exists (needed for the completion loop). */
  readonly atomicsWaitAsync: boolean;
  /** The cache-line size shared-memory layouts pad to (an assumption, not a probe). */
  readonly cacheLineBytes: 64;
  /** The event poller libuv uses for sockets on this OS. */
  readonly poller: 'epoll' | 'kqueue' | 'IOCP' | 'event ports' | 'poll';
  /** Whether libuv's io_uring is enabled for fs (`UV_USE_IO_URING=1`, Linux only). */
  readonly ioUring: boolean;
}

function pollerFor(os: NodeJS.Platform): PlatformCapabilities['poller'] {
  switch (os) {
    case 'linux':
    case 'android':
      return 'epoll';
    case 'darwin':
    case 'freebsd':
    case 'openbsd':
    case 'netbsd' as NodeJS.Platform:
      return 'kqueue';
    case 'win32':
      return 'IOCP';
    case 'sunos':
      return 'event ports';
    default:
      return 'poll';
  }
}

let cached: PlatformCapabilities | undefined;

/** Detects the platform's capabilities (once per process). */
export function detectPlatform(): PlatformCapabilities {
  if (cached !== undefined) return cached;
  const os = platform();
  cached = Object.freeze({
    os,
    arch: arch(),
    cpus: availableParallelism(),
    node: process.versions.node,
    sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
    atomicsWaitAsync: typeof (Atomics as { waitAsync?: unknown }).waitAsync === 'function',
    cacheLineBytes: 64,
    poller: pollerFor(os),
    // Node disabled io_uring by default in 2024; libuv uses it only when asked.
    ioUring: os === 'linux' && process.env.UV_USE_IO_URING === '1',
  });
  return cached;
}
