import { connect, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AmqpTransport, Code, connectAmqp, createClient, createServer, type MethodInfo, type Server } from '../core/index.js';
import { createMethodCaller } from '../core/tooling.js';
import { DEADLINE_HEADER, RPC_EXCHANGE, serviceQueue } from '../core/protocol/index.js';
import { EchoRequest, EchoResponse, TestServiceDefinition } from '../gen/warren/test/v1/test.js';
import { createTestVhost, type TestVhost } from './support/broker.js';
import { waitFor } from '../core/testing/events-waits.js';
import { testService, type TestServiceLedger } from '../core/testing/test-service.js';

// reply_to hygiene: a server only ever publishes replies to reply addresses
// (`amq.rabbitmq.reply-to.<token>` or `warren.reply.<id>`), so a caller
// cannot use it to write into a queue it names. A request naming anything
// else is acknowledged, logged and dropped without running the handler
// (there is nowhere to send a refusal). A direct reply-to token of another
// connection is a reply address: the reply reaches that connection, whose
// client drops it (unknown correlation id) and counts it as a late reply.
// (The bare `amq.rabbitmq.reply-to` never reaches a server: the broker
// closes the channel of a publisher that sets it without consuming it.)

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
async function sendWithReplyTo(replyTo: string | undefined, correlationId = randomBytes(6).toString('hex')): Promise<string> {
  const messageId = `attack-${randomBytes(6).toString('hex')}`;
  attacker.publish(RPC_EXCHANGE, SERVICE, Buffer.from(EchoRequest.encode(EchoRequest.fromPartial({ text: 'written by the attacker' })).finish()), {
    mandatory: true,
    type: `${SERVICE}/Echo`,
    correlationId,
    messageId,
    headers: { [DEADLINE_HEADER]: Date.now() + 10_000 },
    ...(replyTo === undefined ? {} : { replyTo }),
  });
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
  server = createServer({ transport: serverTransport, maxDeliveries: MAX_DELIVERIES }).add(TestServiceDefinition, service.implementation);
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
    ['another service\'s queue', ORDERS_QUEUE],
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

describe('reply_to naming another connection\'s direct reply-to', () => {
  it('reaches that connection, whose client drops the reply as late without touching its calls', async () => {
    // a raw "spy" service learns the victim's direct reply-to address from a call the victim makes to it
    const spy = await admin.createChannel();
    await spy.assertQueue('rpc.spy.v1.SpyService', { exclusive: true });
    await spy.bindQueue('rpc.spy.v1.SpyService', RPC_EXCHANGE, 'spy.v1.SpyService');
    let seen: ConsumeMessage | undefined;
    await spy.consume('rpc.spy.v1.SpyService', (message) => (seen = message ?? undefined), { noAck: true });

    const victim = await transport();
    const spyMethod: MethodInfo = { service: 'spy.v1.SpyService', name: 'Peek', path: 'spy.v1.SpyService/Peek', localName: 'peek', idempotency: 'IDEMPOTENCY_UNKNOWN', requestType: EchoRequest, responseType: EchoResponse };
    const pending = createMethodCaller(spyMethod, victim)(EchoRequest.fromPartial({ text: 'hello spy' }), { timeoutMs: 15_000 });
    await waitFor(() => seen !== undefined, 'the victim\'s request at the spy');
    const victimAddress = String(seen!.properties.replyTo);
    expect(victimAddress).toMatch(/^amq\.rabbitmq\.reply-to\./);

    const lateBefore = victim.stats().lateReplies;
    await sendWithReplyTo(victimAddress, 'not-one-of-the-victims');
    await waitFor(() => victim.stats().lateReplies > lateBefore, 'the reflected reply at the victim', 10_000);
    expect(victim.stats().lateReplies).toBe(lateBefore + 1);

    // the victim's own pending call is untouched: it still waits for, and gets, its real answer
    expect(victim.stats().pending).toBe(1);
    spy.sendToQueue(victimAddress, Buffer.from(EchoResponse.encode(EchoResponse.fromPartial({ text: 'from the spy' })).finish()), {
      correlationId: String(seen!.properties.correlationId),
      headers: { 'warren-status': Code.OK },
    });
    expect((await pending).text).toBe('from the spy');
  });

  it('survives a forged token, which RabbitMQ 3.10 answers by dropping the replying connection: bounded, then dead-lettered', async () => {
    // Such a token makes RabbitMQ 3.10 close the *connection* that publishes the reply (541
    // INTERNAL_ERROR), before the request's ack. The request comes back, and would crash the
    // connection again until its deadline, had the server not counted deliveries and, past
    // maxDeliveries, acknowledged it before sending the final INTERNAL reply.
    const before = serverTransport.stats().reconnections;
    await sendWithReplyTo('amq.rabbitmq.reply-to.g1h2AAAAAAAAAAAAforged.AAAAAAAAAAAAAAAAAAAAAA==');
    const deadQueue = `${serviceQueue(SERVICE)}.dead`;
    await waitFor(() => serverTransport.stats().reconnections > before, 'the broker to drop the server connection', 5_000).catch(() => undefined);
    if (serverTransport.stats().reconnections > before) {
      // RabbitMQ 3.10: wait until the request went round and ended in the dead-letter queue
      const until = Date.now() + 20_000;
      while ((await messagesIn(deadQueue).catch(() => 0)) < 1) {
        if (Date.now() > until) throw new Error('the forged request never reached the dead-letter queue');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    expect((await createClient(TestServiceDefinition, await transport()).echo({ text: 'still up' }, { timeoutMs: 15_000 })).text).toBe('still up');
    const reconnections = serverTransport.stats().reconnections - before;
    console.info(`forged direct reply-to token: the server's connection was dropped ${reconnections} times (maxDeliveries ${MAX_DELIVERIES})`);
    expect(reconnections).toBeLessThanOrEqual(MAX_DELIVERIES + 1);
    expect(await messagesIn(serviceQueue(SERVICE))).toBe(0);
  });
});
