import { describe, expect, it } from 'vitest';
import { Code } from '../../core/index.js';
import { latencyBucket } from '../../core/tooling.js';
import { BreakerState, InstanceReport, type MethodStats } from '../../gen/warren/mesh/v1/mesh.js';
import { createMeshModel, type MeshModel } from './mesh-model.js';
import type { MeshView, NodeView } from './mesh-view.js';

const ORDERS = 'shop.orders.v1.OrderService';
const INVENTORY = 'shop.inventory.v1.InventoryService';
const PAYMENTS = 'shop.payments.v1.PaymentService';
const NOTIFICATIONS = 'shop.notifications.v1.NotificationService';

/** `calls` calls of `method`, all taking `ms`, `errors` of them failed by code. */
function stats(method: string, calls: number, ms = 5, errors: Record<number, number> = {}): MethodStats {
  return {
    method,
    calls,
    errors: Object.fromEntries(Object.entries(errors).map(([code, n]) => [code, BigInt(n)])),
    latency: { buckets: { [latencyBucket(ms)]: BigInt(calls) }, sumMs: calls * ms },
  };
}

/** A model on a hand-driven clock, and a report factory (2 s windows and interval unless told). */
function setUp(services: readonly string[] = []): {
  model: MeshModel;
  clock: { now: number };
  send(report: Partial<InstanceReport>): void;
  view(): MeshView;
  node(id: string): NodeView | undefined;
} {
  const clock = { now: 1_000_000 };
  const model = createMeshModel({ services, now: () => clock.now });
  return {
    model,
    clock,
    send: (report) =>
      model.ingest(
        InstanceReport.fromPartial({
          startedAtMs: clock.now - 60_000,
          sentAtMs: clock.now,
          windowMs: 2000,
          intervalMs: 2000,
          sequence: 1,
          ...report,
        }),
      ),
    view: () => model.view(),
    node: (id) => model.view().nodes.find((node) => node.id === id),
  };
}

describe('mesh model', () => {
  it('draws each service under the name of the app serving it, the gateway as a client, and who calls whom with rates', () => {
    const { send, view, node, model } = setUp();
    send({ app: 'gateway', instance: 'gw-1', called: [stats(`${ORDERS}/CreateOrder`, 10, 40)] });
    send({
      app: 'orders',
      instance: 'orders-1',
      services: [ORDERS],
      served: [stats(`${ORDERS}/CreateOrder`, 10, 35)],
      called: [stats(`${INVENTORY}/Reserve`, 10, 3), stats(`${INVENTORY}/Release`, 2, 3)],
    });
    send({
      app: 'inventory',
      instance: 'inventory-1',
      services: [INVENTORY],
      served: [stats(`${INVENTORY}/Reserve`, 10, 2), stats(`${INVENTORY}/Release`, 2, 2)],
    });

    const picture = view();
    expect(picture.nodes.map((n) => [n.id, n.kind, n.label, n.status, n.instances])).toEqual([
      [INVENTORY, 'service', 'inventory', 'healthy', 1],
      [ORDERS, 'service', 'orders', 'healthy', 1],
      ['app:gateway', 'client', 'gateway', 'healthy', 1],
    ]);
    expect(picture.edges.map((e) => [e.id, e.rate, e.active])).toEqual([
      [`app:gateway>${ORDERS}`, 5, true],
      [`${ORDERS}>${INVENTORY}`, 6, true],
    ]);
    const orders = node(ORDERS)!;
    expect(orders).toMatchObject({ rate: 5, errorRate: 0, queue: null, apps: ['orders'] });
    expect(orders.p99Ms).toBeGreaterThan(35 / 1.19);
    expect(orders.p99Ms).toBeLessThan(35 * 1.19);
    expect(orders.methods).toEqual([
      expect.objectContaining({ method: `${ORDERS}/CreateOrder`, name: 'CreateOrder', calls: 10, rate: 5 }),
    ]);
    const toInventory = picture.edges.find((e) => e.to === INVENTORY)!;
    expect(toInventory.methods.map((m) => [m.name, m.rate])).toEqual([
      ['Release', 1],
      ['Reserve', 5],
    ]);

    // Callers sit left of callees.
    const x = Object.fromEntries(picture.nodes.map((n) => [n.id, n.x]));
    expect(x['app:gateway']!).toBeLessThan(x[ORDERS]!);
    expect(x[ORDERS]!).toBeLessThan(x[INVENTORY]!);

    // The broker's consumer count is the instance count once queues were checked.
    model.setQueues(
      new Map([
        [`rpc.${ORDERS}`, { messages: 3, consumers: 2 }],
        [`rpc.${ORDERS}.dead`, { messages: 1, consumers: 0 }],
      ]),
    );
    expect(node(ORDERS)).toMatchObject({
      instances: 2,
      queue: { name: `rpc.${ORDERS}`, exists: true, messages: 3, consumers: 2 },
      deadLetterQueue: { messages: 1 },
    });
    expect(view().queuesAt).not.toBeNull();
  });

  it('divides calls by the time each instance reported for, and forgets them after the window, keeping the edge idle', () => {
    const { send, view, clock } = setUp();
    send({
      app: 'orders',
      instance: 'o-1',
      services: [ORDERS],
      windowMs: 2000,
      called: [stats(`${INVENTORY}/Reserve`, 8)],
    });
    send({
      app: 'orders',
      instance: 'o-2',
      services: [ORDERS],
      windowMs: 500,
      called: [stats(`${INVENTORY}/Reserve`, 3)],
    });
    clock.now += 2000;
    send({
      app: 'orders',
      instance: 'o-1',
      services: [ORDERS],
      windowMs: 2000,
      sequence: 2,
      called: [stats(`${INVENTORY}/Reserve`, 4)],
    });
    // o-1: 12 calls over 4 s; o-2: 3 calls over 0.5 s, counted over at least 1 s
    expect(view().edges[0]).toMatchObject({ id: `${ORDERS}>${INVENTORY}`, rate: 6, active: true });

    clock.now += 11_000;
    const idle = view();
    expect(idle.edges).toEqual([
      expect.objectContaining({ id: `${ORDERS}>${INVENTORY}`, rate: 0, active: false, p99Ms: null }),
    ]);
  });

  it('shares failures, server faults and p99 out, and marks a failing service degraded', () => {
    const { send, node, view } = setUp();
    send({
      app: 'payments',
      instance: 'p-1',
      services: [PAYMENTS],
      served: [
        stats(`${PAYMENTS}/Charge`, 18, 20),
        stats(`${PAYMENTS}/Charge`, 2, 900, { [Code.UNAVAILABLE]: 1, [Code.INVALID_ARGUMENT]: 1 }),
      ],
    });
    send({
      app: 'orders',
      instance: 'o-1',
      services: [ORDERS],
      called: [stats(`${PAYMENTS}/Charge`, 20, 25, { [Code.UNAVAILABLE]: 1, [Code.INVALID_ARGUMENT]: 1 })],
    });
    const payments = node(PAYMENTS)!;
    expect(payments).toMatchObject({
      status: 'degraded',
      reason: '5 % server errors',
      errorRate: 0.1,
      faultRate: 0.05,
    });
    expect(payments.p99Ms).toBeGreaterThan(900 / 1.19);
    expect(payments.methods[0]!.errors).toEqual([
      { code: 'INVALID_ARGUMENT', count: 1 },
      { code: 'UNAVAILABLE', count: 1 },
    ]);
    expect(view().edges[0]).toMatchObject({ errorRate: 0.1, faultRate: 0.05 });
  });

  it('shows a service without consumers as down, and drops an instance that said goodbye or missed its reports', () => {
    const { send, node, model, clock } = setUp([PAYMENTS]);
    expect(node(PAYMENTS)).toBeUndefined(); // in the contracts, not seen yet
    send({ app: 'payments', instance: 'p-1', services: [PAYMENTS] });
    send({ app: 'payments', instance: 'p-2', services: [PAYMENTS] });
    expect(node(PAYMENTS)).toMatchObject({ status: 'healthy', instances: 2 });

    send({ app: 'payments', instance: 'p-2', services: [], stopping: true, sequence: 2 });
    expect(node(PAYMENTS)!.instanceList.map((i) => i.id)).toEqual(['p-1']);
    model.setQueues(new Map([[`rpc.${PAYMENTS}`, { messages: 4, consumers: 0 }]]));
    expect(node(PAYMENTS)).toMatchObject({
      status: 'down',
      instances: 0,
      reason: `no consumer on rpc.${PAYMENTS}; 4 waiting`,
    });

    clock.now += 6_001; // three intervals without a report
    expect(node(PAYMENTS)!.instanceList).toEqual([]);
    model.setQueues(new Map([[`rpc.${PAYMENTS}`, null]]));
    expect(node(PAYMENTS)).toMatchObject({ status: 'down', reason: `no queue rpc.${PAYMENTS}` }); // seen before: stays, down
  });

  it('draws events from publisher to subscriber, with the group, its queues and what was dead-lettered', () => {
    const { send, node, view, model } = setUp();
    send({ app: 'orders', instance: 'o-1', services: [ORDERS] });
    send({
      app: 'notifications',
      instance: 'n-1',
      services: [NOTIFICATIONS],
      groups: [{ group: 'notifications', broadcast: false }],
      handled: [
        {
          group: 'notifications',
          type: 'shop.orders.v1.OrderCreated',
          publisher: 'orders',
          handled: 6,
          retried: 1,
          deadLettered: 1,
          latency: { buckets: { [latencyBucket(4)]: 6n }, sumMs: 24 },
        },
      ],
      deadLetters: [
        {
          group: 'notifications',
          type: 'shop.orders.v1.OrderCreated',
          messageId: 'm-1',
          reason: '[INTERNAL] Error: mail down',
          atMs: 999_000,
          publisher: 'orders',
          attempts: 5,
        },
      ],
    });
    expect(model.watchedQueues()).toEqual(
      expect.arrayContaining(['events.notifications', 'events.notifications.dead', `rpc.${NOTIFICATIONS}`]),
    );
    model.setQueues(
      new Map([
        ['events.notifications', { messages: 7, consumers: 1 }],
        ['events.notifications.dead', { messages: 2, consumers: 0 }],
      ]),
    );

    expect(view().edges).toEqual([
      expect.objectContaining({
        id: `${ORDERS}~>${NOTIFICATIONS}`,
        kind: 'event',
        rate: 3,
        types: ['shop.orders.v1.OrderCreated'],
      }),
    ]);
    expect(node(NOTIFICATIONS)!.groups).toEqual([
      expect.objectContaining({
        group: 'notifications',
        rate: 3,
        retried: 1,
        deadLettered: 1,
        queue: expect.objectContaining({ messages: 7 }),
        deadLetterQueue: expect.objectContaining({ messages: 2 }),
      }),
    ]);
    expect(view().deadLetters).toEqual([
      expect.objectContaining({ messageId: 'm-1', node: NOTIFICATIONS, reason: '[INTERNAL] Error: mail down' }),
    ]);
  });

  it('puts breakers on the edges they guard, named by service or by the app serving it', () => {
    const { send, view, node } = setUp();
    send({ app: 'payments', instance: 'p-1', services: [PAYMENTS] });
    send({
      app: 'orders',
      instance: 'o-1',
      services: [ORDERS],
      called: [stats(`${PAYMENTS}/Charge`, 1)],
      breakers: [{ target: 'payments', state: BreakerState.BREAKER_STATE_OPEN }],
    });
    send({
      app: 'orders',
      instance: 'o-2',
      services: [ORDERS],
      breakers: [
        { target: 'payments', state: BreakerState.BREAKER_STATE_CLOSED },
        { target: 'elsewhere', state: BreakerState.BREAKER_STATE_HALF_OPEN },
      ],
    });
    send({
      app: 'gateway',
      instance: 'g-1',
      called: [stats(`${ORDERS}/CreateOrder`, 1)],
      breakers: [{ target: ORDERS, state: BreakerState.BREAKER_STATE_CLOSED }],
    });
    const picture = view();
    expect(picture.breakers).toEqual([
      { holder: 'gateway', target: ORDERS, targetNode: ORDERS, state: 'closed' },
      { holder: 'orders', target: 'elsewhere', targetNode: null, state: 'half-open' },
      { holder: 'orders', target: 'payments', targetNode: PAYMENTS, state: 'open' },
    ]);
    expect(picture.edges.find((e) => e.to === PAYMENTS)).toMatchObject({ breaker: 'open' });
    expect(picture.edges.find((e) => e.to === ORDERS)).toMatchObject({ breaker: 'closed' });
    expect(node(PAYMENTS)).toMatchObject({ status: 'degraded', reason: 'breaker open in orders' });
  });

  it('watches the contracts’ services, and lists those without a queue as not deployed', () => {
    const { model, view, node } = setUp(['a.v1.A', 'b.v1.B']);
    expect(model.watchedQueues()).toEqual(['rpc.a.v1.A', 'rpc.a.v1.A.dead', 'rpc.b.v1.B', 'rpc.b.v1.B.dead']);
    model.setQueues(
      new Map([
        ['rpc.a.v1.A', null],
        ['rpc.b.v1.B', { messages: 0, consumers: 1 }],
      ]),
    );
    expect(view().notDeployed).toEqual(['a.v1.A']);
    expect(node('b.v1.B')).toMatchObject({ status: 'healthy', instances: 1, label: 'B', apps: [] });
  });

  it('keeps untrusted reports small: names, lists and numbers are bounded, unknown breaker states dropped', () => {
    const { send, view, model } = setUp();
    model.ingest(InstanceReport.fromPartial({ app: '', instance: 'nameless' }));
    expect(view().nodes).toEqual([]);
    const long = 'x'.repeat(10_000);
    send({
      app: long,
      instance: 'i-1',
      services: [`svc.${long}`],
      served: Array.from({ length: 2000 }, (_, n) => stats(`svc.${long}/M${n}`, 1)),
      breakers: [{ target: 't', state: BreakerState.UNRECOGNIZED }],
      deadLetters: Array.from({ length: 50 }, (_, n) => ({
        group: 'g',
        type: 't',
        messageId: `m${n}`,
        reason: long,
        atMs: n,
        publisher: 'p',
        attempts: -3,
      })),
      windowMs: -5,
    });
    const picture = view();
    expect(picture.nodes).toHaveLength(1);
    expect(picture.nodes[0]!.label).toHaveLength(255);
    expect(picture.nodes[0]!.methods.length).toBeLessThanOrEqual(512);
    expect(picture.breakers).toEqual([]);
    expect(picture.deadLetters).toHaveLength(20);
    expect(picture.deadLetters.every((letter) => letter.reason.length === 1024 && letter.attempts === 0)).toBe(true);
    expect(JSON.stringify(picture).length).toBeLessThan(1_000_000);
  });

  it('forgets instances long gone and reports out of the window even while nobody looks', () => {
    const { send, clock, view } = setUp();
    for (let n = 0; n < 1000; n++)
      send({ app: 'churn', instance: `churn-${n}`, services: ['churn.v1.C'], served: [stats('churn.v1.C/M', 1)] });
    send({ app: 'late', instance: 'late-1', services: ['late.v1.L'] }); // over the cap of tracked instances: ignored
    clock.now += 20_000;
    send({ app: 'fresh', instance: 'fresh-1', services: ['fresh.v1.F'], served: [stats('fresh.v1.F/M', 4)] });
    const picture = view();
    expect(picture.nodes.find((node) => node.id === 'fresh.v1.F')).toMatchObject({ instances: 1, rate: 2 });
    expect(picture.nodes.find((node) => node.id === 'churn.v1.C')).toMatchObject({
      instances: 0,
      rate: 0,
      instanceList: [],
    });
    expect(picture.nodes.find((node) => node.id === 'late.v1.L')).toBeUndefined();
  });
});
