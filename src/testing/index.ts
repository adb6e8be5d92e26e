/**
 * `zokio/testing`: tools that keep tests off wall-clock time and real I/O.
 *
 * @module zokio/testing
 */
export { memoryBackend, type MemoryBackend } from '../io/memory.js';
export { MemoryFileSystem, type MemoryFileSystemOptions } from '../io/fs/memory-fs.js';
export { MemoryNetwork } from '../io/net/memory-net.js';
