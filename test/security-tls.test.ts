import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AmqpTlsOptions, Code, connectAmqp, createClient, createServer, RpcError } from '../core/index.js';
import { TestServiceDefinition } from '../gen/warren/test/v1/test.js';
import { createTestCertificates, tlsListenerConfig, type TestCertificates } from './support/certs.js';
import { runScript, startTestServer, type ChildScript } from './support/child-process.js';
import { runWarren } from './support/cli.js';
import { call } from './support/gateway-harness.js';
import { testService } from '../core/testing/test-service.js';
import { startThrowawayBroker, type ThrowawayBroker } from './support/throwaway-broker.js';

const quiet = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return quiet;
  },
};

/** The UNAVAILABLE error a connection attempt ends with (the test fails if it connects). */
async function refusal(url: string, tls: AmqpTlsOptions): Promise<RpcError> {
  try {
    const transport = await connectAmqp({ url, tls, logger: quiet });
    await transport.close();
  } catch (error) {
    expect(error).toBeInstanceOf(RpcError);
    return error as RpcError;
  }
  throw new Error('connected, but should have been refused');
}

// TLS to a RabbitMQ node of the suite's own (the shared broker's config is never touched): a listener that verifies
// peers and requires a client certificate, certificates made with openssl for this run.
describe('TLS to the broker', () => {
  let certs: TestCertificates;
  let broker: ThrowawayBroker;
  let url: string;
  let good: AmqpTlsOptions;
  let tlsEnv: Record<string, string>;

  beforeAll(async () => {
    certs = await createTestCertificates();
    broker = await startThrowawayBroker({
      label: 'tls',
      extraConfig: (ports) => tlsListenerConfig(certs, ports.spare),
    });
    url = `amqps://guest:guest@127.0.0.1:${broker.ports.spare}`;
    good = { caFile: certs.caFile, certFile: certs.clientCertFile, keyFile: certs.clientKeyFile };
    tlsEnv = {
      AMQP_URL: url,
      AMQP_CA_FILE: certs.caFile,
      AMQP_CERT_FILE: certs.clientCertFile,
      AMQP_KEY_FILE: certs.clientKeyFile,
    };
  }, 120_000);
  afterAll(async () => {
    await broker?.remove();
    certs?.remove();
  });

  it('connects with the right CA and a client certificate, and RPCs run over the encrypted connection', async () => {
    const transport = await connectAmqp({ url, tls: good, connectionName: 'tls-suite', logger: quiet });
    try {
      await createServer({ transport, instance: 'tls' })
        .add(TestServiceDefinition, testService('tls').implementation)
        .start();
      const reply = await createClient(TestServiceDefinition, transport).echo(
        { text: 'encrypted' },
        { timeoutMs: 10_000 },
      );
      expect(reply.text).toBe('encrypted');
      const connections = await broker.rabbitmqctl(
        'list_connections',
        '--quiet',
        '--no-table-headers',
        'ssl',
        'peer_cert_subject',
        'client_properties',
      );
      const ours = connections.split('\n').find((line) => line.includes('tls-suite'));
      expect(ours).toMatch(/^true\s+CN=warren-test-client/);
    } finally {
      await transport.close();
    }
  });

  it('refuses a broker certificate from another CA (or with no CA given) with UNAVAILABLE naming the certificate', async () => {
    for (const tls of [
      { ...good, caFile: certs.otherCaFile },
      { certFile: certs.clientCertFile, keyFile: certs.clientKeyFile },
    ]) {
      const error = await refusal(url, tls);
      expect(error.code).toBe(Code.UNAVAILABLE);
      expect(error.rawMessage).toContain("the broker's TLS certificate is not trusted");
      expect(error.rawMessage).toContain('AMQP_CA_FILE');
      expect(error.rawMessage).toContain('amqps://guest:***@127.0.0.1');
    }
  });

  it('is refused by the broker without a client certificate, or with one from an unknown CA', async () => {
    for (const tls of [
      { caFile: certs.caFile },
      { caFile: certs.caFile, certFile: certs.otherClientCertFile, keyFile: certs.otherClientKeyFile },
    ]) {
      const error = await refusal(url, tls);
      expect(error.code).toBe(Code.UNAVAILABLE);
      expect(error.rawMessage).toContain("this client's certificate");
      expect(error.rawMessage).toContain('AMQP_CERT_FILE');
    }
  });

  it('checks the host name: a certificate for localhost is refused for another name', async () => {
    const error = await refusal(url, { ...good, servername: 'broker.elsewhere.example' });
    expect(error.code).toBe(Code.UNAVAILABLE);
    expect(error.rawMessage).toContain('does not name this host');
  });

  it('refuses TLS settings on a plain amqp:// URL, and a certificate without its key, before connecting', async () => {
    await expect(connectAmqp({ url: broker.url, tls: good, logger: quiet })).rejects.toMatchObject({
      code: Code.INVALID_ARGUMENT,
      rawMessage: expect.stringContaining('use amqps://'),
    });
    await expect(
      connectAmqp({ url, tls: { caFile: certs.caFile, certFile: certs.clientCertFile }, logger: quiet }),
    ).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    await expect(
      connectAmqp({ url, tls: { caFile: `${certs.dir}/missing.pem` }, logger: quiet }),
    ).rejects.toMatchObject({ rawMessage: expect.stringContaining('ENOENT') });
  });

  it('services and the gateway take TLS from AMQP_CA_FILE / AMQP_CERT_FILE / AMQP_KEY_FILE', async () => {
    let server: ChildScript | undefined;
    let gateway: ChildScript | undefined;
    try {
      server = await startTestServer(url, 'tls-child', tlsEnv);
      gateway = runScript(fileURLToPath(new URL('../gateway/main.ts', import.meta.url)), {
        ...tlsEnv,
        PORT: '0',
        HOST: '127.0.0.1',
        GATEWAY_EXPOSE: '*',
        WARREN_LOG_LEVEL: 'info',
      });
      const base = `http://127.0.0.1:${(JSON.parse(await gateway.waitFor(/gateway listening/, 30_000)) as { port: number }).port}`;
      const res = await call(base, 'POST', '/rpc/warren.test.v1.TestService/Echo', {
        body: '{"text":"via gateway over tls"}',
      });
      expect(res.status).toBe(200);
      expect(res.json.instance).toBe('tls-child');
      const ssl = await broker.rabbitmqctl(
        'list_connections',
        '--quiet',
        '--no-table-headers',
        'ssl',
        'client_properties',
      );
      expect(
        ssl
          .split('\n')
          .filter((line) => /warren-gateway-|tls-child/.test(line))
          .map((line) => line.split(/\s/)[0]),
      ).toEqual(['true', 'true']);
    } finally {
      gateway?.kill();
      server?.kill();
    }
    const wrong = runScript(fileURLToPath(new URL('../gateway/main.ts', import.meta.url)), {
      ...tlsEnv,
      AMQP_CA_FILE: certs.otherCaFile,
      PORT: '0',
    });
    expect(await wrong.exited).toBe(1);
  });

  it('the CLI takes --ca / --cert / --key, or the same environment variables', async () => {
    const server = await connectAmqp({ url, tls: good, logger: quiet });
    try {
      await createServer({ transport: server, instance: 'tls-cli' })
        .add(TestServiceDefinition, testService('tls-cli').implementation)
        .start();
      const flags = ['--url', url, '--ca', certs.caFile, '--cert', certs.clientCertFile, '--key', certs.clientKeyFile];
      const called = await runWarren(['call', 'warren.test.v1.TestService/Echo', '{"text":"cli over tls"}', ...flags]);
      expect(called.stderr).toBe('');
      expect(called.code).toBe(0);
      expect(JSON.parse(called.stdout).text).toBe('cli over tls');
      const listed = await runWarren(['list', '--json'], { env: tlsEnv });
      expect(listed.code).toBe(0);
      expect(listed.stdout).toContain('warren.test.v1.TestService');

      const wrongCa = await runWarren(['list', ...flags, '--ca', certs.otherCaFile]);
      expect(wrongCa.code).toBe(24);
      expect(wrongCa.stderr).toContain('TLS certificate is not trusted');
      const noCert = await runWarren([
        'call',
        'warren.test.v1.TestService/Echo',
        '{}',
        '--url',
        url,
        '--ca',
        certs.caFile,
      ]);
      expect(noCert.code).toBe(24);
      expect(noCert.stderr).toContain("this client's certificate");
      const plain = await runWarren(['list', '--url', broker.url, '--ca', certs.caFile]);
      expect(plain.code).toBe(2);
      expect(plain.stderr).toContain('use amqps://');
    } finally {
      await server.close();
    }
  });
});
