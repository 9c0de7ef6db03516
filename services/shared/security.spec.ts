import { describe, expect, it } from 'vitest';
import { type Logger } from 'warren';
import { brokerUser, serviceAccess, serviceBrokerUrl } from './security.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

describe('service identity and access settings', () => {
  it("prefers the service's own URL, then AMQP_URL", () => {
    expect(
      serviceBrokerUrl('orders', { ORDERS_AMQP_URL: 'amqp://orders:pw@h/v', AMQP_URL: 'amqp://guest:guest@h' }),
    ).toBe('amqp://orders:pw@h/v');
    expect(serviceBrokerUrl('orders', { AMQP_URL: 'amqp://guest:guest@h' })).toBe('amqp://guest:guest@h');
    expect(brokerUser('amqp://st-orders:pw@h/v')).toBe('st-orders');
    expect(brokerUser('amqp://h')).toBe('guest');
  });

  it('enforces by default only when the service has its own user', () => {
    expect(serviceAccess('guest', silent, {}).mode).toBe('off');
    expect(serviceAccess('guest', silent, {}).server).toBeUndefined();
    const own = serviceAccess('orders', silent, {});
    expect(own.mode).toBe('enforce');
    expect(own.server?.mode).toBe('enforce');
    expect(own.events?.check('shop.orders.v1.OrderPaid', 'payments')?.codeName).toBe('PERMISSION_DENIED');
    expect(serviceAccess('guest', silent, { WARREN_ACCESS: 'audit' }).mode).toBe('audit');
    expect(serviceAccess('orders', silent, { WARREN_ACCESS: 'off' }).mode).toBe('off');
    expect(() => serviceAccess('orders', silent, { WARREN_ACCESS: 'strict' })).toThrow(/WARREN_ACCESS must be/);
  });

  it('applies the user prefix', () => {
    const access = serviceAccess('st-notifications', silent, { WARREN_USER_PREFIX: 'st-' });
    expect(access.events?.check('shop.orders.v1.OrderPaid', 'st-orders')).toBeUndefined();
    expect(access.events?.check('shop.orders.v1.OrderPaid', 'orders')?.codeName).toBe('PERMISSION_DENIED');
  });
});
