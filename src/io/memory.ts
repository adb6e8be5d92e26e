/**
 * The `memory` I/O backend's public handle: reach the in-memory file system and network
 * of a runtime built with `.io('memory')`.
 */
import { ConfigError } from '../errors.js';
import { ioDriver } from './driver.js';
import type { MemoryFileSystem } from './fs/memory-fs.js';
import type { MemoryNetwork } from './net/memory-net.js';

/** The in-memory file system and network of one runtime. */
export interface MemoryBackend {
  /** The runtime's in-memory file system. */
  readonly fs: MemoryFileSystem;
  /** The runtime's in-memory loopback network. */
  readonly net: MemoryNetwork;
}

/**
 * The memory backend of `runtime` (default: the current runtime), to seed files or
 * inspect state in tests.
 *
 * Use it with a runtime built with `.io('memory')`: `zokio/fs` and `zokio/net` then work
 * on this state, deterministically, with no disk or socket involved.
 *
 * @example
 * ```ts
 * import { Runtime } from 'zokio';
 * import { memoryBackend } from 'zokio/testing';
 * const rt = Runtime.builder().io('memory').build();
 * memoryBackend(rt).fs.seed({ '/etc/app.conf': 'debug=1' });
 * console.log(memoryBackend(rt).fs.paths());
 * await rt.shutdown();
 * ```
 * @throws ConfigError when the runtime does not use the memory backend.
 */
export function memoryBackend(runtime?: object): MemoryBackend {
  const driver = ioDriver(runtime);
  const fs = driver.memoryFs;
  const net = driver.memoryNet;
  if (fs === undefined || net === undefined) {
    throw new ConfigError('io', "memoryBackend() needs a runtime built with .io('memory')", driver.backend);
  }
  return { fs, net };
}
