import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactUrl } from '../core/index.js';
import { createTestVhost, type TestVhost } from './support/broker.js';
import { startCaptured as start, type CapturedProcess } from './support/captured-process.js';
import { runWarren } from './support/cli.js';

const run = promisify(execFile);
const script = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

// Distinctive secrets: none of these strings may appear in anything a process prints.
const PASSWORD_MARK = 'Zebra7119';
const PASSWORD = `pw/${PASSWORD_MARK}!secret`; // '/' and '!' must be escaped in a URL: redaction must cope either way
const WRONG_PASSWORD = 'pw-Okapi2208-secret';
const JWT_SECRET = 'jwt-signing-Quokka0042-secret-long-enough-for-hs256';
const API_KEY = 'apikey-Marmot5531-secret';
const BAD_TOKEN = 'tok-Narwhal9034-secret';
const SECRETS = [PASSWORD_MARK, encodeURIComponent(PASSWORD), 'Okapi2208', 'Quokka0042', 'Marmot5531', 'Narwhal9034'];

/** Sends raw bytes to the gateway and waits for it to close the connection. */
function rawHttp(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
  });
}

// Secrets never reach logs: broker passwords (redacted in URLs), bearer tokens, API keys and signing secrets, through
// the gateway, a core server, a shop service and the CLI, on success, failure and reconnection paths, at debug level.
describe('secrets in logs', () => {
  let vhost: TestVhost;
  let user: string;
  let url: string;
  let wrongUrl: string;
  let dir: string;
  const children: CapturedProcess[] = [];
  const outputs: string[] = [];

  beforeAll(async () => {
    vhost = await createTestVhost('logs');
    user = `warren-logs-${randomBytes(3).toString('hex')}`;
    await run('rabbitmqctl', ['add_user', user, PASSWORD]);
    await run('rabbitmqctl', ['set_permissions', '-p', vhost.name, user, '.*', '.*', '.*']);
    const base = new URL(vhost.url);
    base.username = user;
    base.password = encodeURIComponent(PASSWORD);
    url = base.toString();
    base.password = WRONG_PASSWORD;
    wrongUrl = base.toString();
    dir = mkdtempSync(join(tmpdir(), 'warren-logs-'));
    writeFileSync(join(dir, 'jwt-secret'), JWT_SECRET);
    writeFileSync(join(dir, 'api-keys'), `batch ${API_KEY}\n`);
  });
  afterAll(async () => {
    for (const child of children) child.kill();
    await run('rabbitmqctl', ['delete_user', user]).catch(() => undefined);
    await vhost.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('redacts passwords in URLs, also ones a URL should have escaped', () => {
    expect(redactUrl(url)).toBe(url.replace(encodeURIComponent(PASSWORD), '***'));
    expect(redactUrl(`amqp://u:${PASSWORD}@host:5672/v`)).toBe('amqp://u:***@host:5672/v');
    expect(redactUrl('amqp://u:a@b#c?d@host/v@x')).not.toMatch(/a@b|c\?d/);
    expect(redactUrl('amqp://host:5672/v')).toBe('amqp://host:5672/v');
  });

  it('no process prints a secret: success, refusals, malformed requests, reconnections and failed connections', async () => {
    const debug = { WARREN_LOG_LEVEL: 'debug', AMQP_URL: url };
    const server = start(script('./support/test-server-process.ts'), { ...debug, INSTANCE: 'logs-server' });
    const analytics = start(script('../services/analytics/main.ts'), {
      ...debug,
      DATA_DIR: dir,
      WARREN_METRICS_PORT: '',
    });
    const gateway = start(script('../gateway/main.ts'), {
      ...debug,
      PORT: '0',
      HOST: '127.0.0.1',
      GATEWAY_EXPOSE: '*',
      GATEWAY_JWT_SECRET_FILE: join(dir, 'jwt-secret'),
      GATEWAY_JWT_ISSUER: 'https://idp.logs.test',
      GATEWAY_JWT_AUDIENCE: 'gw',
      GATEWAY_API_KEYS_FILE: join(dir, 'api-keys'),
    });
    children.push(server, analytics, gateway);
    await Promise.all([
      server.waitFor(/ready logs-server/),
      analytics.waitFor(/ready analytics/),
      gateway.waitFor(/gateway listening/),
    ]);
    const port = Number(/"port":(\d+)/.exec(gateway.output())![1]);
    const base = `http://127.0.0.1:${port}`;
    const jwt = await new SignJWT({ sub: 'ada' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('https://idp.logs.test')
      .setAudience('gw')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JWT_SECRET));
    SECRETS.push(jwt, jwt.split('.')[2]!);

    const echo = (headers: Record<string, string>, body = '{"text":"hi"}') =>
      fetch(`${base}/rpc/warren.test.v1.TestService/Echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    expect((await echo({ authorization: `Bearer ${jwt}` })).status).toBe(200);
    expect((await echo({ 'x-api-key': API_KEY })).status).toBe(200);
    expect((await echo({ authorization: `Bearer ${BAD_TOKEN}` })).status).toBe(401);
    expect((await echo({ 'x-api-key': `${API_KEY}-not` })).status).toBe(401);
    expect((await echo({ authorization: `Bearer ${jwt}` }, '{"text":')).status).toBe(400);
    expect(
      (await echo({ authorization: `Bearer ${jwt}` }, JSON.stringify({ text: 'x', number: 'twelve' }))).status,
    ).toBe(400);
    // a request the HTTP parser rejects, and one with an oversized head, both carrying a token
    expect(
      await rawHttp(
        port,
        `GET /v1/stock HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${BAD_TOKEN}\r\nBad Header Line\r\n\r\n`,
      ),
    ).toMatch(/^HTTP\/1.1 400/);
    expect(
      await rawHttp(
        port,
        `GET /v1/stock HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${BAD_TOKEN}\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`,
      ),
    ).toMatch(/^HTTP\/1.1 431/);
    expect(
      (await echo({ authorization: `Bearer ${jwt}` }, JSON.stringify({ text: 'x', payload: 'not base64!' }))).status,
    ).toBe(400);
    const failing = await fetch(`${base}/rpc/warren.test.v1.TestService/Fail`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
      body: JSON.stringify({ plainError: true, message: 'x' }),
    });
    expect(failing.status).toBe(500);

    // every connection of the vhost dropped by the broker: reconnect paths
    // `-p` does not filter list_connections: keep only this file's vhost, never touch other tests' connections
    const { stdout } = await run('rabbitmqctl', ['list_connections', '--quiet', '--no-table-headers', 'vhost', 'pid']);
    const ours = stdout
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter(([name, pid]) => name === vhost.name && pid?.startsWith('<'));
    expect(ours.length).toBeGreaterThan(0);
    for (const [, pid] of ours) {
      await run('rabbitmqctl', ['close_connection', pid!, 'test: dropped on purpose']).catch(() => undefined);
    }
    await server.waitFor(/reconnected/);
    await gateway.waitFor(/reconnected/);
    expect((await echo({ 'x-api-key': API_KEY })).status).toBe(200);

    // the CLI: a call with a token in its metadata (verbose), and failures against a wrong password and a closed port
    const called = await runWarren(
      [
        'call',
        'warren.test.v1.TestService/Echo',
        '{"text":"cli"}',
        '-v',
        '-H',
        `authorization:Bearer ${BAD_TOKEN}`,
        '--url',
        url,
      ],
      { env: { WARREN_LOG_LEVEL: 'debug' } },
    );
    expect(called.code).toBe(0);
    const refused = await runWarren(['call', 'warren.test.v1.TestService/Echo', '{}', '--url', wrongUrl], {
      env: { WARREN_LOG_LEVEL: 'debug' },
    });
    expect(refused.code).toBe(24);
    expect(refused.stderr).toContain(':***@');
    const listed = await runWarren(['list', '--url', wrongUrl], { env: { WARREN_LOG_LEVEL: 'debug' } });
    expect(listed.code).toBe(24);
    const closedPort = await runWarren([
      'list',
      '--url',
      `amqp://${user}:${encodeURIComponent(PASSWORD)}@127.0.0.1:1/`,
    ]);
    expect(closedPort.code).toBe(24);
    // stdout of the successful call is its result (the echo service sends the metadata back, token included): not a log
    outputs.push(called.stderr, ...[refused, listed, closedPort].map((result) => result.stdout + result.stderr));

    // processes that cannot log in at all
    const badEnv = { WARREN_LOG_LEVEL: 'debug', AMQP_URL: wrongUrl };
    const failures = [
      start(script('../gateway/main.ts'), { ...badEnv, PORT: '0' }),
      start(script('./support/test-server-process.ts'), { ...badEnv, INSTANCE: 'logs-bad' }),
      start(script('../services/analytics/main.ts'), { ...badEnv, DATA_DIR: dir, WARREN_METRICS_PORT: '' }),
    ];
    children.push(...failures);
    for (const failure of failures) expect(await failure.exited).not.toBe(0);

    for (const child of [server, analytics, gateway]) child.kill();
    await Promise.all([server, analytics, gateway].map((child) => child.exited));
    outputs.push(...[server, analytics, gateway, ...failures].map((child) => child.output()));
    const printed = outputs.join('\n');
    // pino writes Buffers (an HTTP parser error's rawPacket, say) as byte arrays: search their text too
    const buffers = [...printed.matchAll(/"type":"Buffer","data":\[([\d,]*)\]/g)].map((match) =>
      Buffer.from(match[1]!.split(',').filter(Boolean).map(Number)).toString('latin1'),
    );
    const all = [printed, ...buffers].join('\n');

    // the paths above really ran and were logged
    expect(all).toContain('connected to broker');
    expect(all).toContain('reconnected; topology restored');
    expect(all).toContain('authentication failed');
    expect(all).toContain('client connection error');
    expect(all).toContain(`${user}:***@`);
    expect(all).toMatch(/ACCESS_REFUSED|authentication failure|Login was refused/i);
    expect(all).toContain('"authorization":"***"');
    for (const secret of SECRETS) expect(all.includes(secret), `output contains ${secret}`).toBe(false);
  }, 120_000);
});
