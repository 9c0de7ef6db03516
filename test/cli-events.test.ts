import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AmqpTransport, Code, connectAmqp, createEventBus, type EventBus, RpcError } from '../core/index.js';
import { OrderCreated, OrderShipped, Tick } from '../gen/warren/test/v1/test_events.js';
import { createTestVhost, listQueues, type TestVhost } from './support/broker.js';
import { runWarren, startWarren, type CliProcess, type CliRun } from './support/cli.js';

// `warren events tail` and `warren dlq list|show|replay` as real child
// processes; events are published and dead-lettered by an event bus in this
// process, on a vhost of this file.

/** Each test starts several CLI processes at once: generous on a busy machine. */
const CHILD_PROCESS_TIMEOUT_MS = 90_000;
const PROTO = fileURLToPath(new URL('../proto', import.meta.url));

let vhost: TestVhost;
let transport: AmqpTransport;
let bus: EventBus;

/** Starts a CLI command against this file's vhost. */
function start(args: readonly string[]): CliProcess {
  return startWarren(args, { env: { AMQP_URL: vhost.url } });
}

/** Runs a CLI command to completion. */
function warren(args: readonly string[]): Promise<CliRun> {
  return runWarren(args, { env: { AMQP_URL: vhost.url } });
}

/** Waits until a group holds `count` dead letters. */
async function deadLetters(group: string, count: number): Promise<void> {
  const until = Date.now() + 30_000;
  while ((await bus.deadLetters(group, { limit: count + 1 })).length !== count) {
    if (Date.now() > until) throw new Error(`group ${group} did not reach ${count} dead letters`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Subscribes `group` to `type` with a handler that refuses every event
 * (INVALID_ARGUMENT: dead-lettered at once), publishes `count` of `type`,
 * waits until all are dead. Each test uses its own type, so concurrent tests
 * do not feed each other's groups.
 */
async function deadLetter(group: string, type: typeof OrderCreated | typeof Tick, count: number): Promise<void> {
  const failing = await bus.subscribe(
    type as typeof OrderCreated,
    () => {
      throw new RpcError(Code.INVALID_ARGUMENT, 'customer is blocked');
    },
    { group },
  );
  const message = (i: number): Record<string, unknown> =>
    type === Tick ? { run: group, seq: i } : { orderId: `${group}-${i}`, amountCents: 100 + i, customer: 'ann' };
  await Promise.all(
    Array.from({ length: count }, (_, i) => bus.publish(type, message(i), { metadata: { tenant: 'acme' } })),
  );
  await deadLetters(group, count);
  await failing.close();
}

beforeAll(async () => {
  vhost = await createTestVhost('cli-events');
  transport = await connectAmqp({ url: vhost.url });
  bus = createEventBus({ transport, service: 'orders' });
});

afterAll(async () => {
  await bus?.close();
  await transport?.close();
  await vhost?.remove();
});

describe('warren events tail', { timeout: CHILD_PROCESS_TIMEOUT_MS }, () => {
  it('prints published events decoded until Ctrl-C, exits 0 and leaves no queue behind', async () => {
    const tail = start(['events', 'tail', 'warren.test.v1.*', '--proto', PROTO]);
    await tail.waitFor('stderr', /^Tailing events matching warren\.test\.v1\.\* on amqp:\/\/guest:\*\*\*@/m);
    await bus.publish(
      OrderCreated,
      { orderId: 'o-1', amountCents: 1250, customer: 'ann' },
      { metadata: { tenant: 'acme' } },
    );
    await bus.publish(OrderShipped, { orderId: 'o-1', carrier: 'dhl' });
    await tail.waitFor('stdout', /OrderShipped/);
    tail.kill('SIGINT');
    expect(await tail.exited).toBe(0);
    const lines = tail.stdout().trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} {2}warren\.test\.v1\.OrderCreated {2}from orders {2}\{"orderId":"o-1","amountCents":"1250","customer":"ann"\} {2}metadata \{"tenant":"acme"\}$/,
    );
    expect(lines[1]).toContain('warren.test.v1.OrderShipped  from orders  {"orderId":"o-1","carrier":"dhl"}');
    expect((await listQueues(vhost.name)).filter((queue) => queue.name.includes('warren-cli-tail'))).toEqual([]);
  });

  it('--json prints one JSON object per event; --count stops by itself', async () => {
    const tail = start(['events', 'tail', '--json', '--count', '1', '--proto', PROTO]);
    await tail.waitFor('stderr', /^Tailing events matching # /m);
    const messageId = await bus.publish(OrderCreated, { orderId: 'o-2', amountCents: 99 });
    expect(await tail.exited).toBe(0);
    expect(JSON.parse(tail.stdout())).toEqual({
      type: 'warren.test.v1.OrderCreated',
      messageId,
      publisher: 'orders',
      publishedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      metadata: {},
      contentType: 'application/x-protobuf',
      message: { orderId: 'o-2', amountCents: '99' },
    });
  });
});

describe.concurrent('warren dlq', { timeout: CHILD_PROCESS_TIMEOUT_MS }, () => {
  it('lists and shows dead letters without removing them', async () => {
    await deadLetter('billing', OrderCreated, 2);
    // listed at the same moment: warren processes take turns on the queue, so each sees both
    const [table, json] = await Promise.all([
      warren(['dlq', 'list', 'billing']),
      warren(['dlq', 'list', 'billing', '--json']),
    ]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^MESSAGE ID +TYPE +ATTEMPTS +DEAD AT +REASON\n/);
    expect(table.stdout).toMatch(
      /warren\.test\.v1\.OrderCreated +1 +\d{4}-\d\d-\d\dT\S+ +\[INVALID_ARGUMENT\] customer is blocked$/m,
    );
    const listed = JSON.parse(json.stdout) as {
      queue: string;
      deadLetters: { messageId: string; reason: string; attempts: number; queue: string }[];
    };
    expect(listed.queue).toBe('events.billing.dead');
    expect(listed.deadLetters).toHaveLength(2);
    expect(listed.deadLetters[0]).toMatchObject({
      reason: '[INVALID_ARGUMENT] customer is blocked',
      attempts: 1,
      queue: 'events.billing',
    });

    const second = listed.deadLetters[1]!.messageId;
    const [shown, shownJson] = await Promise.all([
      warren(['dlq', 'show', 'billing', second, '--proto', PROTO]),
      warren(['dlq', 'show', 'billing', second, '--json', '--proto', PROTO]),
    ]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`messageId:  ${second}\n`);
    expect(shown.stdout).toContain('metadata:   {"tenant":"acme"}\n');
    expect(shown.stdout).toMatch(
      /message:\n\{\n {2}"orderId": "billing-\d",\n {2}"amountCents": "10\d",\n {2}"customer": "ann"\n\}/,
    );
    expect(JSON.parse(shownJson.stdout)).toMatchObject({
      messageId: second,
      event: { type: 'warren.test.v1.OrderCreated', message: { customer: 'ann' } },
    });
    expect(await bus.deadLetters('billing')).toHaveLength(2); // still there
  });

  it('replays every dead letter with progress, back to the group queue', async () => {
    await deadLetter('bulk', Tick, 120);
    const run = await warren(['dlq', 'replay', 'bulk']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('Replaying 120 dead letters of group bulk: 100/120\n');
    expect(run.stderr).toContain('Replaying 120 dead letters of group bulk: 120/120\n');
    expect(run.stdout).toBe('Replayed 120 of 120 dead letters of group bulk to their queues.\n');
    const queues = await listQueues(vhost.name);
    expect(queues.find((queue) => queue.name === 'events.bulk.dead')?.messages).toBe(0);
    expect(queues.find((queue) => queue.name === 'events.bulk')?.messages).toBe(120);
    const again = await warren(['dlq', 'replay', 'bulk', '--json']);
    expect(JSON.parse(again.stdout)).toEqual({ group: 'bulk', total: 0, replayed: 0, kept: 0, interrupted: false });
  });

  it('exits 15 for a group nobody subscribed and 2 for a name that is neither a group nor a service', async () => {
    const [unknown, bad, flag] = await Promise.all([
      warren(['dlq', 'list', 'nobody']),
      warren(['dlq', 'replay', 'no group!']),
      warren(['dlq', 'replay', 'billing', '--force']),
    ]);
    expect(unknown.code).toBe(15);
    expect(unknown.stderr).toBe(
      'NOT_FOUND: no dead-letter queue events.nobody.dead: no subscriber of group nobody has declared it\n',
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^INVALID_ARGUMENT: event group "no group!" must match/);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(
      /^INVALID_ARGUMENT: --force applies to poison requests of a service \(pkg\.Service\), not to the event group billing\n/,
    );
  });
});
