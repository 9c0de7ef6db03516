import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code } from '../core/index.js';
import { decodeBadRequest, type FieldViolation } from '../services/shared/error-details.js';
import { listAll, orderBody, startMesh, waitUntil, type Mesh } from './support/mesh.js';

/** The field violations of a 400 answer, whether the gateway expanded the detail or sent it as base64. */
function fieldViolations(body: { details?: Record<string, any>[] }): FieldViolation[] {
  const detail = body.details?.find((candidate) => candidate['@type'] === 'type.googleapis.com/google.rpc.BadRequest');
  if (!detail) return [];
  if (Array.isArray(detail['fieldViolations'])) return detail['fieldViolations'] as FieldViolation[];
  return decodeBadRequest(Buffer.from(detail['value'] as string, 'base64'));
}

const orderIdIn = (message: string): string => /ord_[A-Za-z0-9_-]+/.exec(message)![0];
const tsxLoader = new URL('../node_modules/tsx/dist/esm/index.mjs', import.meta.url).href;
const healthCheckScript = fileURLToPath(new URL('../services/shared/health-check.ts', import.meta.url));

// The order flow end to end: HTTP → gateway → orders → inventory, payments → events → notifications, analytics.
describe('example mesh: placing orders', () => {
  let mesh: Mesh;
  beforeAll(async () => {
    mesh = await startMesh('mesh-orders', {
      catalog: [
        { sku: 'MUG', name: 'Mug', unitPriceCents: 1200, currencyCode: 'EUR', stock: 10 },
        { sku: 'LAMP', name: 'Lamp', unitPriceCents: 4900, currencyCode: 'EUR', stock: 2 },
        { sku: 'TEE', name: 'T-shirt', unitPriceCents: 2500, currencyCode: 'EUR', stock: 5 },
      ],
    });
  }, 120_000);
  afterAll(async () => {
    await mesh?.close();
  });

  const stock = async (sku: string): Promise<{ available: number; reserved: number }> => {
    const answer = await mesh.request('GET', `/v1/stock/${sku}`);
    expect(answer.status).toBe(200);
    return { available: answer.json.available ?? 0, reserved: answer.json.reserved ?? 0 };
  };
  const stats = async (): Promise<Record<string, any>> => (await mesh.request('GET', '/v1/stats/orders')).json;
  const paymentsOf = async (orderId: string): Promise<any[]> =>
    listAll(mesh, `/v1/payments?orderId=${orderId}`, 'payments');
  const notificationsOf = async (orderId: string): Promise<any[]> =>
    listAll(mesh, `/v1/notifications?orderId=${orderId}`, 'notifications');

  it('places an order: paid, stock reduced, the customer notified and analytics counting it', async () => {
    const before = await stats();
    const created = await mesh.request(
      'POST',
      '/v1/orders',
      orderBody('happy-1', 'ada', [{ sku: 'MUG', quantity: 2 }]),
    );
    expect(created.status).toBe(200);
    const order = created.json;
    expect(order).toMatchObject({
      requestId: 'happy-1',
      customerId: 'ada',
      status: 'ORDER_STATUS_PAID',
      totalCents: '2400',
      currencyCode: 'EUR',
    });
    expect(order.items).toEqual([{ sku: 'MUG', quantity: 2, unitPriceCents: '1200' }]);
    expect(order.id).toMatch(/^ord_/);
    expect(order.paymentId).toMatch(/^pay_/);

    expect((await mesh.request('GET', `/v1/orders/${order.id}`)).json).toEqual(order);
    expect(await stock('MUG')).toEqual({ available: 8, reserved: 2 });
    expect(await paymentsOf(order.id)).toEqual([
      expect.objectContaining({ id: order.paymentId, status: 'PAYMENT_STATUS_CAPTURED', amountCents: '2400' }),
    ]);

    const notified = await waitUntil(
      'notifications of the order',
      () => notificationsOf(order.id),
      (found) => found.length >= 2,
    );
    expect(notified.map((n) => n.eventType).sort()).toEqual([
      'shop.orders.v1.OrderCreated',
      'shop.orders.v1.OrderPaid',
    ]);
    expect(notified.every((n) => n.customerId === 'ada' && n.channel === 'email')).toBe(true);
    expect(notified.find((n) => n.eventType === 'shop.orders.v1.OrderPaid').body).toContain('24.00 EUR');

    const after = await waitUntil(
      'analytics counts',
      stats,
      (now) => Number(now.ordersPaid ?? 0) === Number(before.ordersPaid ?? 0) + 1,
    );
    expect(Number(after.ordersCreated) - Number(before.ordersCreated ?? 0)).toBe(1);
    expect(Number(after.revenueCents) - Number(before.revenueCents ?? 0)).toBe(2400);
    expect(Number(after.unitsSold) - Number(before.unitsSold ?? 0)).toBe(2);
  });

  it('out of stock: a 400 FAILED_PRECONDITION (as grpc-gateway maps it) naming the item, nothing reserved or charged', async () => {
    const answer = await mesh.request(
      'POST',
      '/v1/orders',
      orderBody('short-1', 'bob', [{ sku: 'LAMP', quantity: 3 }]),
    );
    expect(answer.json.code).toBe(Code.FAILED_PRECONDITION);
    expect(answer.json.message).toContain('not enough stock: LAMP: 3 ordered, 2 available');
    expect(answer.json.details.map((detail: Record<string, unknown>) => detail['@type'])).toEqual([
      'type.googleapis.com/google.rpc.PreconditionFailure',
    ]);

    const orderId = orderIdIn(answer.json.message);
    expect((await mesh.request('GET', `/v1/orders/${orderId}`)).json).toMatchObject({
      status: 'ORDER_STATUS_FAILED',
      failureReason: 'FAILURE_REASON_OUT_OF_STOCK',
    });
    expect(await stock('LAMP')).toEqual({ available: 2, reserved: 0 });
    expect(await paymentsOf(orderId)).toEqual([]);
    // The client's problem, not the server's: a 4xx conflict/precondition status, never a 5xx.
    expect(answer.status).toBe(400);
  });

  it('a declined payment fails the order and leaves no stock reserved', async () => {
    expect(await stock('TEE')).toEqual({ available: 5, reserved: 0 });
    const answer = await mesh.request(
      'POST',
      '/v1/orders',
      orderBody('declined-1', 'cy', [{ sku: 'TEE', quantity: 2 }], 'tok_decline'),
    );
    expect(answer.json.code).toBe(Code.FAILED_PRECONDITION);
    expect(answer.json.message).toMatch(/payment declined: .*the stock was released/);
    const orderId = orderIdIn(answer.json.message);

    expect(await stock('TEE')).toEqual({ available: 5, reserved: 0 });
    expect(await paymentsOf(orderId)).toEqual([expect.objectContaining({ status: 'PAYMENT_STATUS_DECLINED' })]);
    expect((await mesh.request('GET', `/v1/orders/${orderId}`)).json).toMatchObject({
      status: 'ORDER_STATUS_FAILED',
      failureReason: 'FAILURE_REASON_PAYMENT_DECLINED',
      totalCents: '5000',
    });
    const notified = await waitUntil(
      'the failure notification',
      () => notificationsOf(orderId),
      (found) => found.some((n) => n.eventType === 'shop.orders.v1.OrderFailed'),
    );
    expect(notified.find((n) => n.eventType === 'shop.orders.v1.OrderFailed').body).toContain('payment declined');
  });

  it('a retried create answers the same order and charges once; a reused request id for another order is refused', async () => {
    const body = orderBody('dup-1', 'dee', [{ sku: 'MUG', quantity: 1 }]);
    const before = await stock('MUG');
    const first = await mesh.request('POST', '/v1/orders', body);
    expect(first.status).toBe(200);
    const retries = await Promise.all([1, 2, 3, 4, 5].map(() => mesh.request('POST', '/v1/orders', body)));
    for (const retry of retries) {
      expect(retry.status).toBe(200);
      expect(retry.json).toEqual(first.json);
    }
    expect((await listAll(mesh, '/v1/orders?customerId=dee', 'orders')).map((order) => order.id)).toEqual([
      first.json.id,
    ]);
    expect(await paymentsOf(first.json.id)).toHaveLength(1);
    expect((await stock('MUG')).available).toBe(before.available - 1);

    // Copies racing each other from the start also make one order.
    const racing = await Promise.all(
      [1, 2, 3, 4].map(() =>
        mesh.request('POST', '/v1/orders', orderBody('dup-2', 'dee', [{ sku: 'MUG', quantity: 1 }])),
      ),
    );
    expect(new Set(racing.map((answer) => `${answer.status} ${answer.json.id}`)).size).toBe(1);
    expect(racing[0]!.status).toBe(200);
    expect(await listAll(mesh, '/v1/orders?customerId=dee', 'orders')).toHaveLength(2);
    expect((await stock('MUG')).available).toBe(before.available - 2);

    const reused = await mesh.request('POST', '/v1/orders', orderBody('dup-1', 'dee', [{ sku: 'MUG', quantity: 3 }]));
    expect(reused.status).toBe(409);
    expect(reused.json.code).toBe(Code.ALREADY_EXISTS);
    expect(reused.json.message).toContain(first.json.id);

    // A failed create answers its failure again, for the same order.
    const failedAgain = await mesh.request(
      'POST',
      '/v1/orders',
      orderBody('short-1', 'bob', [{ sku: 'LAMP', quantity: 3 }]),
    );
    expect(failedAgain.json.code).toBe(Code.FAILED_PRECONDITION);
    expect((await listAll(mesh, '/v1/orders?customerId=bob', 'orders')).map((order) => order.id)).toEqual([
      orderIdIn(failedAgain.json.message),
    ]);
  });

  it('an invalid order is a 400 naming every bad field, and nothing is recorded', async () => {
    const answer = await mesh.request('POST', '/v1/orders', {
      requestId: '',
      customerId: 'eve',
      items: [
        { sku: 'MUG', quantity: 0 },
        { sku: 'MUG', quantity: 1 },
      ],
      paymentToken: 'tok_visa',
    });
    expect(answer.status).toBe(400);
    expect(answer.json.code).toBe(Code.INVALID_ARGUMENT);
    expect(fieldViolations(answer.json).map((violation) => violation.field)).toEqual([
      'request_id',
      'items[0].quantity',
      'items[1].sku',
    ]);
    expect(await listAll(mesh, '/v1/orders?customerId=eve', 'orders')).toEqual([]);
  });

  it('cancels a paid order: refunded, restocked, announced; cancelling again answers the same', async () => {
    const placed = (
      await mesh.request('POST', '/v1/orders', orderBody('cancel-1', 'fay', [{ sku: 'TEE', quantity: 1 }]))
    ).json;
    expect(placed.status).toBe('ORDER_STATUS_PAID');
    expect((await stock('TEE')).available).toBe(4);

    const cancelled = await mesh.request('POST', `/v1/orders/${placed.id}:cancel`, { reason: 'changed my mind' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.json).toMatchObject({
      id: placed.id,
      status: 'ORDER_STATUS_CANCELLED',
      statusMessage: 'changed my mind',
    });
    expect(await stock('TEE')).toEqual({ available: 5, reserved: 0 });
    expect(await paymentsOf(placed.id)).toEqual([expect.objectContaining({ status: 'PAYMENT_STATUS_REFUNDED' })]);
    expect((await mesh.request('POST', `/v1/orders/${placed.id}:cancel`, {})).json).toMatchObject({
      status: 'ORDER_STATUS_CANCELLED',
    });
    const notified = await waitUntil(
      'the cancellation notification',
      () => notificationsOf(placed.id),
      (found) => found.length >= 3,
    );
    expect(notified.find((n) => n.eventType === 'shop.orders.v1.OrderCancelled').body).toContain('refunded 25.00 EUR');

    const failedOrder = orderIdIn(
      (await mesh.request('POST', '/v1/orders', orderBody('short-1', 'bob', [{ sku: 'LAMP', quantity: 3 }]))).json
        .message,
    );
    expect((await mesh.request('POST', `/v1/orders/${failedOrder}:cancel`, {})).json.code).toBe(
      Code.FAILED_PRECONDITION,
    );
  });

  it('the compose health check passes for a running service and fails for one that is not there', async () => {
    const check = (service: string): Promise<number> =>
      new Promise((resolve) => {
        execFile(
          process.execPath,
          ['--import', tsxLoader, '--conditions=warren-source', healthCheckScript, service],
          { env: { ...process.env, AMQP_URL: mesh.vhost.url, HEALTH_TIMEOUT_MS: '3000' } },
          (error) => resolve(error ? Number((error as { code?: unknown }).code ?? 1) : 0),
        );
      });
    // One running service stands for all (each answers the same built-in check); each spawn costs a tsx start.
    expect(await Promise.all([check('shop.orders.v1.OrderService'), check('shop.nothing.v1.NothingService')])).toEqual([
      0, 1,
    ]);
  }, 60_000);

  it('reads: unknown orders are 404, lists page newest first', async () => {
    const missing = await mesh.request('GET', '/v1/orders/ord_nope');
    expect(missing.status).toBe(404);
    expect(missing.json.message).toBe('order ord_nope not found');

    const firstPage = await mesh.request('GET', '/v1/orders?pageSize=2');
    expect(firstPage.json.orders).toHaveLength(2);
    const all = await listAll(mesh, '/v1/orders', 'orders');
    expect(all.slice(0, 2)).toEqual(firstPage.json.orders);
    const times = all.map((order) => Date.parse(order.createTime));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect((await mesh.request('GET', '/v1/orders?pageToken=bogus')).status).toBe(400);
  });
});
