// Throwaway TLS material for tests: a CA and a server certificate for 127.0.0.1/localhost,
// made with openssl into a fresh mkdtemp directory at run time (no key is committed).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCerts {
  /** The CA certificate that signed `cert` (PEM): trust it with `tls: { ca }`. */
  readonly ca: string;
  /** The server's private key (PEM). */
  readonly key: string;
  /** The server's certificate for 127.0.0.1 and localhost (PEM). */
  readonly cert: string;
  /** A second CA that signed nothing here: trusting only it rejects `cert`. */
  readonly otherCa: string;
  /** Removes the directory. */
  cleanup(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** Makes a CA, a server key and certificate (SAN 127.0.0.1, localhost), and an unrelated CA. */
export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'zokio-tls-'));
  const subj = (cn: string) => ['-subj', `/CN=${cn}`];
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', ...subj('zokio test CA')]);
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other.key', '-out', 'other.pem', '-days', '2', ...subj('zokio other CA')]);
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', ...subj('localhost')]);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext']);
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  return {
    ca: read('ca.pem'),
    key: read('server.key'),
    cert: read('server.pem'),
    otherCa: read('other.pem'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
