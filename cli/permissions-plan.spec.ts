import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadContracts } from './contracts.js';
import { parsePermissionsConfig } from './permissions-config.js';
import {
  anchored,
  contractAccess,
  literal,
  planCommands,
  planPermissions,
  shellLine,
  type ContractAccess,
} from './permissions-plan.js';

const shop = parsePermissionsConfig(JSON.parse(readFileSync('services/permissions.json', 'utf8')));

async function access(): Promise<ContractAccess> {
  return contractAccess(await loadContracts('proto', 'permissions plan'));
}

describe('contractAccess', () => {
  it('reads method callers and event publishers from the shop protos', async () => {
    const found = await access();
    expect(found.methodCallers.get('shop.payments.v1.PaymentService/Charge')).toEqual(['orders']);
    expect(found.methodCallers.get('shop.inventory.v1.InventoryService/Release')).toEqual(['orders']);
    expect(found.methodCallers.has('shop.payments.v1.PaymentService/ListPayments')).toBe(false);
    expect(found.eventPublishers.get('shop.orders.v1.OrderPaid')).toEqual(['orders']);
  });
});

describe('planPermissions for the example shop', () => {
  it('gives orders its queue, calls and its own events only', async () => {
    const plan = planPermissions(shop, await access(), '/');
    const orders = plan.users.find((user) => user.principal === 'orders')!;
    expect(orders.calls).toEqual(['shop.inventory.v1.InventoryService', 'shop.payments.v1.PaymentService']);
    expect(orders.publishes).toEqual([
      'shop.orders.v1.OrderCancelled',
      'shop.orders.v1.OrderCreated',
      'shop.orders.v1.OrderFailed',
      'shop.orders.v1.OrderPaid',
    ]);
    // protocol 2: no request exchange to bind to; requests and replies through the default exchange
    expect(orders.configure).toBe(
      '^(warren\\.reply\\.[0-9a-f]+|rpc\\.shop\\.orders\\.v1\\.OrderService|rpc\\.shop\\.orders\\.v1\\.OrderService\\.dead|warren\\.events|warren\\.mesh)$',
    );
    expect(orders.write).toBe('^(amq\\.default|warren\\.events|warren\\.mesh)$');
    expect(orders.read).toBe('^(warren\\.reply\\.[0-9a-f]+|rpc\\.shop\\.orders\\.v1\\.OrderService)$');
    expect(orders.topicWrite).toBe(
      '^(shop\\.orders\\.v1\\.OrderCancelled|shop\\.orders\\.v1\\.OrderCreated|shop\\.orders\\.v1\\.OrderFailed|shop\\.orders\\.v1\\.OrderPaid)$',
    );
    expect(orders.topicRead).toBe('^$');
  });

  it('lets a subscriber bind only its declared patterns and publish nothing', async () => {
    const plan = planPermissions(shop, await access(), '/');
    const analytics = plan.users.find((user) => user.principal === 'analytics')!;
    expect(analytics.topicRead).toBe('^(shop\\.orders\\.v1\\.\\*)$');
    expect(analytics.topicWrite).toBe('^$');
    expect(analytics.read).toContain('events\\.analytics\\.bcast\\..+');
    expect(analytics.configure).toContain('warren\\.events\\.delay\\.\\d+');
    const gateway = plan.users.find((user) => user.principal === 'gateway')!;
    // the gateway calls and views the mesh reports (an exclusive server-named queue bound to warren.mesh)
    expect([gateway.configure, gateway.write, gateway.read]).toEqual([
      '^(warren\\.reply\\.[0-9a-f]+|warren\\.mesh|amq\\.gen-.*)$',
      '^(amq\\.default|warren\\.mesh|amq\\.gen-.*)$',
      '^(warren\\.reply\\.[0-9a-f]+|warren\\.mesh|amq\\.gen-.*)$',
    ]);
    expect(plan.users.find((user) => user.principal === 'payments')!.read).not.toContain('mesh');
  });

  it('prefixes broker users and matches the regexps RabbitMQ will apply', async () => {
    const plan = planPermissions(shop, await access(), 'shop', 'staging-');
    const payments = plan.users.find((user) => user.principal === 'payments')!;
    expect(payments.user).toBe('staging-payments');
    const write = new RegExp(payments.write);
    expect(write.test('amq.default')).toBe(true);
    expect(write.test('warren.rpc')).toBe(false);
    expect(new RegExp(payments.read).test('warren.rpc')).toBe(false);
    expect(new RegExp(payments.read).test('rpc.shop.orders.v1.OrderService')).toBe(false);
    expect(write.test('warren.events')).toBe(false);
    expect(new RegExp(payments.read).test('rpc.shop.payments.v1.PaymentServiceX')).toBe(false);
    const commands = planCommands(plan, new Set(['staging-payments'])).filter((command) =>
      command.args.includes('staging-payments'),
    );
    expect(commands[0]).toEqual({ args: ['add_user', 'staging-payments'], passwordFor: 'staging-payments' });
    expect(shellLine(commands[0]!)).toBe('rabbitmqctl add_user staging-payments   # password on stdin');
    expect(shellLine(commands[1]!)).toBe(
      `rabbitmqctl set_permissions -p shop staging-payments '${payments.configure}' '${payments.write}' '${payments.read}'`,
    );
  });

  it('refuses a config that contradicts the protos, and warns about users the protos name but the config lacks', async () => {
    const found = await access();
    const thief = parsePermissionsConfig({ users: { payments: { publishes: ['shop.orders.v1.OrderPaid'] } } });
    expect(() => planPermissions(thief, found, '/')).toThrow(
      /shop.orders.v1.OrderPaid may only be published by orders/,
    );
    const unknown = parsePermissionsConfig({ users: { x: { serves: ['shop.nope.v1.NopeService'] } } });
    expect(() => planPermissions(unknown, found, '/')).toThrow(/no service shop.nope.v1.NopeService/);
    const lonely = planPermissions(parsePermissionsConfig({ users: { gateway: { calls: ['*'] } } }), found, '/');
    expect(lonely.warnings).toContain(
      'shop.payments.v1.PaymentService/Charge allows caller orders, who is not in the config',
    );
  });

  it('refuses malformed configs naming the field', () => {
    expect(() => parsePermissionsConfig({ users: { 'bad name': {} } })).toThrow(
      /users.bad name: a user name must match/,
    );
    expect(() => parsePermissionsConfig({ users: { a: { serve: [] } } })).toThrow(/unknown field "serve"/);
    expect(() => parsePermissionsConfig({ users: { a: { subscribes: { 'no.dots': ['x.Y'] } } } })).toThrow(
      /event group/,
    );
    expect(() => parsePermissionsConfig({ users: {} })).toThrow(/at least one user/);
  });
});

describe('regexp helpers', () => {
  it('escapes names and anchors alternatives', () => {
    expect(literal('rpc.a+b(c)')).toBe('rpc\\.a\\+b\\(c\\)');
    expect(anchored([])).toBe('^$');
    expect(anchored(['a', 'b', 'a'])).toBe('^(a|b)$');
  });
});
