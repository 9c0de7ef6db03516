import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Code } from '../protocol/code.js';
import { describeConnectError, tlsFromEnv, tlsSocketOptions } from './tls.js';

const dir = mkdtempSync(join(tmpdir(), 'warren-tls-spec-'));
const pem = (name: string): string => {
  const path = join(dir, name);
  writeFileSync(path, `-----BEGIN CERTIFICATE-----\n${name}\n-----END CERTIFICATE-----\n`);
  return path;
};

describe('AMQP TLS options', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the environment, ignoring empty values', () => {
    expect(tlsFromEnv({})).toBeUndefined();
    expect(tlsFromEnv({ AMQP_CA_FILE: ' ', AMQP_CERT_FILE: '' })).toBeUndefined();
    expect(tlsFromEnv({ AMQP_CA_FILE: '/ca.pem', AMQP_KEY_PASSPHRASE: 'p w', AMQP_TLS_SERVERNAME: 'broker' })).toEqual({
      caFile: '/ca.pem',
      passphrase: 'p w',
      servername: 'broker',
    });
  });

  it('pins verification on for amqps, reads the files, and passes nothing for plain URLs without TLS settings', () => {
    expect(tlsSocketOptions(['amqp://h'], undefined)).toEqual({});
    expect(tlsSocketOptions(['amqps://h'], undefined)).toEqual({ rejectUnauthorized: true, minVersion: 'TLSv1.2' });
    const options = tlsSocketOptions(['amqps://h'], {
      caFile: pem('ca'),
      certFile: pem('cert'),
      keyFile: pem('key'),
      servername: 'broker',
    });
    expect(options).toMatchObject({ rejectUnauthorized: true, minVersion: 'TLSv1.2', servername: 'broker' });
    expect(String(options['ca'])).toContain('ca');
    expect(String(options['key'])).toContain('key');
  });

  it('refuses TLS settings on plain URLs, a certificate without its key, and unreadable files', () => {
    const refusal = (fn: () => unknown): { code: Code; rawMessage: string } => {
      try {
        fn();
      } catch (error) {
        return error as { code: Code; rawMessage: string };
      }
      throw new Error('no refusal');
    };
    expect(refusal(() => tlsSocketOptions(['amqps://a', 'amqp://b'], { caFile: pem('ca2') }))).toMatchObject({
      code: Code.INVALID_ARGUMENT,
      rawMessage: expect.stringContaining('use amqps://'),
    });
    expect(refusal(() => tlsSocketOptions(['amqps://a'], { certFile: pem('cert2') })).rawMessage).toContain(
      'private key',
    );
    expect(refusal(() => tlsSocketOptions(['amqps://a'], { caFile: join(dir, 'missing.pem') })).rawMessage).toContain(
      'AMQP_CA_FILE',
    );
  });

  it('names the certificate problem of a failed handshake', () => {
    const error = (code: string, message = code) => Object.assign(new Error(message), { code });
    expect(describeConnectError(error('SELF_SIGNED_CERT_IN_CHAIN'))).toContain(
      "broker's TLS certificate is not trusted",
    );
    expect(describeConnectError(error('UNABLE_TO_VERIFY_LEAF_SIGNATURE'))).toContain('AMQP_CA_FILE');
    expect(describeConnectError(error('CERT_HAS_EXPIRED'))).toContain('not valid now');
    expect(describeConnectError(error('ERR_TLS_CERT_ALTNAME_INVALID', 'Host: x is not in the cert'))).toContain(
      'does not name this host',
    );
    expect(describeConnectError(error('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'))).toContain(
      "this client's certificate",
    );
    expect(describeConnectError(error('ERR_SSL_WRONG_VERSION_NUMBER'))).toContain('TLS (amqps) listener');
    expect(describeConnectError(error('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'))).toBe(
      'connect ECONNREFUSED 127.0.0.1:1',
    );
  });
});
