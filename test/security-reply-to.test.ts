import { connect, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AmqpTransport,
  Code,
  connectAmqp,
  createClient,
  createServer,
  type MethodInfo,
  type Server,
} from '../core/index.js';
import { createMethodCaller } from '../core/tooling.js';
import { DEADLINE_HEADER, serviceQueue } from '../core/protocol/index.js';
import { EchoRequest, EchoResponse, TestServiceDefinition } from '../gen/warren/test/v1/test.js';
import { createTestVhost, type TestVhost } from './support/broker.js';
import { waitFor } from '../core/testing/events-waits.js';
import { testService, type TestServiceLedger } from '../core/testing/test-service.js';

// reply_to hygiene: a server only ever publishes replies to reply addresses
// (`warren.reply.<id>` since protocol 2), so a caller
// cannot use it to write into a queue it names. A request naming anything
// else is acknowledged, logged and dropped without running the handler
// (there is nowhere to send a refusal). Another connection's reply queue is a
// reply address: the reply reaches that connection, whose client drops it
// (unknown correlation id) and counts it as a late reply. Direct reply-to
// tokens are no reply address any more: a forged one made RabbitMQ 3.10 drop
// the replying server's whole connection.

const SERVICE = TestServiceDefinition.fullName;
const ORDERS_QUEUE = 'rpc.shop.orders.v1.OrderService';
const OTHER_QUEUE = 'rpc.x';

let vhost: TestVhost;
let server: Server;
let serverTransport: AmqpTransport;
/** Deliveries before the server dead-letters a request that keeps coming back. */
const MAX_DELIVERIES = 2;
let ledger: TestServiceLedger;
let admin: ChannelModel;
let attacker: ConfirmChannel;
const transports: AmqpTransport[] = [];

async function transport(): Promise<AmqpTransport> {
  const opened = await connectAmqp({ url: vhost.url });
  transports.push(opened);
  return opened;
}

/** Publishes an Echo request with `replyTo` (confirmed routed into the service queue); resolves its message id. */
async function sendWithReplyTo(
  replyTo: string | undefined,
  correlationId = randomBytes(6).toString('hex'),
): Promise<string> {
  const messageId = `attack-${randomBytes(6).toString('hex')}`;
  attacker.publish(
    '',
    serviceQueue(SERVICE),
    Buffer.from(EchoRequest.encode(EchoRequest.fromPartial({ text: 'written by the attacker' })).finish()),
    {
      mandatory: true,
      type: `${SERVICE}/Echo`,
      correlationId,
      messageId,
      headers: { [DEADLINE_HEADER]: Date.now() + 10_000 },
      ...(replyTo === undefined ? {} : { replyTo }),
    },
  );
  await attacker.waitForConfirms();
  return messageId;
}

async function messagesIn(queue: string): Promise<number> {
  const channel = await admin.createChannel();
  try {
    return (await channel.checkQueue(queue)).messageCount;
  } finally {
    await channel.close();
  }
}

beforeAll(async () => {
  vhost = await createTestVhost('sec-reply-to');
  const service = testService('reply-to');
  ledger = service.ledger;
  serverTransport = await transport();
  server = createServer({ transport: serverTransport, maxDeliveries: MAX_DELIVERIES }).add(
    TestServiceDefinition,
    service.implementation,
  );
  await server.start();
  admin = await connect(vhost.url);
  const setup = await admin.createChannel();
  await setup.assertQueue(ORDERS_QUEUE, { durable: true });
  await setup.assertQueue(OTHER_QUEUE, { durable: true });
  await setup.close();
  attacker = await admin.createConfirmChannel();
});

afterAll(async () => {
  await server?.close();
  for (const opened of transports) await opened.close().catch(() => undefined);
  await admin?.close().catch(() => undefined);
  await vhost?.remove();
});

describe('reply_to naming a queue', () => {
  it.each([
    ["another service's queue", ORDERS_QUEUE],
    ['any queue', OTHER_QUEUE],
    ['the reply-queue prefix alone', 'warren.reply.'],
    ['nothing', undefined],
  ])('drops a request whose reply_to is %s without running it or writing anywhere', async (_what, replyTo) => {
    const messageId = await sendWithReplyTo(replyTo);
    // a later honest call is answered, so the attack before it on the same queue was dealt with
    expect((await createClient(TestServiceDefinition, await transport()).echo({ text: 'after' })).text).toBe('after');
    expect(ledger.started.map((start) => start.messageId)).not.toContain(messageId);
    expect(await messagesIn(ORDERS_QUEUE)).toBe(0);
    expect(await messagesIn(OTHER_QUEUE)).toBe(0);
    expect(await messagesIn(serviceQueue(SERVICE))).toBe(0); // acknowledged, not left to come back
  });
});

describe("reply_to naming another connection's reply queue, or a direct reply-to token", () => {
  it('reaches that connection, whose client drops the reply as late without touching its calls', async () => {
    // a raw "spy" service learns the victim's direct reply-to address from a call the victim makes to it
    const spy = await admin.createChannel();
    await spy.assertQueue('rpc.spy.v1.SpyService', { exclusive: true });
    let seen: ConsumeMessage | undefined;
    await spy.consume('rpc.spy.v1.SpyService', (message) => (seen = message ?? undefined), { noAck: true });

    const victim = await transport();
    const spyMethod: MethodInfo = {
      service: 'spy.v1.SpyService',
      name: 'Peek',
      path: 'spy.v1.SpyService/Peek',
      localName: 'peek',
      idempotency: 'IDEMPOTENCY_UNKNOWN',
      requestType: EchoRequest,
      responseType: EchoResponse,
    };
    const pending = createMethodCaller(spyMethod, victim)(EchoRequest.fromPartial({ text: 'hello spy' }), {
      timeoutMs: 15_000,
    });
    await waitFor(() => seen !== undefined, "the victim's request at the spy");
    const victimAddress = String(seen!.properties.replyTo);
    expect(victimAddress).toMatch(/^warren\.reply\.[0-9a-f]{32}$/);

    const lateBefore = victim.stats().lateReplies;
    await sendWithReplyTo(victimAddress, 'not-one-of-the-victims');
    await waitFor(() => victim.stats().lateReplies > lateBefore, 'the reflected reply at the victim', 10_000);
    expect(victim.stats().lateReplies).toBe(lateBefore + 1);

    // the victim's own pending call is untouched: it still waits for, and gets, its real answer
    expect(victim.stats().pending).toBe(1);
    spy.sendToQueue(
      victimAddress,
      Buffer.from(EchoResponse.encode(EchoResponse.fromPartial({ text: 'from the spy' })).finish()),
      {
        correlationId: String(seen!.properties.correlationId),
        headers: { 'warren-status': Code.OK },
      },
    );
    expect((await pending).text).toBe('from the spy');
  });

  it("drops a forged direct reply-to token without replying, so the broker never drops the server's connection", async () => {
    // RabbitMQ 3.10 closes the *connection* that publishes a reply to such a token (541 INTERNAL_ERROR). Protocol 1
    // servers replied, lost their connection once per delivery and dead-lettered it after maxDeliveries; protocol 2
    // servers only reply to warren.reply.* queues, so the request is acked and dropped like any foreign reply_to.
    const before = serverTransport.stats().reconnections;
    const messageId = await sendWithReplyTo('amq.rabbitmq.reply-to.g1h2AAAAAAAAAAAAforged.AAAAAAAAAAAAAAAAAAAAAA==');
    expect(
      (await createClient(TestServiceDefinition, await transport()).echo({ text: 'still up' }, { timeoutMs: 15_000 }))
        .text,
    ).toBe('still up');
    expect(serverTransport.stats().reconnections).toBe(before);
    expect(ledger.started.map((start) => start.messageId)).not.toContain(messageId);
    expect(await messagesIn(serviceQueue(SERVICE))).toBe(0);
    expect(await messagesIn(`${serviceQueue(SERVICE)}.dead`)).toBe(0);
  });
});
