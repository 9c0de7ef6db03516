import { connect, type ChannelModel } from 'amqplib';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AmqpTransport, Code, connectAmqp, createClient, RpcError } from '../core/index.js';
import { TestServiceDefinition } from '../gen/warren/test/v1/test.js';
import { createTestVhost, type TestVhost } from './support/broker.js';
import { startTestServer, type ChildScript } from './support/child-process.js';
import { runWarren, startWarren, type CliRun } from './support/cli.js';

// `warren dlq list|show|replay <pkg.Service>`: poison requests that servers
// parked in rpc.<service>.dead, read and replayed by the CLI as real child
// processes. Two TestService requests are dead-lettered the real way: server A
// (maxDeliveries 1) is killed while running them, server B gets them
// redelivered and takes them out of service; B then answers the replays.
// A second queue holds 150 dead letters published the way servers shape them,
// for concurrent listers and replays that get no answer.

/** Each test starts several CLI processes at once: generous on a busy machine. */
const CHILD_PROCESS_TIMEOUT_MS = 90_000;
const PROTO = fileURLToPath(new URL('../proto', import.meta.url));
const SERVICE = 'warren.test.v1.TestService';
const DEAD = `rpc.${SERVICE}.dead`;
/** Never started in this vhost: its replays find no queue (UNAVAILABLE). */
const IDLE = 'warren.test.v1.RestTestService';
const IDLE_DEAD = `rpc.${IDLE}.dead`;
const BULK = 150;

let vhost: TestVhost;
let serverB: ChildScript | undefined;
let raw: ChannelModel;
let transport: AmqpTransport;
/** Message ids of the dead-lettered calls. */
const ids = { increment: '', sleep: '' };

/** Runs `warren dlq ...` against this file's vhost (and the repository's protos, for show and replay). */
function warren(args: readonly string[]): Promise<CliRun> {
  return runWarren([...args, ...(args[1] === 'list' ? [] : ['--proto', PROTO])], { env: { AMQP_URL: vhost.url } });
}

/** stderr without the note a CLI prints while it waits for another one reading the same queue. */
function withoutWaitNote(stderr: string): string {
  return stderr.replace(/^Waiting for another warren process working on \S+\.\.\.\n/, '');
}

/** Ready messages in a queue (passive declare on a throwaway channel). */
async function queued(queue: string): Promise<number> {
  const channel = await raw.createChannel();
  try {
    return (await channel.checkQueue(queue)).messageCount;
  } finally {
    await channel.close();
  }
}

/** Kills server A while it runs one Increment and one Sleep; server B dead-letters both when they come back. */
async function deadLetterTwoCalls(): Promise<void> {
  const serverA = await startTestServer(vhost.url, 'dlq-a', { MAX_DELIVERIES: '1' });
  const client = createClient(TestServiceDefinition, transport, { retry: false });
  const options = { timeoutMs: 60_000, metadata: { tenant: 'acme' } };
  const calls = [
    client.increment({ counter: 'replayed', delayMs: 1_500 }, options),
    client.sleep({ millis: 1_500 }, options),
  ].map((call) =>
    call.then(
      () => new Error('answered, but its server was killed'),
      (error: unknown) => error,
    ),
  );
  ids.increment = (await serverA.waitFor(/^started increment /)).split(' ')[2]!;
  ids.sleep = (await serverA.waitFor(/^started sleep /)).split(' ')[2]!;
  serverA.kill('SIGKILL');
  await serverA.exited;
  serverB = await startTestServer(vhost.url, 'dlq-b', { MAX_DELIVERIES: '1' });
  for (const error of await Promise.all(calls)) {
    expect(error).toBeInstanceOf(RpcError);
    expect((error as RpcError).code).toBe(Code.INTERNAL);
    expect((error as RpcError).rawMessage).toContain('taken out of service');
  }
}

/** Publishes `count` Ping requests into IDLE's dead-letter queue, headers as servers write them. */
async function publishBulk(count: number): Promise<void> {
  const channel = await raw.createConfirmChannel();
  await channel.assertQueue(IDLE_DEAD, { durable: true });
  const now = Date.now();
  for (let i = 0; i < count; i++) {
    channel.sendToQueue(IDLE_DEAD, Buffer.from(JSON.stringify({ text: `ping ${i}` })), {
      persistent: true,
      type: `${IDLE}/Ping`,
      messageId: `bulk-${i}`,
      correlationId: `c-${i}`,
      replyTo: 'amq.rabbitmq.reply-to.gone',
      contentType: 'application/json',
      timestamp: Math.floor(now / 1000),
      headers: {
        'warren-deadline': now - 1_000,
        tenant: 'acme',
        'warren-caller': 'ann',
        'warren-dead-reason': 'delivered 6 times; every instance that took it stopped before answering',
        'warren-deliveries': 6,
        'warren-dead-at': now,
      },
    });
  }
  await channel.waitForConfirms();
  await channel.close();
}

beforeAll(async () => {
  vhost = await createTestVhost('cli-dlq-rpc');
  raw = await connect(vhost.url);
  transport = await connectAmqp({ url: vhost.url });
  await Promise.all([deadLetterTwoCalls(), publishBulk(BULK)]);
}, 60_000);

afterAll(async () => {
  serverB?.kill('SIGTERM');
  await serverB?.exited;
  await transport?.close();
  await raw?.close();
  await vhost?.remove();
});

describe.sequential('warren dlq for poison requests', { timeout: CHILD_PROCESS_TIMEOUT_MS }, () => {
  it('list shows method, deliveries, caller, time and reason of each, and removes nothing', async () => {
    const [table, json] = await Promise.all([
      warren(['dlq', 'list', SERVICE]),
      warren(['dlq', 'list', DEAD, '--json']),
    ]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^MESSAGE ID +METHOD +DELIVERIES +CALLER +DEAD AT +REASON$/);
    expect(lines).toHaveLength(3);
    for (const [id, method] of [
      [ids.increment, 'Increment'],
      [ids.sleep, 'Sleep'],
    ] as const) {
      expect(table.stdout).toMatch(
        new RegExp(
          `^${id} +${SERVICE}/${method} +2 +guest +\\d{4}-\\d\\d-\\d\\dT\\S+Z +delivered 2 times; every instance that took it stopped before answering$`,
          'm',
        ),
      );
    }
    expect(json.code).toBe(0);
    const listed = JSON.parse(json.stdout) as {
      service: string;
      queue: string;
      deadLetters: Record<string, unknown>[];
    };
    expect(listed).toMatchObject({ service: SERVICE, queue: DEAD });
    const increment = listed.deadLetters.find((letter) => letter['messageId'] === ids.increment)!;
    expect(increment).toMatchObject({
      method: `${SERVICE}/Increment`,
      deliveries: 2,
      caller: 'guest',
      metadata: { tenant: 'acme' },
    });
    const [sentAt, deadline, deadAt] = [increment['sentAt'], increment['deadline'], increment['deadAt']].map((iso) =>
      Date.parse(String(iso)),
    );
    expect(deadline! - sentAt!).toBeGreaterThan(55_000); // the caller's 60 s deadline
    expect(deadAt).toBeGreaterThanOrEqual(sentAt!);
    expect(await queued(DEAD)).toBe(2);
  });

  it('show decodes the request with the protos and says whether its method is idempotent', async () => {
    const [text, json] = await Promise.all([
      warren(['dlq', 'show', SERVICE, ids.increment]),
      warren(['dlq', 'show', SERVICE, ids.sleep, '--json']),
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`messageId:  ${ids.increment}\n`);
    expect(text.stdout).toContain(`method:     ${SERVICE}/Increment (side effects: replay needs --force)\n`);
    expect(text.stdout).toContain('caller:     guest\n');
    expect(text.stdout).toMatch(/^deadline: {3}\d{4}-\S+Z( \(passed\))?$/m);
    expect(text.stdout).toContain('metadata:   {"tenant":"acme"}\n');
    expect(text.stdout).toContain('request:\n{\n  "counter": "replayed",\n  "delayMs": 1500\n}\n');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      messageId: ids.sleep,
      method: `${SERVICE}/Sleep`,
      idempotency: 'IDEMPOTENT',
      contentType: 'application/x-protobuf',
      request: { millis: 1500 },
    });
  });

  it('replay refuses a non-idempotent method without --force (exit 2, nothing sent) and replays an idempotent one', async () => {
    const refused = await warren(['dlq', 'replay', SERVICE, '--all']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      new RegExp(
        `^FAILED_PRECONDITION: not replayed: 1 of the 2 poison requests to replay is a call of ${SERVICE}/Increment, not idempotent\\. .*add --force, or pick others with --id\\. Nothing was sent\\.\\n`,
      ),
    );
    expect(refused.stdout).toBe('');
    expect(serverB!.lines.filter((line) => line.startsWith('started'))).toEqual([]);
    expect(await queued(DEAD)).toBe(2);

    const replayed = await warren(['dlq', 'replay', SERVICE, '--id', ids.sleep]);
    expect(replayed.stderr).toContain(`Replaying 1 poison request of ${SERVICE}: 1/1\n`);
    expect(replayed.code).toBe(0);
    expect(replayed.stdout).toBe(
      `${ids.sleep}  ${SERVICE}/Sleep  OK  (removed)\nReplayed 1 of 1 poison request of ${SERVICE}: 1 answered and removed.\n`,
    );
    expect(serverB!.lines).toContain(`started sleep ${ids.sleep}`); // the same logical call, run again
    expect(await queued(DEAD)).toBe(1);
  });

  it('replay --force runs a non-idempotent one as a new call, with its metadata, and empties the queue', async () => {
    const run = await warren([
      'dlq',
      'replay',
      SERVICE,
      '--id',
      ids.increment,
      '--force',
      '--json',
      '--timeout',
      '30s',
    ]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as {
      total: number;
      removed: number;
      kept: number;
      outcomes: Record<string, unknown>[];
    };
    expect(result).toMatchObject({ total: 1, removed: 1, kept: 0, interrupted: false });
    expect(result.outcomes[0]).toMatchObject({
      messageId: ids.increment,
      status: 'OK',
      answered: true,
      removed: true,
      response: { value: '1', instance: 'dlq-b' },
      deadLetter: { caller: 'guest', metadata: { tenant: 'acme' }, request: { counter: 'replayed', delayMs: 1500 } },
    });
    expect(await queued(DEAD)).toBe(0);
    const [list, again] = await Promise.all([
      warren(['dlq', 'list', SERVICE]),
      warren(['dlq', 'replay', SERVICE, '--all']),
    ]);
    expect(list.stdout).toBe(`No poison requests of ${SERVICE} (${DEAD} is empty).\n`);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`No poison requests of ${SERVICE} (${DEAD} is empty).\n`);
  });

  it('errors: unknown service, service not in the protos, unknown id, no --id or --all', async () => {
    const [unknown, notInProtos, badId, badShow, unsaid] = await Promise.all([
      warren(['dlq', 'list', 'warren.test.v1.NoSuchService']),
      warren(['dlq', 'replay', 'shop.nowhere.v1.GhostService', '--all']),
      warren(['dlq', 'replay', IDLE, '--id', 'no-such-id']),
      warren(['dlq', 'show', IDLE, 'no-such-id', '--limit', '5']),
      warren(['dlq', 'replay', IDLE]),
    ]);
    expect(unknown.code).toBe(15);
    expect(unknown.stderr).toMatch(
      /^NOT_FOUND: no dead-letter queue rpc\.warren\.test\.v1\.NoSuchService\.dead: no server of warren\.test\.v1\.NoSuchService has declared it/,
    );
    expect(notInProtos.code).toBe(2);
    expect(notInProtos.stderr).toMatch(/^NOT_FOUND: no service "shop\.nowhere\.v1\.GhostService" in /);
    expect(badId.code).toBe(15);
    // these two take turns on the queue: one of them may say first that it waits
    expect(withoutWaitNote(badId.stderr)).toBe(
      `NOT_FOUND: no poison request no-such-id in ${IDLE_DEAD} (it holds ${BULK}); nothing was replayed\n`,
    );
    expect(badShow.code).toBe(15);
    expect(withoutWaitNote(badShow.stderr)).toBe(
      `NOT_FOUND: no poison request no-such-id among the first 5 in ${IDLE_DEAD}\n`,
    );
    expect(unsaid.code).toBe(2);
    expect(unsaid.stderr).toMatch(
      /^INVALID_ARGUMENT: say which poison requests of warren\.test\.v1\.RestTestService to replay: --id <message-id> \(repeatable\) or --all/,
    );
    expect(await queued(IDLE_DEAD)).toBe(BULK);
  });

  it('listers take turns on a queue: one waits while it is held, and each sees every dead letter in order', async () => {
    // hold the lock as a warren process would, so the listers have to wait for it
    const holder = await connect(vhost.url);
    const channel = await holder.createChannel();
    await channel.assertQueue(`warren.cli.lock.${IDLE_DEAD}`, { exclusive: true });
    const listers = [0, 1, 2].map(() =>
      startWarren(['dlq', 'list', IDLE, '--limit', '1000', '--json'], { env: { AMQP_URL: vhost.url } }),
    );
    await Promise.all(
      listers.map((lister) =>
        lister.waitFor(
          'stderr',
          new RegExp(
            `^Waiting for another warren process working on ${IDLE_DEAD.replaceAll('.', '\\.')}\\.\\.\\.$`,
            'm',
          ),
        ),
      ),
    );
    await holder.close(); // releases the lock: the broker deletes the exclusive queue
    const expected = Array.from({ length: BULK }, (_, i) => `bulk-${i}`);
    for (const lister of listers) {
      expect(await lister.exited).toBe(0);
      const listed = JSON.parse(lister.stdout()) as { deadLetters: { messageId: string; caller: string }[] };
      expect(listed.deadLetters.map((letter) => letter.messageId)).toEqual(expected);
      expect(listed.deadLetters[0]!.caller).toBe('ann');
    }
    expect(await queued(IDLE_DEAD)).toBe(BULK);
  });

  it('replay keeps requests nobody answers, in place, with progress, and exits 10 + their status', async () => {
    const run = await warren(['dlq', 'replay', IDLE, '--all', '--limit', '120']);
    expect(run.code).toBe(24); // UNAVAILABLE: the service has no queue
    expect(run.stderr).toBe(
      `Replaying 120 poison requests of ${IDLE}: 0/120\nReplaying 120 poison requests of ${IDLE}: 100/120\nReplaying 120 poison requests of ${IDLE}: 120/120\n`,
    );
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(121);
    expect(lines[0]).toMatch(
      new RegExp(
        `^bulk-0  ${IDLE}/Ping  UNAVAILABLE: no queue is bound for service ${IDLE.replaceAll('.', '\\.')}.*  \\(kept\\)$`,
      ),
    );
    expect(lines[120]).toBe(
      `Replayed 120 of 120 poison requests of ${IDLE}: 0 answered and removed, 120 kept in ${IDLE_DEAD}.`,
    );
    const listed = await warren(['dlq', 'list', IDLE, '--limit', '1000', '--json']);
    expect(
      (JSON.parse(listed.stdout) as { deadLetters: { messageId: string }[] }).deadLetters.map(
        (letter) => letter.messageId,
      ),
    ).toEqual(Array.from({ length: BULK }, (_, i) => `bulk-${i}`));
  });
});
