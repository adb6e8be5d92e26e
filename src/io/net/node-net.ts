/**
 * The `node` network backend (internal): libuv TCP sockets through `node:net`.
 */
import { createConnection, createServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { abortReason } from '../../scheduler/abort-reason.js';
import { closeListening, type BackendListener, type NetBackend, type SocketAddress } from './backend.js';
import { connectUnixNode, listenUnixNode } from './unix-node.js';

/** @internal */
export const nodeNet: NetBackend = {
  name: 'node',
  listen(host, port, backlog, onConnection, options) {
    return new Promise<BackendListener>((resolve, reject) => {
      const server = createServer({ pauseOnConnect: true, allowHalfOpen: options?.allowHalfOpen ?? false }, (socket) => onConnection(socket));
      server.once('error', reject);
      server.listen({ host, port, backlog }, () => {
        server.off('error', reject);
        const info = server.address();
        const address: SocketAddress = typeof info === 'object' && info !== null ? { host: info.address, port: info.port } : { host, port };
        resolve({
          address,
          close: () => closeListening(server),
        });
      });
    });
  },
  listenPath: listenUnixNode,
  connectPath: connectUnixNode,
  connect(host, port, signal) {
    return new Promise<Duplex>((resolve, reject) => {
      if (signal?.aborted) return reject(abortReason(signal));
      const socket: Socket = createConnection({ host, port });
      const onAbort = (): void => {
        socket.destroy();
        reject(abortReason(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () => {
        signal?.removeEventListener('abort', onAbort);
        socket.off('error', reject);
        resolve(socket);
      });
      socket.once('error', (err) => {
        signal?.removeEventListener('abort', onAbort);
        reject(err);
      });
    });
  },
};
