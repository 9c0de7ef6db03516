import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** PEM files of a test PKI, all in one temporary directory. */
export interface TestCertificates {
  readonly dir: string;
  /** The CA that signed the server and client certificates. */
  readonly caFile: string;
  /** The broker's certificate (SAN: localhost, 127.0.0.1) and key. */
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  /** A client certificate (CN=warren-test-client) and key, signed by the CA. */
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** A second CA that has nothing to do with the first. */
  readonly otherCaFile: string;
  /** A client certificate and key signed by the other CA. */
  readonly otherClientCertFile: string;
  readonly otherClientKeyFile: string;
  /** Deletes the directory. */
  remove(): void;
}

/**
 * Generates a throwaway PKI with the `openssl` command line: two unrelated
 * CAs, a server certificate for localhost / 127.0.0.1 and client
 * certificates from each CA. EC P-256 keys (fast to make), valid for two
 * days, nothing written outside a fresh temporary directory.
 */
export async function createTestCertificates(): Promise<TestCertificates> {
  const dir = mkdtempSync(join(tmpdir(), 'warren-certs-'));
  const path = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): Promise<unknown> => run('openssl', args, { cwd: dir });
  const key = (name: string): Promise<unknown> =>
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path(name));

  const makeCa = async (name: string, subject: string): Promise<void> => {
    await key(`${name}.key`);
    await openssl(
      'req',
      '-x509',
      '-new',
      '-key',
      path(`${name}.key`),
      '-out',
      path(`${name}.pem`),
      '-days',
      '2',
      '-subj',
      subject,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
  };
  const makeLeaf = async (name: string, ca: string, subject: string, extensions: string): Promise<void> => {
    await key(`${name}.key`);
    await openssl('req', '-new', '-key', path(`${name}.key`), '-out', path(`${name}.csr`), '-subj', subject);
    writeFileSync(path(`${name}.ext`), extensions);
    await openssl(
      'x509',
      '-req',
      '-in',
      path(`${name}.csr`),
      '-CA',
      path(`${ca}.pem`),
      '-CAkey',
      path(`${ca}.key`),
      '-CAcreateserial',
      '-out',
      path(`${name}.pem`),
      '-days',
      '2',
      '-extfile',
      path(`${name}.ext`),
    );
  };

  await makeCa('ca', '/CN=Warren Test CA');
  await makeCa('other-ca', '/CN=Unrelated Test CA');
  await makeLeaf(
    'server',
    'ca',
    '/CN=localhost',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n',
  );
  const client = 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n';
  await makeLeaf('client', 'ca', '/CN=warren-test-client', client);
  await makeLeaf('other-client', 'other-ca', '/CN=warren-test-client', client);

  return {
    dir,
    caFile: path('ca.pem'),
    serverCertFile: path('server.pem'),
    serverKeyFile: path('server.key'),
    clientCertFile: path('client.pem'),
    clientKeyFile: path('client.key'),
    otherCaFile: path('other-ca.pem'),
    otherClientCertFile: path('other-client.pem'),
    otherClientKeyFile: path('other-client.key'),
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * rabbitmq.conf lines for a TLS listener on 127.0.0.1:`port` that verifies
 * peers and refuses clients without a certificate from `certs.caFile`.
 */
export function tlsListenerConfig(certs: TestCertificates, port: number): string[] {
  return [
    `listeners.ssl.local = 127.0.0.1:${port}`,
    `ssl_options.cacertfile = ${certs.caFile}`,
    `ssl_options.certfile = ${certs.serverCertFile}`,
    `ssl_options.keyfile = ${certs.serverKeyFile}`,
    'ssl_options.verify = verify_peer',
    'ssl_options.fail_if_no_peer_cert = true',
  ];
}
