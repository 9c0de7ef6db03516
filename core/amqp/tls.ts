import { readFileSync } from 'node:fs';
import { Code } from '../protocol/code.js';
import { RpcError } from '../protocol/rpc-error.js';

/**
 * TLS settings for `amqps://` broker URLs. The broker's certificate is
 * always verified (chain and host name); there is deliberately no switch to
 * turn that off. Without any of these, `amqps://` trusts the system CAs.
 * PEM contents (`ca`, `cert`, `key`) win over the matching file.
 */
export interface AmqpTlsOptions {
  /** PEM file of the CA(s) that signed the broker's certificate (instead of the system store). */
  readonly caFile?: string;
  /** PEM file of this client's certificate, for brokers that verify peers (`fail_if_no_peer_cert`). */
  readonly certFile?: string;
  /** PEM file of this client's private key. */
  readonly keyFile?: string;
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** Passphrase of an encrypted key. */
  readonly passphrase?: string;
  /** Host name to verify the certificate against (SNI), when the URL names an address or another host. */
  readonly servername?: string;
}

/**
 * The environment's TLS settings, shared by every Warren process (services,
 * gateway, CLI): `AMQP_CA_FILE`, `AMQP_CERT_FILE`, `AMQP_KEY_FILE`,
 * `AMQP_KEY_PASSPHRASE`, `AMQP_TLS_SERVERNAME`. `undefined` when none is set.
 */
export function tlsFromEnv(env: NodeJS.ProcessEnv = process.env): AmqpTlsOptions | undefined {
  const pick = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const entries = {
    caFile: pick('AMQP_CA_FILE'),
    certFile: pick('AMQP_CERT_FILE'),
    keyFile: pick('AMQP_KEY_FILE'),
    passphrase: env['AMQP_KEY_PASSPHRASE'] === '' ? undefined : env['AMQP_KEY_PASSPHRASE'],
    servername: pick('AMQP_TLS_SERVERNAME'),
  };
  const set = Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined)) as AmqpTlsOptions;
  return Object.keys(set).length === 0 ? undefined : set;
}

const ENV_OF: Record<string, string> = { caFile: 'AMQP_CA_FILE', certFile: 'AMQP_CERT_FILE', keyFile: 'AMQP_KEY_FILE' };

/**
 * amqplib socket options for `tls`: reads the files, checks the settings fit
 * the URLs, and pins verification on (`rejectUnauthorized: true`, TLS 1.2 at
 * least). Throws INVALID_ARGUMENT when a file cannot be read, when a client
 * certificate comes without its key (or the reverse), and when TLS settings
 * are given for a plain `amqp://` URL: that connection would send the
 * password unencrypted while the operator believes TLS is on.
 */
export function tlsSocketOptions(urls: readonly string[], tls: AmqpTlsOptions | undefined): Record<string, unknown> {
  const secure = urls.filter((url) => /^amqps:/i.test(url)).length;
  if (!tls) return secure > 0 ? { rejectUnauthorized: true, minVersion: 'TLSv1.2' } : {};
  if (secure < urls.length) {
    throw new RpcError(
      Code.INVALID_ARGUMENT,
      'TLS settings (CA, certificate or key) are given but the broker URL is amqp:// (plain TCP): use amqps:// so the connection is encrypted',
    );
  }
  const read = (field: 'caFile' | 'certFile' | 'keyFile'): Buffer | undefined => {
    const path = tls[field];
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (error) {
      throw new RpcError(
        Code.INVALID_ARGUMENT,
        `cannot read ${field} (${ENV_OF[field]}) ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        { cause: error },
      );
    }
  };
  const ca = tls.ca ?? read('caFile');
  const cert = tls.cert ?? read('certFile');
  const key = tls.key ?? read('keyFile');
  if ((cert === undefined) !== (key === undefined)) {
    throw new RpcError(
      Code.INVALID_ARGUMENT,
      'a TLS client certificate needs its private key and the other way round (AMQP_CERT_FILE with AMQP_KEY_FILE, --cert with --key)',
    );
  }
  const options: Record<string, unknown> = { rejectUnauthorized: true, minVersion: 'TLSv1.2' };
  if (ca !== undefined) options['ca'] = ca;
  if (cert !== undefined) options['cert'] = cert;
  if (key !== undefined) options['key'] = key;
  if (tls.passphrase !== undefined) options['passphrase'] = tls.passphrase;
  if (tls.servername !== undefined) options['servername'] = tls.servername;
  return options;
}

const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
]);
const CLIENT_CERT_REFUSED =
  /ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|HANDSHAKE_FAILURE|CERTIFICATE_UNKNOWN|ACCESS_DENIED|DECRYPT_ERROR)/;

/**
 * Says why a connection attempt failed in words an operator can act on,
 * naming the certificate problem for TLS failures. Never includes the URL
 * (callers add the redacted one).
 */
export function describeConnectError(error: unknown): string {
  const code = String((error as { code?: unknown } | undefined)?.code ?? '');
  const message = error instanceof Error ? error.message : String(error);
  if (UNTRUSTED.has(code)) {
    return `the broker's TLS certificate is not trusted (${code}): give the CA that signed it (AMQP_CA_FILE, --ca)`;
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID')
    return `the broker's TLS certificate is not valid now (${code})`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return `the broker's TLS certificate does not name this host (${message}); connect by a name it lists or set AMQP_TLS_SERVERNAME`;
  if (CLIENT_CERT_REFUSED.test(code) || CLIENT_CERT_REFUSED.test(message.toUpperCase().replace(/ /g, '_'))) {
    return `the broker refused the TLS handshake, most likely this client's certificate (missing, or not signed by a CA the broker trusts): set AMQP_CERT_FILE and AMQP_KEY_FILE (--cert, --key) (${code || message})`;
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'EPROTO')
    return `TLS handshake failed (${code}): is this port a TLS (amqps) listener?`;
  return message;
}
