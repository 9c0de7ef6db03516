import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRabbitmqctl } from '../cli/permissions-apply.js';
import {
  type AmqpTransport,
  Code,
  connectAmqp,
  createClient,
  createEventAccess,
  createEventBus,
  createServer,
  RpcError,
  type Server,
} from '../core/index.js';
import {
  DEADLINE_HEADER,
  EVENTS_EXCHANGE,
  ORIGIN_USER_HEADER,
  serviceQueue,
  STATUS_HEADER,
} from '../core/protocol/index.js';
import { OrderCreated } from '../gen/warren/test/v1/test_events.js';
import { EchoRequest, EchoResponse, TestServiceDefinition } from '../gen/warren/test/v1/test.js';
import { createTestVhost, type TestVhost } from './support/broker.js';
import { waitFor, waitForDeadLetters } from '../core/testing/events-waits.js';
import { testService } from '../core/testing/test-service.js';

// Caller identity on the real broker: the AMQP user_id RabbitMQ validates,
// exposed to handlers and event handlers, required by `requireIdentity`, and
// kept on the copies Warren re-publishes itself (re-queued requests, event
// retries) without letting anyone else claim an identity.

const SERVICE = TestServiceDefinition.fullName;
const ECHO = `${SERVICE}/Echo`;
const ctl = createRabbitmqctl();
const suffix = `${process.pid}-${randomBytes(3).toString('hex')}`;
const CALLER = `sec-id-caller-${suffix}`;
const SUBSCRIBER = `sec-id-sub-${suffix}`;
const PASSWORD = randomBytes(12).toString('hex');

let vhost: TestVhost;
const transports: AmqpTransport[] = [];
const models: ChannelModel[] = [];

function urlOf(user: string): string {
  const url = new URL(vhost.url);
  url.username = user;
  url.password = PASSWORD;
  return url.toString();
}

async function transportAs(user: string | undefined): Promise<AmqpTransport> {
  const transport = await connectAmqp({ url: user === undefined ? vhost.url : urlOf(user) });
  transports.push(transport);
  return transport;
}

async function rawConnection(user?: string): Promise<ChannelModel> {
  const model = await connect(user === undefined ? vhost.url : urlOf(user));
  model.on('error', () => undefined);
  models.push(model);
  return model;
}

/** Raw requests on one channel (direct reply-to consumed once); each resolves the reply's status and message. */
async function rawCaller(
  channel: Channel,
): Promise<(properties: Record<string, unknown>) => Promise<{ status: number; reply: ConsumeMessage }>> {
  const waiting = new Map<string, (message: ConsumeMessage) => void>();
  const replyQueue = `warren.reply.${randomBytes(16).toString('hex')}`;
  await channel.assertQueue(replyQueue, { exclusive: true, autoDelete: true, durable: false });
  await channel.consume(
    replyQueue,
    (message) => message && waiting.get(String(message.properties.correlationId))?.(message),
    { noAck: true },
  );
  return async (properties) => {
    const correlationId = randomBytes(8).toString('hex');
    const reply = new Promise<ConsumeMessage>((resolve) => waiting.set(correlationId, resolve));
    const { headers, ...rest } = properties as { headers?: Record<string, unknown> };
    channel.publish(
      '',
      serviceQueue(SERVICE),
      Buffer.from(EchoRequest.encode(EchoRequest.fromPartial({ text: 'raw' })).finish()),
      {
        type: ECHO,
        correlationId,
        replyTo: replyQueue,
        headers: { [DEADLINE_HEADER]: Date.now() + 10_000, ...headers },
        ...rest,
      },
    );
    const message = await reply;
    return { status: Number(message.properties.headers?.[STATUS_HEADER]), reply: message };
  };
}

beforeAll(async () => {
  vhost = await createTestVhost('sec-identity');
  await Promise.all(
    [CALLER, SUBSCRIBER].map(async (user) => {
      await ctl.run(['add_user', user], `${PASSWORD}\n`);
      await ctl.run(['set_permissions', '-p', vhost.name, user, '.*', '.*', '.*']);
    }),
  );
});

afterAll(async () => {
  for (const transport of transports) await transport.close().catch(() => undefined);
  for (const model of models) await model.close().catch(() => undefined);
  await Promise.all([CALLER, SUBSCRIBER].map((user) => ctl.run(['delete_user', user]).catch(() => undefined)));
  await vhost?.remove();
});

describe('requests carry the broker-validated user_id', () => {
  let server: Server;

  beforeAll(async () => {
    server = createServer({ transport: await transportAs(undefined), requireIdentity: true }).add(
      TestServiceDefinition,
      testService('identity').implementation,
    );
    await server.start();
  });
  afterAll(async () => {
    await server.close();
  });

  it('shows a Warren caller its own broker user as ctx.caller.userId', async () => {
    const client = createClient(TestServiceDefinition, await transportAs(CALLER));
    expect((await client.echo({ text: 'who' })).caller).toBe(CALLER);
  });

  it('answers a request without user_id with UNAUTHENTICATED (raw amqplib)', async () => {
    const call = await rawCaller(await (await rawConnection()).createChannel());
    const { status, reply } = await call({});
    expect(status).toBe(Code.UNAUTHENTICATED);
    expect(String(reply.properties.headers?.['warren-message'])).toContain('no broker-validated user_id');
  });

  it('never delivers a forged user_id: the broker closes the publishing channel with 406 PRECONDITION_FAILED', async () => {
    const forger = await (await rawConnection(CALLER)).createConfirmChannel();
    const closed = new Promise<Error>((resolve) => forger.on('error', resolve));
    forger.publish('', serviceQueue(SERVICE), Buffer.from(''), {
      type: ECHO,
      userId: 'guest',
      replyTo: 'warren.reply.forged',
      correlationId: 'forged',
    });
    const error = (await closed) as Error & { code?: number };
    expect(error.code).toBe(406);
    expect(error.message).toContain(`user_id property set to 'guest' but authenticated user was '${CALLER}'`);
    // an honest request from the same user is served
    const honest = await rawCaller(await (await rawConnection(CALLER)).createChannel());
    expect((await honest({ userId: CALLER })).status).toBe(Code.OK);
  });

  it('does not believe a warren-origin-user header from a caller', async () => {
    const call = await rawCaller(await (await rawConnection(CALLER)).createChannel());
    const claimed = await call({ userId: CALLER, headers: { [ORIGIN_USER_HEADER]: 'guest' } });
    expect(claimed.status).toBe(Code.OK);
    expect(EchoResponse.decode(claimed.reply.content).caller).toBe(CALLER);
    const anonymous = await call({ headers: { [ORIGIN_USER_HEADER]: 'guest' } });
    expect(anonymous.status).toBe(Code.UNAUTHENTICATED);
  });
});

describe('a request re-queued after an instance died keeps its caller', () => {
  it('is served to its original caller by a server that requires identity', async () => {
    // a "dying instance": takes the request and never acks it
    const dying = await (await rawConnection()).createChannel();
    await dying.assertQueue(serviceQueue(SERVICE), { durable: true, arguments: { 'x-queue-type': 'classic' } });
    await dying.prefetch(1);
    let taken: ConsumeMessage | undefined;
    await dying.consume(serviceQueue(SERVICE), (message) => (taken = message ?? undefined), { noAck: false });

    const client = createClient(TestServiceDefinition, await transportAs(CALLER), { retry: false });
    const call = client.echo({ text: 'survivor' }, { timeoutMs: 20_000 });
    await waitFor(() => taken !== undefined, 'the request at the dying instance');
    expect(taken!.properties.userId).toBe(CALLER);

    const server = createServer({ transport: await transportAs(undefined), requireIdentity: true }).add(
      TestServiceDefinition,
      testService('survivor').implementation,
    );
    await server.start();
    try {
      await dying.close(); // the broker redelivers; the classic queue's server re-queues a counted copy as guest
      const reply = await call;
      expect(reply.text).toBe('survivor');
      expect(reply.caller).toBe(CALLER);
    } finally {
      await server.close();
    }
  });
});

describe("events carry their publisher's broker user", () => {
  it('shows it in the event context, keeps it across retries, and dead-letters events from others', async () => {
    const group = 'identity';
    const publisher = createEventBus({ transport: await transportAs(CALLER), service: 'orders' });
    const subscriber = createEventBus({
      transport: await transportAs(SUBSCRIBER),
      service: 'subscriber',
      access: createEventAccess({ publishers: { 'warren.test.v1.*': [CALLER] } }),
    });
    const seen: { attempt: number; userId: string | undefined; orderId: string }[] = [];
    await subscriber.subscribe(
      OrderCreated,
      (event, ctx) => {
        seen.push({ attempt: ctx.attempt, userId: ctx.publisherUserId, orderId: event.orderId });
        if (ctx.attempt === 1) throw new RpcError(Code.UNAVAILABLE, 'try again');
      },
      { group, retryDelaysMs: [50] },
    );

    await publisher.publish(OrderCreated, { orderId: 'o-1' });
    await waitFor(() => seen.length >= 2, 'the retried event');
    expect(seen).toEqual([
      { attempt: 1, userId: CALLER, orderId: 'o-1' },
      { attempt: 2, userId: CALLER, orderId: 'o-1' },
    ]);

    // straight to the exchange, outside Warren: without user_id, with another user's, and with a claimed origin
    const raw = await (await rawConnection()).createConfirmChannel();
    const body = Buffer.from(OrderCreated.encode(OrderCreated.fromPartial({ orderId: 'o-forged' })).finish());
    const type = OrderCreated.$type;
    raw.publish(EVENTS_EXCHANGE, type, body, { type, messageId: 'anonymous' });
    raw.publish(EVENTS_EXCHANGE, type, body, { type, messageId: 'guest', userId: 'guest' });
    raw.publish(EVENTS_EXCHANGE, type, body, {
      type,
      messageId: 'claimed',
      userId: 'guest',
      headers: { [ORIGIN_USER_HEADER]: CALLER },
    });
    await raw.waitForConfirms();
    const letters = await waitForDeadLetters(subscriber, group, 3);
    const reasons = Object.fromEntries(letters.map((letter) => [letter.event.messageId, letter.reason]));
    expect(reasons['anonymous']).toMatch(
      /^\[UNAUTHENTICATED\] event warren.test.v1.OrderCreated carries no broker-validated user_id/,
    );
    expect(reasons['guest']).toMatch(
      /^\[PERMISSION_DENIED\] event warren.test.v1.OrderCreated was published by broker user "guest"/,
    );
    expect(reasons['claimed']).toMatch(/published by broker user "guest"/);
    expect(seen.map((entry) => entry.orderId)).not.toContain('o-forged');
    await subscriber.close();
  });
});
