import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHealth } from '../cli/health.js';
import { createRabbitmqctl } from '../cli/permissions-apply.js';
import { DEADLINE_HEADER, serviceQueue, STATUS_HEADER } from '../core/protocol/index.js';
import {
  type AmqpTransport,
  Code,
  connectAmqp,
  createAccessPolicy,
  createClient,
  createServer,
  type Server,
  type ServiceImplementation,
} from '../core/index.js';
import { loadProtos } from '../core/tooling.js';
import { createGateway, type Gateway } from '../gateway/create-gateway.js';
import { ChargeRequest, PaymentServiceDefinition, PaymentStatus } from '../gen/shop/payments/v1/payments.js';
import { createTestVhost, type TestVhost } from './support/broker.js';
import { rejectionOf } from '../core/testing/events-waits.js';

// Per-method access control on the real broker: payments' Charge and Refund
// carry `(warren.access.v1.method) = {callers: ["orders"]}` in the proto;
// ListPayments has no option and stays open. Broker users get a unique
// prefix per run (users are broker-wide), which the policy strips.

const SERVICE = PaymentServiceDefinition.fullName;
const CHARGE = `${SERVICE}/Charge`;
const ctl = createRabbitmqctl();
const PREFIX = `sec-acl-${process.pid}-${randomBytes(3).toString('hex')}-`;
const ORDERS = `${PREFIX}orders`;
const GATEWAY = `${PREFIX}gateway`;
const PASSWORD = randomBytes(12).toString('hex');

let vhost: TestVhost;
let server: Server;
let gateway: Gateway | undefined;
const transports: AmqpTransport[] = [];
const models: ChannelModel[] = [];
/** Handler runs, as `method:caller`. */
const ran: string[] = [];

const payments: ServiceImplementation<typeof PaymentServiceDefinition> = {
  charge(request, ctx) {
    ran.push(`charge:${ctx.caller.userId}`);
    return {
      payment: {
        orderId: request.orderId,
        amountCents: request.amountCents,
        status: PaymentStatus.PAYMENT_STATUS_CAPTURED,
      },
    };
  },
  refund(request, ctx) {
    ran.push(`refund:${ctx.caller.userId}`);
    return { payment: { orderId: request.orderId, status: PaymentStatus.PAYMENT_STATUS_REFUNDED } };
  },
  listPayments(_request, ctx) {
    ran.push(`list:${ctx.caller.userId}`);
    return { payments: [] };
  },
};

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

/** Publishes one raw request (any body) on a fresh channel and resolves the reply's status. */
async function rawStatus(channel: Channel, method: string, body: Uint8Array, userId?: string): Promise<number> {
  const correlationId = randomBytes(8).toString('hex');
  let answered: (message: ConsumeMessage) => void = () => undefined;
  const reply = new Promise<ConsumeMessage>((resolve) => (answered = resolve));
  const replyQueue = `warren.reply.${randomBytes(16).toString('hex')}`;
  await channel.assertQueue(replyQueue, { exclusive: true, autoDelete: true, durable: false });
  await channel.consume(replyQueue, (message) => message && answered(message), { noAck: true });
  channel.publish('', serviceQueue(SERVICE), Buffer.from(body), {
    type: method,
    correlationId,
    replyTo: replyQueue,
    headers: { [DEADLINE_HEADER]: Date.now() + 10_000 },
    ...(userId === undefined ? {} : { userId }),
  });
  return Number((await reply).properties.headers?.[STATUS_HEADER]);
}

async function rawChannel(user?: string): Promise<Channel> {
  const model = await connect(user === undefined ? vhost.url : urlOf(user));
  model.on('error', () => undefined);
  models.push(model);
  return model.createChannel();
}

beforeAll(async () => {
  vhost = await createTestVhost('sec-acl');
  await Promise.all(
    [ORDERS, GATEWAY].map(async (user) => {
      await ctl.run(['add_user', user], `${PASSWORD}\n`);
      await ctl.run(['set_permissions', '-p', vhost.name, user, '.*', '.*', '.*']);
    }),
  );
  server = createServer({
    transport: await transportAs(undefined),
    access: createAccessPolicy({ userPrefix: PREFIX }),
  }).add(PaymentServiceDefinition, payments);
  await server.start();
});

afterAll(async () => {
  await gateway?.close();
  await server?.close();
  for (const transport of transports) await transport.close().catch(() => undefined);
  for (const model of models) await model.close().catch(() => undefined);
  await Promise.all([ORDERS, GATEWAY].map((user) => ctl.run(['delete_user', user]).catch(() => undefined)));
  await vhost?.remove();
});

describe('per-method access from the proto option', () => {
  it('lets orders charge and refund', async () => {
    ran.length = 0;
    const client = createClient(PaymentServiceDefinition, await transportAs(ORDERS));
    expect((await client.charge({ orderId: 'o-1', amountCents: 1200 })).payment?.orderId).toBe('o-1');
    expect((await client.refund({ orderId: 'o-1' })).payment?.status).toBe(PaymentStatus.PAYMENT_STATUS_REFUNDED);
    expect(ran).toEqual([`charge:${ORDERS}`, `refund:${ORDERS}`]);
  });

  it('refuses the gateway and the shared dev user with PERMISSION_DENIED before the handler, and leaves reads open', async () => {
    ran.length = 0;
    for (const user of [GATEWAY, undefined]) {
      const client = createClient(PaymentServiceDefinition, await transportAs(user), { retry: false });
      const denied = await rejectionOf(client.charge({ orderId: 'o-2', amountCents: 1 }));
      expect(denied.code).toBe(Code.PERMISSION_DENIED);
      expect(denied.rawMessage).toBe(`broker user ${JSON.stringify(user ?? 'guest')} may not call ${CHARGE}`);
      expect((await client.listPayments({})).payments).toEqual([]);
    }
    expect(ran).toEqual([`list:${GATEWAY}`, 'list:guest']);
  });

  it('answers an anonymous caller UNAUTHENTICATED on restricted methods and serves it on open ones (raw amqplib)', async () => {
    ran.length = 0;
    const charge = ChargeRequest.encode(ChargeRequest.fromPartial({ orderId: 'o-3' })).finish();
    expect(await rawStatus(await rawChannel(), CHARGE, charge)).toBe(Code.UNAUTHENTICATED);
    expect(await rawStatus(await rawChannel(), `${SERVICE}/ListPayments`, new Uint8Array())).toBe(Code.OK);
    expect(ran).toEqual(['list:undefined']);
  });

  it('refuses before decoding the body: garbage from the gateway is PERMISSION_DENIED, from orders INVALID_ARGUMENT', async () => {
    const garbage = new Uint8Array([0xff, 0xff, 0xff, 0xff]);
    expect(await rawStatus(await rawChannel(GATEWAY), CHARGE, garbage, GATEWAY)).toBe(Code.PERMISSION_DENIED);
    expect(await rawStatus(await rawChannel(ORDERS), CHARGE, garbage, ORDERS)).toBe(Code.INVALID_ARGUMENT);
  });

  it('keeps the health check open to everyone', async () => {
    const health = await checkHealth(await transportAs(GATEWAY), SERVICE, 5_000, new AbortController().signal);
    expect(health.status).toBe('SERVING');
  });

  it('refuses Charge to HTTP clients of a gateway that calls as its own user, even one configured to expose it', async () => {
    ran.length = 0;
    const protos = await loadProtos({ root: 'proto' });
    const charge = async (brokerUser?: string): Promise<Response> => {
      // brokerUser: what the gateway believes it is; the broker still stamps GATEWAY on its requests
      gateway = createGateway({
        transport: await transportAs(GATEWAY),
        protos,
        expose: ['*'],
        ...(brokerUser === undefined ? {} : { brokerUser }),
      });
      const { port } = await gateway.listen(0, '127.0.0.1');
      try {
        return await fetch(`http://127.0.0.1:${port}/rpc/${SERVICE}/Charge`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ orderId: 'o-4', amountCents: '100' }),
        });
      } finally {
        await gateway.close();
        gateway = undefined;
      }
    };
    // the gateway reads the contract and does not even route it
    expect((await charge()).status).toBe(404);
    // a gateway misconfigured to think it is orders routes it; the payments server refuses it
    const refused = await charge('orders');
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { code: number }).code).toBe(Code.PERMISSION_DENIED);
    expect(ran).toEqual([]);
  });
});
