import { connect, type Channel, type ChannelModel } from 'amqplib';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRabbitmqctl } from '../cli/permissions-apply.js';
import { EVENTS_EXCHANGE } from '../core/protocol/index.js';
import { OrderCreated } from '../gen/shop/orders/v1/events.js';
import { createTestVhost, type TestVhost } from './support/broker.js';
import { runScript, type ChildScript } from './support/child-process.js';
import { runWarren } from './support/cli.js';
import { orderBody, waitUntil } from './support/mesh.js';

// `warren permissions apply` on the example shop's config, then the shop
// itself (five services and the gateway, real processes) running as those
// users with access control enforced, and what the broker refuses them.
// Users get a unique prefix (users are broker-wide) and are deleted after.

const root = fileURLToPath(new URL('..', import.meta.url));
const ctl = createRabbitmqctl();
const PREFIX = `sec-perm-${process.pid}-${randomBytes(3).toString('hex')}-`;
const SERVICES = ['inventory', 'payments', 'notifications', 'analytics', 'orders'] as const;
const PRINCIPALS = [...SERVICES, 'gateway'] as const;
const START_TIMEOUT_MS = 45_000;

let vhost: TestVhost;
let dir: string;
/** `<NAME>_AMQP_URL` → URL, from the env file apply wrote. */
let env: Record<string, string> = {};
const children: ChildScript[] = [];
const models: ChannelModel[] = [];
let base = '';

const urlOf = (principal: (typeof PRINCIPALS)[number]): string => env[`${principal.toUpperCase()}_AMQP_URL`]!;

async function channelAs(principal: (typeof PRINCIPALS)[number]): Promise<Channel> {
  const model = await connect(urlOf(principal));
  model.on('error', () => undefined);
  models.push(model);
  const channel = await model.createChannel();
  channel.on('error', () => undefined);
  return channel;
}

/** The AMQP reply code an operation fails with (its channel is closed by then), or 0. */
async function refusal(operation: Promise<unknown>): Promise<number> {
  try {
    await operation;
    return 0;
  } catch (error) {
    return Number((error as { code?: unknown }).code ?? -1);
  }
}

/** Publishes and waits long enough to see whether the broker closes the channel (403 ACCESS_REFUSED). */
async function publishRefusal(channel: Channel, exchange: string, key: string): Promise<number> {
  const closed = new Promise<number>((resolve) =>
    channel.once('error', (error: { code?: number }) => resolve(error.code ?? -1)),
  );
  channel.publish(exchange, key, Buffer.from('x'));
  // a round trip on the same channel: answered only if the publish was accepted
  return Promise.race([
    closed,
    channel.checkExchange('amq.direct').then(
      () => 0,
      () => closed,
    ),
  ]);
}

beforeAll(async () => {
  vhost = await createTestVhost('sec-perms');
  dir = mkdtempSync(join(tmpdir(), 'warren-sec-perms-'));
  const envFile = join(dir, 'shop-users.env');
  const applied = await runWarren([
    'permissions',
    'apply',
    'services/permissions.json',
    '--vhost',
    vhost.name,
    '--user-prefix',
    PREFIX,
    '--env-out',
    envFile,
    '--url',
    vhost.url,
  ]);
  expect(applied.stderr).not.toMatch(/failed/);
  expect(applied.code).toBe(0);
  expect(statSync(envFile).mode & 0o777).toBe(0o600);
  env = Object.fromEntries(
    readFileSync(envFile, 'utf8')
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}, 120_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(children.map((child) => child.exited));
  for (const model of models) await model.close().catch(() => undefined);
  await Promise.all(
    PRINCIPALS.map((principal) => ctl.run(['delete_user', `${PREFIX}${principal}`]).catch(() => undefined)),
  );
  await vhost?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('warren permissions apply', () => {
  it('created one user per service and wrote their URLs and the prefix', () => {
    expect(Object.keys(env).sort()).toEqual(
      [...PRINCIPALS.map((principal) => `${principal.toUpperCase()}_AMQP_URL`), 'WARREN_USER_PREFIX'].sort(),
    );
    expect(env['WARREN_USER_PREFIX']).toBe(PREFIX);
    expect(new URL(urlOf('orders')).username).toBe(`${PREFIX}orders`);
  });
});

describe('the example shop under its own users, access control enforced', () => {
  beforeAll(async () => {
    const catalog = join(dir, 'catalog.json');
    writeFileSync(
      catalog,
      JSON.stringify([{ sku: 'MUG', name: 'Mug', unitPriceCents: 1200, currencyCode: 'EUR', stock: 10 }]),
    );
    const common = {
      ...env,
      AMQP_URL: 'amqp://nobody:wrong@127.0.0.1:1/',
      DATA_DIR: dir,
      INVENTORY_CATALOG: catalog,
      WARREN_LOG_LEVEL: 'info',
    };
    await Promise.all(
      SERVICES.map(async (service) => {
        const child = runScript(join(root, 'services', service, 'main.ts'), common);
        children.push(child);
        await child.waitFor(new RegExp(`^ready ${service}$`), START_TIMEOUT_MS);
        const said = await child.waitFor(/connects as broker user/, 1_000);
        expect(said).toContain(`"user":"${PREFIX}${service}"`);
        expect(said).toContain('"access":"enforce"');
      }),
    );
    const gateway = runScript(join(root, 'gateway', 'main.ts'), {
      ...common,
      AMQP_URL: urlOf('gateway'),
      PROTO_DIR: join(root, 'proto'),
      PORT: '0',
      HOST: '127.0.0.1',
    });
    children.push(gateway);
    const listening = await gateway.waitFor(/"msg":"gateway listening"/, START_TIMEOUT_MS);
    base = `http://127.0.0.1:${(JSON.parse(listening) as { port: number }).port}`;
  }, 120_000);

  it('places an order end to end: orders reserves and charges, notifications and analytics get the events', async () => {
    const created = await fetch(`${base}/v1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(orderBody('perm-1', 'ada', [{ sku: 'MUG', quantity: 2 }])),
    });
    const order = (await created.json()) as { id: string; status: string };
    expect(created.status).toBe(200);
    expect(order.status).toBe('ORDER_STATUS_PAID');
    const notified = await waitUntil(
      'both notifications',
      async () =>
        ((await (await fetch(`${base}/v1/notifications?orderId=${order.id}`)).json()) as { notifications?: unknown[] })
          .notifications ?? [],
      (found) => found.length >= 2,
    );
    expect(notified).toHaveLength(2);
    const stats = await waitUntil(
      'analytics counting the order',
      async () => (await (await fetch(`${base}/v1/stats/orders`)).json()) as Record<string, unknown>,
      (found) => Number(found['ordersPaid'] ?? 0) >= 1,
    );
    expect(Number(stats['ordersPaid'])).toBe(1);
  });

  it('lets every service report to the mesh page and the gateway read the reports', async () => {
    // instanceList comes only from reports on warren.mesh (consumer counts come from the broker): it proves each
    // service user may publish reports and the gateway user may bind and read its viewer queue
    type View = { nodes: { kind: string; apps: string[]; instanceList: { app: string }[] }[] };
    const reporting = (view: View): string[] =>
      SERVICES.filter((service) =>
        view.nodes.some(
          (node) => node.kind === 'service' && node.instanceList.some((instance) => instance.app === service),
        ),
      );
    const view = await waitUntil(
      'every service reporting to /mesh.json',
      async () => (await (await fetch(`${base}/mesh.json`)).json()) as View,
      (found) => reporting(found).length === SERVICES.length,
    );
    expect(reporting(view)).toEqual([...SERVICES]);
  });

  it('keeps internal methods out of reach: the gateway user may not charge', async () => {
    const charge = await fetch(`${base}/rpc/shop.payments.v1.PaymentService/Charge`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(charge.status).toBe(404); // not even routed: its contract gives Charge to orders only
  });
});

describe('what the broker refuses a service user', () => {
  it("payments cannot consume, declare or bind another service's queue", async () => {
    expect(
      await refusal((await channelAs('payments')).consume('rpc.shop.orders.v1.OrderService', () => undefined)),
    ).toBe(403);
    expect(
      await refusal(
        (await channelAs('payments')).assertQueue('rpc.shop.orders.v1.OrderService', {
          durable: true,
          arguments: { 'x-queue-type': 'classic' },
        }),
      ),
    ).toBe(403);
    expect(
      await refusal((await channelAs('payments')).assertQueue('rpc.shop.evil.v1.EvilService', { durable: true })),
    ).toBe(403);
    expect(
      await refusal(
        (await channelAs('payments')).bindQueue(
          'rpc.shop.orders.v1.OrderService',
          'amq.direct',
          'shop.payments.v1.PaymentService',
        ),
      ),
    ).toBe(403);
  });

  it('payments cannot publish an order event; orders can publish only its own', async () => {
    expect(await publishRefusal(await channelAs('payments'), EVENTS_EXCHANGE, OrderCreated.$type)).toBe(403);
    expect(await publishRefusal(await channelAs('orders'), EVENTS_EXCHANGE, 'shop.payments.v1.PaymentCaptured')).toBe(
      403,
    );
    expect(await publishRefusal(await channelAs('orders'), EVENTS_EXCHANGE, OrderCreated.$type)).toBe(0);
  });

  it('the gateway, a pure caller, cannot publish events, read a service queue or bind to the old request exchange', async () => {
    // protocol 2: callers publish requests through the default exchange, so the broker cannot keep the gateway from
    // it; what it sends there carries its user_id, which payments refuses for Charge (security-acl) and subscribers
    // refuse for order events
    expect(await publishRefusal(await channelAs('gateway'), EVENTS_EXCHANGE, OrderCreated.$type)).toBe(403);
    expect(
      await refusal((await channelAs('gateway')).consume('rpc.shop.payments.v1.PaymentService', () => undefined)),
    ).toBe(403);
    expect(
      await refusal(
        (await channelAs('payments')).bindQueue(
          'rpc.shop.payments.v1.PaymentService',
          'amq.direct',
          'shop.orders.v1.OrderService',
        ),
      ),
    ).toBe(403);
  });

  it('a subscriber binds only the patterns it declared and reads only its own group', async () => {
    expect(
      await refusal((await channelAs('notifications')).bindQueue('events.notifications', EVENTS_EXCHANGE, '#')),
    ).toBe(403);
    expect(
      await refusal(
        (await channelAs('notifications')).bindQueue(
          'events.notifications',
          EVENTS_EXCHANGE,
          'shop.orders.v1.OrderCreated',
        ),
      ),
    ).toBe(0);
    expect(await refusal((await channelAs('notifications')).consume('events.analytics', () => undefined))).toBe(403);
    expect(await refusal((await channelAs('analytics')).get('events.notifications.dead'))).toBe(403);
  });
});
