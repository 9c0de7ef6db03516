import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code } from '../core/index.js';
import { listAll, orderBody, startMesh, waitUntil, type Mesh } from './support/mesh.js';

const STOCK = 50;
const ORDERS = 200;

// Many customers race for a few units, through the real gateway, with two
// inventory processes sharing one SQLite file (so the lock is contended across processes).
describe('example mesh: concurrent orders against limited stock', () => {
  let mesh: Mesh;
  beforeAll(async () => {
    mesh = await startMesh('mesh-race', {
      catalog: [{ sku: 'DROP', name: 'Limited drop', unitPriceCents: 999, currencyCode: 'EUR', stock: STOCK }],
      env: { inventory: { WARREN_LOG_LEVEL: 'debug' } },
    });
    await mesh.start('inventory', 'inventory-2');
  }, 120_000);
  afterAll(async () => {
    await mesh?.close();
  });

  it(`${ORDERS} concurrent orders for ${STOCK} units: exactly ${STOCK} paid, the rest refused, never oversold`, async () => {
    const answers = await Promise.all(
      Array.from({ length: ORDERS }, (_, index) =>
        mesh.request(
          'POST',
          '/v1/orders',
          orderBody(`race-${index}`, `customer-${index}`, [{ sku: 'DROP', quantity: 1 }]),
          { 'x-warren-timeout-ms': '30000' },
        ),
      ),
    );
    const paid = answers.filter((answer) => answer.status === 200);
    const refused = answers.filter((answer) => answer.status !== 200);
    expect(paid).toHaveLength(STOCK);
    expect(paid.every((answer) => answer.json.status === 'ORDER_STATUS_PAID')).toBe(true);
    expect(refused.map((answer) => answer.json.code)).toEqual(
      Array.from({ length: ORDERS - STOCK }, () => Code.FAILED_PRECONDITION),
    );
    expect(refused.every((answer) => /not enough stock: DROP: 1 ordered, 0 available/.test(answer.json.message))).toBe(
      true,
    );

    const stock = (await mesh.request('GET', '/v1/stock/DROP')).json;
    expect(stock.available ?? 0).toBe(0);
    expect(stock.reserved).toBe(STOCK);
    const captured = (await listAll(mesh, '/v1/payments', 'payments')).filter(
      (payment) => payment.status === 'PAYMENT_STATUS_CAPTURED',
    );
    expect(captured.map((payment) => payment.orderId).sort()).toEqual(paid.map((answer) => answer.json.id).sort());

    // Both inventory processes took reservations.
    for (const instance of ['inventory', 'inventory-2']) {
      expect(
        mesh.processes.get(instance)!.lines.filter((line) => line.includes('"msg":"reserved"')).length,
      ).toBeGreaterThan(0);
    }

    // Fan-out: each group got every event, and counted it once.
    const stats = await waitUntil(
      'analytics to count every event',
      async () => (await mesh.request('GET', '/v1/stats/orders')).json,
      (now) => Number(now.eventsSeen ?? 0) >= 2 * ORDERS,
      30_000,
    );
    expect(stats).toMatchObject({
      ordersCreated: String(ORDERS),
      ordersPaid: String(STOCK),
      ordersFailed: String(ORDERS - STOCK),
      unitsSold: String(STOCK),
      revenueCents: String(STOCK * 999),
    });
    expect(stats.failuresByReason).toEqual({ FAILURE_REASON_OUT_OF_STOCK: String(ORDERS - STOCK) });
    const notifications = await waitUntil(
      'a notification per event',
      () => listAll(mesh, '/v1/notifications', 'notifications'),
      (found) => found.length >= 2 * ORDERS,
      30_000,
    );
    expect(notifications).toHaveLength(2 * ORDERS);
    expect(new Set(notifications.map((notification) => notification.eventId)).size).toBe(2 * ORDERS);
  }, 90_000);
});
