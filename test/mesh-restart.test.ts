import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code } from '../core/index.js';
import { OrderStatus } from '../gen/shop/orders/v1/orders.js';
import { listAll, orderBody, startMesh, waitUntil, type Mesh } from './support/mesh.js';

const CHARGE_TIMEOUT_MS = 2000;
const BREAKER_RESET_MS = 1500;

// Services stopped (gracefully or killed) and started again: state is in
// SQLite, events wait in their group queues and the outbox, requests wait in
// the service queue, and orders cut off half-way are resumed.
describe('example mesh: stopping and restarting services', () => {
  let mesh: Mesh;
  beforeAll(async () => {
    mesh = await startMesh('mesh-restart', {
      catalog: [{ sku: 'BOOK', name: 'Book', unitPriceCents: 1500, currencyCode: 'EUR', stock: 1000 }],
      env: {
        payments: { PAYMENTS_LATENCY_MS: '200-400' },
        orders: {
          ORDERS_CHARGE_TIMEOUT_MS: String(CHARGE_TIMEOUT_MS),
          ORDERS_BREAKER_VOLUME: '3',
          ORDERS_BREAKER_RESET_MS: String(BREAKER_RESET_MS),
          ORDERS_BREAKER_WINDOW_MS: '5000',
          ORDERS_RECOVERY_INTERVAL_MS: '300',
          ORDERS_RESUME_AFTER_MS: '1000',
        },
      },
    });
  }, 120_000);
  afterAll(async () => {
    await mesh?.close();
  });

  const available = async (): Promise<number> => (await mesh.request('GET', '/v1/stock/BOOK')).json.available as number;
  const place = (requestId: string, customerId: string, timeoutMs = 20_000) =>
    mesh.request('POST', '/v1/orders', orderBody(requestId, customerId, [{ sku: 'BOOK', quantity: 1 }]), {
      'x-warren-timeout-ms': String(timeoutMs),
    });
  const notificationsOf = (customerId: string) =>
    listAll(mesh, `/v1/notifications?customerId=${customerId}`, 'notifications');
  /** PENDING orders of a customer, read from orders.db directly (read-only). */
  const pendingIn = (customerId: string): number => {
    const db = new Database(join(mesh.dataDir, 'orders.db'), { readonly: true, fileMustExist: true });
    try {
      return (
        db
          .prepare('SELECT COUNT(*) AS n FROM orders WHERE customer_id = ? AND status = ?')
          .get(customerId, OrderStatus.ORDER_STATUS_PENDING) as { n: number }
      ).n;
    } finally {
      db.close();
    }
  };

  it('events published while both subscribers are down reach them when they come back, once each', async () => {
    const before = (await mesh.request('GET', '/v1/stats/orders')).json;
    await mesh.stop('notifications', 'SIGTERM');
    await mesh.stop('analytics', 'SIGKILL');
    const placed = await Promise.all([1, 2, 3, 4, 5].map((n) => place(`away-${n}`, 'away')));
    expect(placed.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);

    await Promise.all([mesh.start('notifications'), mesh.start('analytics')]);
    const notified = await waitUntil(
      'notifications of the 5 orders',
      () => notificationsOf('away'),
      (found) => found.length >= 10,
    );
    expect(notified).toHaveLength(10);
    const stats = await waitUntil(
      'analytics of the 5 orders',
      async () => (await mesh.request('GET', '/v1/stats/orders')).json,
      (now) => Number(now.ordersPaid ?? 0) >= Number(before.ordersPaid ?? 0) + 5,
    );
    expect(Number(stats.ordersCreated) - Number(before.ordersCreated ?? 0)).toBe(5);
    expect(Number(stats.ordersPaid) - Number(before.ordersPaid ?? 0)).toBe(5);
  });

  it('a create sent while orders is down waits in its queue and is served when orders is back', async () => {
    await mesh.stop('orders', 'SIGTERM');
    const pending = place('queued-1', 'queued');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await mesh.start('orders');
    const answer = await pending;
    expect(answer.status).toBe(200);
    expect(answer.json.status).toBe('ORDER_STATUS_PAID');
  });

  it('orders killed mid-burst: after a restart every order is placed exactly once, stock and payments agree', async () => {
    const before = await available();
    const requests = Array.from({ length: 20 }, (_, n) => `crash-${n}`);
    const inFlight = Promise.all(requests.map((id) => place(id, 'crash')));
    // Kill orders while orders are half-way (recorded, not yet paid), as its own database shows.
    await waitUntil(
      'orders half-way through',
      async () => pendingIn('crash'),
      (pending) => pending > 0,
      15_000,
      20,
    );
    await mesh.stop('orders', 'SIGKILL');
    expect(pendingIn('crash')).toBeGreaterThan(0);
    await mesh.start('orders');
    const first = await inFlight;

    // Clients retry what failed, with the same request id; what succeeded answers the same order.
    const retried = await Promise.all(requests.map((id) => place(id, 'crash')));
    expect(retried.map((answer) => answer.status)).toEqual(requests.map(() => 200));
    first.forEach((answer, index) => {
      if (answer.status === 200) expect(retried[index]!.json.id).toBe(answer.json.id);
    });

    const orders = await waitUntil(
      'every crash order to be paid',
      () => listAll(mesh, '/v1/orders?customerId=crash', 'orders'),
      (found) => found.every((order) => order.status === 'ORDER_STATUS_PAID'),
    );
    expect(orders.map((order) => order.requestId).sort()).toEqual([...requests].sort());
    expect(await available()).toBe(before - requests.length);
    const payments = await listAll(mesh, '/v1/payments', 'payments');
    const ids = new Set(orders.map((order) => order.id));
    expect(payments.filter((payment) => ids.has(payment.orderId)).map((payment) => payment.status)).toEqual(
      requests.map(() => 'PAYMENT_STATUS_CAPTURED'),
    );
    // Events of half-done orders were published after the restart, and de-duplicated by message id.
    const notified = await waitUntil(
      'two notifications per crash order',
      () => notificationsOf('crash'),
      (found) => found.length >= 2 * requests.length,
    );
    expect(notified).toHaveLength(2 * requests.length);
  });

  it('payments stopped: creates fail with 503 and keep no stock; the breaker opens and answers fast; all recovers', async () => {
    const before = await available();
    await mesh.stop('payments', 'SIGTERM');
    // Creates wait out the charge timeout until orders' breaker for payments opens (3 calls in its 5 s window,
    // half failing; the recovery loop's refund attempts count too).
    const failed: Awaited<ReturnType<typeof place>>[] = [];
    const breakerOpen = (answer: { json: { message?: string } }): boolean =>
      answer.json.message?.includes('circuit breaker for payments is open') === true;
    for (let n = 0; n < 15 && !failed.some(breakerOpen); n++) failed.push(await place(`down-${n}`, 'down'));
    const slow = failed.filter((answer) => !breakerOpen(answer));
    expect(slow.length).toBeGreaterThanOrEqual(1);
    expect(slow.every((answer) => answer.ms >= CHARGE_TIMEOUT_MS)).toBe(true);
    for (let n = 0; n < 3; n++) failed.push(await place(`down-fast-${n}`, 'down'));
    const fast = failed.slice(slow.length);
    expect(fast.every(breakerOpen)).toBe(true);
    // Fail-fast: well under the charge timeout every slow one waited out.
    expect(Math.max(...fast.map((answer) => answer.ms))).toBeLessThan(CHARGE_TIMEOUT_MS / 2);
    expect(failed.map((answer) => [answer.status, answer.json.code])).toEqual(
      failed.map(() => [503, Code.UNAVAILABLE]),
    );
    expect(await available()).toBe(before);

    await mesh.start('payments');
    let attempt = 0;
    // Half-open after the reset time, one trial call succeeds, the breaker closes.
    const again = await waitUntil(
      'orders to be paid again',
      () => place(`up-${attempt++}`, 'down'),
      (answer) => answer.status === 200,
      30_000,
      300,
    );
    expect(again.json.status).toBe('ORDER_STATUS_PAID');
    expect(await available()).toBe(before - 1);

    // The failed orders' payments are voided once payments is back, so a late charge could never land.
    const downOrders = (await listAll(mesh, '/v1/orders?customerId=down', 'orders')).filter(
      (order) => order.status === 'ORDER_STATUS_FAILED',
    );
    expect(downOrders.length).toBeGreaterThanOrEqual(failed.length);
    const voided = await waitUntil(
      'the failed orders to be voided at payments',
      async () =>
        (await listAll(mesh, '/v1/payments', 'payments')).filter((payment) =>
          downOrders.some((order) => order.id === payment.orderId),
        ),
      (found) =>
        found.length === downOrders.length && found.every((payment) => payment.status === 'PAYMENT_STATUS_VOIDED'),
    );
    expect(voided).toHaveLength(downOrders.length);
  }, 90_000);
});
