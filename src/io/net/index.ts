/**
 * `zokio/net`: TCP and Unix-socket listeners and streams on the current runtime's I/O
 * backend (libuv sockets, or an in-memory loopback on the `memory` backend), with reads
 * and writes that honour backpressure, exact and line reads, and framed message streams.
 *
 * @module zokio/net
 */
export { TcpListener, type BindOptions } from './tcp-listener.js';
export { TcpStream, type ConnectOptions } from './tcp-stream.js';
export type { IoOptions } from './byte-stream.js';
export { type SocketAddress } from './backend.js';
export { TlsError, type TlsServerOptions, type TlsConnectOptions } from './tls.js';
export { UnixListener, type UnixBindOptions } from './unix-listener.js';
export { UnixStream, type UnixConnectOptions } from './unix-stream.js';
export { SocketStream } from './socket-stream.js';
export { maxSocketPathBytes } from './unix-socket-path.js';
export { type ByteStream, type ReadLineOptions } from './byte-stream.js';
export { framed, Framed, type FramedStream } from '../framed/framed.js';
export { type Codec, type Decoded } from '../framed/codec.js';
export { lengthDelimited, type LengthDelimitedOptions } from '../framed/length-delimited.js';
export { lines, jsonLines, type LinesOptions } from '../framed/lines.js';
export { FrameTooLargeError, FrameDecodeError, UnexpectedEofError, SocketPathTooLongError } from '../../errors.js';
