import { connect } from 'amqplib';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAmqp, createServer } from '../core/index.js';
import { loadProtos } from '../core/tooling.js';
import { createTestVhost, type TestVhost } from './support/broker.js';
import { startTestServer, type ChildScript } from './support/child-process.js';
import { runWarren, type CliRun } from './support/cli.js';

// `warren call / list / health / describe` as real child processes against a
// TestService child server on a vhost of this file. The protos are a copy of
// proto/warren plus an IdleService whose queue exists without a consumer
// ("down"); RestTestService never runs ("absent").

/** Each test starts several CLI processes (about 1 s of CPU each) at once: generous on a busy machine. */
const CHILD_PROCESS_TIMEOUT_MS = 90_000;
const IDLE_PROTO = `syntax = "proto3";

package warren.cli.v1;

// IdleService was started once and stopped: its queue stays, nobody consumes it.
service IdleService {
  // Nap does nothing.
  rpc Nap(NapRequest) returns (NapResponse);
}

// NapRequest is empty.
message NapRequest {}

// NapResponse is empty.
message NapResponse {}
`;

let vhost: TestVhost;
let server: ChildScript;
let protoDir: string;

/** Runs `warren <args> (cli/bin.ts)` against this file's vhost and protos. */
function warren(args: readonly string[], input = ''): Promise<CliRun> {
  return runWarren([...args, '--proto', protoDir], { env: { AMQP_URL: vhost.url }, input });
}

beforeAll(async () => {
  vhost = await createTestVhost('cli-rpc');
  const dir = await mkdtemp(join(tmpdir(), 'warren-cli-rpc-'));
  protoDir = join(dir, 'proto');
  await cp(fileURLToPath(new URL('../proto/warren', import.meta.url)), join(protoDir, 'warren'), { recursive: true });
  await writeFile(join(protoDir, 'warren', 'cli-idle.proto'), IDLE_PROTO);
  // IdleService: served once, then stopped, so its queue is left without a consumer.
  const idle = (await loadProtos({ root: protoDir })).findService('warren.cli.v1.IdleService')!;
  const transport = await connectAmqp({ url: vhost.url });
  const idleServer = createServer({ transport, instance: 'idle' }).add(idle, { nap: () => ({}) });
  await idleServer.start();
  await idleServer.close();
  await transport.close();
  // One poison request, as a server dead-letters it, for list to count.
  const raw = await connect(vhost.url);
  const channel = await raw.createConfirmChannel();
  channel.sendToQueue('rpc.warren.cli.v1.IdleService.dead', Buffer.from(''), { type: 'warren.cli.v1.IdleService/Nap' });
  await channel.waitForConfirms();
  await raw.close();
  server = await startTestServer(vhost.url, 'cli-1');
});

afterAll(async () => {
  server?.kill('SIGTERM');
  await server?.exited;
  await vhost?.remove();
  if (protoDir) await rm(join(protoDir, '..'), { recursive: true, force: true });
});

describe.concurrent('warren call', { timeout: CHILD_PROCESS_TIMEOUT_MS }, () => {
  it('prints the reply as pretty proto3 JSON and sends -H metadata', async () => {
    const run = await warren([
      'call',
      'warren.test.v1.TestService/Echo',
      '{"text": "hi", "number": "42", "tags": ["a"]}',
      '-H',
      'Tenant: acme',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\{\n {2}"text": "hi",\n/);
    const reply = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(reply).toMatchObject({
      text: 'hi',
      number: '42',
      tags: ['a'],
      metadata: { tenant: 'acme' },
      instance: 'cli-1',
      caller: 'guest',
    });
  });

  it('reads the request from stdin with -, and --json prints one compact line', async () => {
    const run = await warren(['call', 'TestService.Echo', '-', '--json'], '{"text": "from stdin"}');
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ text: 'from stdin', instance: 'cli-1' });
  });

  it('refuses bad JSON and JSON that does not fit the message with exit 2, naming the problem', async () => {
    const [syntax, field] = await Promise.all([
      warren(['call', 'TestService/Echo', '{"text": ']),
      warren(['call', 'TestService/Echo', '{"number": "forty-two"}']),
    ]);
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toMatch(/^INVALID_ARGUMENT: the request is not valid JSON: /);
    expect(field.code).toBe(2);
    expect(field.stderr).toMatch(
      /^INVALID_ARGUMENT: invalid JSON for warren\.test\.v1\.EchoRequest: number: "forty-two" is not a valid int64/,
    );
    for (const run of [syntax, field]) expect(run.stdout).toBe('');
  });

  it('names an unknown method with exit 2 and the methods that exist', async () => {
    const run = await warren(['call', 'warren.test.v1.TestService/Nope', '{}']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'NOT_FOUND: no method "Nope" in warren.test.v1.TestService (methods: Echo, Sleep, Fail, Increment, Relay)',
    );
  });

  it('exits 24 with UNAVAILABLE when no server ever declared the service queue', async () => {
    const run = await warren(['call', 'warren.test.v1.RestTestService/Ping', '{"text": "anyone?"}']);
    expect(run.code).toBe(24);
    expect(run.stderr).toMatch(/^UNAVAILABLE: no queue is bound for service warren\.test\.v1\.RestTestService/);
  });

  it('exits 14 with DEADLINE_EXCEEDED when the reply does not come within --timeout', async () => {
    const run = await warren(['call', 'TestService/Sleep', '{"millis": 5000}', '--timeout', '300ms', '--verbose']);
    expect(run.code).toBe(14);
    expect(run.stderr).toMatch(/^DEADLINE_EXCEEDED: deadline exceeded calling warren\.test\.v1\.TestService\/Sleep$/m);
    const waited = Number(/^< failed after ([\d.]+) ms$/m.exec(run.stderr)?.[1]);
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(4_500); // gave up at the deadline, not when the handler finished
  });

  it("passes the server's status code on as 10 + code, as JSON on stderr under --json", async () => {
    const [text, json] = await Promise.all([
      warren(['call', 'TestService/Fail', '{"code": 5, "message": "no such order"}']),
      warren(['call', 'TestService/Fail', '{"code": 9, "message": "not yet"}', '--json']),
    ]);
    expect(text.code).toBe(15);
    expect(text.stderr).toMatch(/^NOT_FOUND: no such order\nmetadata: \{"failed-by":"cli-1"\}\n$/);
    expect(json.code).toBe(19);
    expect(JSON.parse(json.stderr)).toEqual({
      error: { code: 'FAILED_PRECONDITION', number: 9, message: 'not yet', metadata: { 'failed-by': 'cli-1' } },
    });
  });

  it('refuses unknown flags, bad flag values and reserved metadata keys with exit 2', async () => {
    const runs = await Promise.all([
      warren(['call', 'TestService/Echo', '--colour', 'red']),
      warren(['call', 'TestService/Echo', '--timeout', '5']),
      warren(['call', 'TestService/Echo', '-H', 'x-secret:1']),
    ]);
    expect(runs.map((run) => run.code)).toEqual([2, 2, 2]);
    expect(runs[0]!.stderr).toMatch(/^INVALID_ARGUMENT: Unknown option '--colour'/);
    expect(runs[1]!.stderr).toContain('--timeout must be a positive duration with a unit');
    expect(runs[2]!.stderr).toContain('metadata key "x-secret" is reserved');
    for (const run of runs) expect(run.stderr).toContain("Run 'warren call --help' for usage.");
  });
});

describe.concurrent('warren list, health, describe', { timeout: CHILD_PROCESS_TIMEOUT_MS }, () => {
  it('list shows each service live, down or absent, with its methods', async () => {
    const [json, text] = await Promise.all([warren(['list', '--json']), warren(['list'])]);
    expect(json.code).toBe(0);
    const { services, builtIn } = JSON.parse(json.stdout) as {
      services: { name: string; status: string; consumers: number; methods: { name: string; idempotency: string }[] }[];
      builtIn: string[];
    };
    const byName = new Map(services.map((service) => [service.name, service]));
    expect(byName.get('warren.test.v1.TestService')).toMatchObject({ status: 'live', consumers: 1 });
    expect(byName.get('warren.test.v1.TestService')!.methods.map((method) => method.name)).toEqual([
      'Echo',
      'Sleep',
      'Fail',
      'Increment',
      'Relay',
    ]);
    expect(byName.get('warren.cli.v1.IdleService')).toMatchObject({ status: 'down', consumers: 0, deadLettered: 1 });
    expect(byName.get('warren.test.v1.TestService')).toMatchObject({ deadLettered: 0 });
    expect(byName.get('warren.test.v1.RestTestService')).toMatchObject({ status: 'absent' });
    expect(builtIn).toEqual(['warren.health.v1.HealthService']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^warren\.test\.v1\.TestService +LIVE +1 consumer, 0 queued$/m);
    // Health checks running concurrently may be waiting in IdleService's queue: the count varies.
    expect(text.stdout).toMatch(
      /^warren\.cli\.v1\.IdleService +DOWN +0 consumers, \d+ queued \(requests wait until their deadline\); 1 poison request in rpc\.warren\.cli\.v1\.IdleService\.dead$/m,
    );
    expect(text.stdout).toMatch(/^warren\.test\.v1\.RestTestService +ABSENT +no queue: never started$/m);
    expect(text.stdout).toMatch(/^ {4}GetThing +no side effects +GET \/v1\/things\/\{id\}$/m);
  });

  it('health exits 0 for a SERVING service, 14 for one without a consumer, 24 for one never started', async () => {
    const [serving, down, absent] = await Promise.all([
      warren(['health', 'warren.test.v1.TestService']),
      warren(['health', 'warren.cli.v1.IdleService', '--timeout', '800ms']),
      warren(['health', 'warren.test.v1.RestTestService', '--timeout', '5s']),
    ]);
    expect(serving.code).toBe(0);
    expect(serving.stdout).toMatch(/^warren\.test\.v1\.TestService +SERVING +instance cli-1, 5 methods$/m);
    expect(down.code).toBe(14);
    expect(down.stdout).toMatch(/^warren\.cli\.v1\.IdleService +DEADLINE_EXCEEDED/m);
    expect(absent.code).toBe(24);
    expect(absent.stdout).toMatch(/^warren\.test\.v1\.RestTestService +UNAVAILABLE/m);
  });

  it('health without arguments checks every service of the protos; --json lists the answers', async () => {
    const run = await warren(['health', '--json', '--timeout', '4s']);
    const { services } = JSON.parse(run.stdout) as {
      services: { service: string; status: string; instance?: string }[];
    };
    expect(services).toEqual([
      expect.objectContaining({ service: 'warren.cli.v1.IdleService', status: 'DEADLINE_EXCEEDED' }),
      expect.objectContaining({ service: 'warren.test.v1.RestTestService', status: 'UNAVAILABLE' }),
      expect.objectContaining({ service: 'warren.test.v1.TestService', status: 'SERVING', instance: 'cli-1' }),
    ]);
    expect(run.code).toBe(14); // the first service that is not SERVING decides
  });

  it('describe shows a method with its messages, a service with routes, and fails for unknown names', async () => {
    const [method, service, missing] = await Promise.all([
      warren(['describe', 'TestService/Echo']),
      warren(['describe', 'warren.test.v1.RestTestService', '--json']),
      warren(['describe', 'NoSuchThing']),
    ]);
    expect(method.code).toBe(0);
    expect(method.stdout).toContain(
      'rpc Echo(warren.test.v1.EchoRequest) returns (warren.test.v1.EchoResponse);  // no side effects',
    );
    expect(method.stdout).toContain('message warren.test.v1.EchoRequest {\n  string text = 1;\n  int64 number = 2;');
    expect(method.stdout).toContain('  google.protobuf.Timestamp sent_at = 5;  // JSON sentAt');
    expect(service.code).toBe(0);
    const described = JSON.parse(service.stdout) as {
      kind: string;
      methods: { name: string; idempotency: string; http: { method: string; path: string }[] }[];
    };
    expect(described.kind).toBe('service');
    expect(described.methods.find((m) => m.name === 'UpdateThing')).toMatchObject({
      idempotency: 'IDEMPOTENT',
      http: [
        { method: 'PATCH', path: '/v1/things/{thing.id}' },
        { method: 'POST', path: '/v1/things/{thing.id}:update' },
      ],
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^NOT_FOUND: nothing named "NoSuchThing"/);
  });
});
