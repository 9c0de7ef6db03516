import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderBody, startMesh, waitUntil, type Mesh } from './support/mesh.js';
import { startThrowawayBroker, type ThrowawayBroker } from './support/throwaway-broker.js';

const DOWN_MS = 30_000;

// The whole example mesh on a broker node of its own, which is killed (-9) under load and kept down for 30 s: every
// process stays up and reconnects by itself, every service answers again within seconds of the broker's return,
// and no order is lost or charged twice.
describe('example mesh: the broker is killed and comes back', () => {
  let broker: ThrowawayBroker;
  let mesh: Mesh;

  beforeAll(async () => {
    broker = await startThrowawayBroker({ label: 'mesh-kill' });
    mesh = await startMesh('mesh-kill', {
      brokerUrl: broker.url,
      catalog: [{ sku: 'BOOK', name: 'Book', unitPriceCents: 1500, currencyCode: 'EUR', stock: 100_000 }],
      env: {
        payments: { PAYMENTS_LATENCY_MS: '5' },
        orders: { ORDERS_RECOVERY_INTERVAL_MS: '300', ORDERS_RESUME_AFTER_MS: '1000' },
      },
    });
  }, 240_000);

  afterAll(async () => {
    await mesh?.close();
    await broker?.remove();
  });

  it('serves again within seconds, with every process alive and every order paid exactly once', async () => {
    const pids = new Map([...mesh.processes].map(([name, child]) => [name, child.pid]));
    const requestIds: string[] = [];
    let stopLoad = false;
    let sequence = 0;
    const worker = async (): Promise<void> => {
      while (!stopLoad) {
        const requestId = `kill-${sequence++}`;
        requestIds.push(requestId);
        await mesh
          .request('POST', '/v1/orders', orderBody(requestId, 'killed', [{ sku: 'BOOK', quantity: 1 }]), {
            'x-warren-timeout-ms': '3000',
          })
          .catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 250)); // steady load, not a flood of instant 503s
      }
    };
    const load = Promise.all([worker(), worker()]);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await broker.stop('kill');
    await new Promise((resolve) => setTimeout(resolve, DOWN_MS));
    await broker.start();
    const back = Date.now();
    // every service answers through the gateway: orders (which calls inventory and payments), notifications, analytics
    await waitUntil(
      'an order paid end to end',
      async () =>
        (
          await mesh.request(
            'POST',
            '/v1/orders',
            orderBody(`after-${Date.now()}`, 'after', [{ sku: 'BOOK', quantity: 1 }]),
          )
        ).status,
      (status) => status === 200,
      60_000,
      250,
    );
    await waitUntil(
      'notifications answering',
      async () => (await mesh.request('GET', '/v1/notifications?customerId=after')).status,
      (status) => status === 200,
      30_000,
      250,
    );
    await waitUntil(
      'analytics answering',
      async () => (await mesh.request('GET', '/v1/stats/orders')).status,
      (status) => status === 200,
      30_000,
      250,
    );
    const servingAgainMs = Date.now() - back;
    stopLoad = true;
    await load;
    console.info(
      `broker killed for ${DOWN_MS} ms under load (${requestIds.length} orders attempted); the mesh served again ${servingAgainMs} ms after the broker was back (its own boot: ${broker.startTimes.at(-1)} ms)`,
    );
    expect(servingAgainMs).toBeLessThan(60_000);
    // no process died or was restarted: the same PIDs, none exited
    for (const [name, child] of mesh.processes) expect({ name, pid: child.pid }).toEqual({ name, pid: pids.get(name) });

    // placing every attempted order again (same request id) finds or finishes it: none lost, none charged twice
    for (const requestId of requestIds) {
      const again = await waitUntil(
        `order ${requestId}`,
        () =>
          mesh.request('POST', '/v1/orders', orderBody(requestId, 'killed', [{ sku: 'BOOK', quantity: 1 }]), {
            'x-warren-timeout-ms': '10000',
          }),
        (answer) => answer.status === 200,
        60_000,
        500,
      );
      expect(again.status).toBe(200);
    }
    const orders = new Database(join(mesh.dataDir, 'orders.db'), { readonly: true });
    const payments = new Database(join(mesh.dataDir, 'payments.db'), { readonly: true });
    try {
      const placed = orders.prepare("SELECT id, status FROM orders WHERE customer_id = 'killed'").all() as {
        id: string;
        status: number;
      }[];
      expect(placed).toHaveLength(requestIds.length);
      const charged = payments
        .prepare("SELECT order_id, COUNT(*) AS n FROM payments WHERE customer_id = 'killed' GROUP BY order_id")
        .all() as { order_id: string; n: number }[];
      expect(charged.every((row) => row.n === 1)).toBe(true);
      const paidIds = new Set(charged.map((row) => row.order_id));
      const pending = await waitUntil(
        'every order settled',
        async () =>
          (
            orders
              .prepare("SELECT COUNT(*) AS n FROM orders WHERE customer_id = 'killed' AND status NOT IN (2, 3)")
              .get() as { n: number }
          ).n,
        (n) => n === 0,
        30_000,
        250,
      ).catch(() => -1);
      expect(pending).toBe(0);
      const paidOrders = (
        orders.prepare("SELECT id FROM orders WHERE customer_id = 'killed' AND status = 2").all() as { id: string }[]
      ).map((row) => row.id);
      expect(paidOrders.length).toBeGreaterThan(0);
      // every paid order was charged exactly once
      expect(paidOrders.filter((id) => !paidIds.has(id))).toEqual([]);
    } finally {
      orders.close();
      payments.close();
    }
  }, 420_000);
});
