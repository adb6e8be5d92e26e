// TLS on both backends (real sockets, and node:tls over the in-memory loopback):
// TcpListener.bind({ tls }) and TcpStream.connect({ tls }) with a CA made at run time; an
// untrusted certificate is TlsError and the listener accepts nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../../../src/runtime/runtime.js';
import { TcpListener, TcpStream, TlsError } from '../../../src/io/net/index.js';
import { makeTestCerts, type TestCerts } from './tls-certs.js';

describe.each(['node', 'memory'] as const)('TLS streams on the %s backend', (io) => {
  let certs: TestCerts;
  beforeAll(() => {
    certs = makeTestCerts();
  });
  afterAll(() => certs.cleanup());

  it('a TLS listener and a TLS stream exchange bytes both ways after the handshake', async () => {
    const rt = createRuntime({ io });
    try {
      await rt.run(async () => {
        await using listener = await TcpListener.bind({ tls: { key: certs.key, cert: certs.cert } });
        const accepted = listener.accept();
        await using client = await TcpStream.connect({ port: listener.address.port, tls: { ca: certs.ca } });
        await using server = await accepted;
        await client.write('ping over tls');
        expect(Buffer.from((await server.read())!).toString()).toBe('ping over tls');
        await server.write('pong');
        expect(Buffer.from((await client.read())!).toString()).toBe('pong');
      });
    } finally {
      await rt.shutdown();
    }
  });

  it('close() does not wait for an accepted TLS stream, which stays open; shutdown returns and closes it', async () => {
    const rt = createRuntime({ io });
    const { client, server } = await rt.run(async () => {
      const listener = await TcpListener.bind({ tls: { key: certs.key, cert: certs.cert } });
      const accepted = listener.accept();
      const client = await TcpStream.connect({ port: listener.address.port, tls: { ca: certs.ca } });
      const server = await accepted;
      await listener.close(); // the peer stays connected
      await client.write('after close');
      expect(Buffer.from((await server.read())!).toString()).toBe('after close');
      await TcpListener.bind({ tls: { key: certs.key, cert: certs.cert } }); // left open for shutdown
      return { client, server };
    });
    await rt.shutdown({ timeoutMs: 0 });
    expect(server.closed).toBe(true);
    expect(client.closed).toBe(true);
  });

  it('a certificate the client does not trust is TlsError (ZOKIO_ERR_TLS) and the listener accepts nothing', async () => {
    const rt = createRuntime({ io });
    try {
      await rt.run(async () => {
        await using listener = await TcpListener.bind({ tls: { key: certs.key, cert: certs.cert } });
        const err = await TcpStream.connect({ port: listener.address.port, tls: { ca: certs.otherCa } }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(TlsError);
        expect((err as TlsError).code).toBe('ZOKIO_ERR_TLS');
        expect((err as TlsError).reason).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/);
        // wrong host name against the right CA
        const wrongName = await TcpStream.connect({ port: listener.address.port, tls: { ca: certs.ca, servername: 'example.com' } }).catch((e: unknown) => e);
        expect((wrongName as TlsError).reason).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
        const controller = new AbortController();
        const waiting = listener.accept({ signal: controller.signal });
        controller.abort(new Error('nothing came'));
        await expect(waiting).rejects.toThrow('nothing came');
      });
    } finally {
      await rt.shutdown();
    }
  });
});
