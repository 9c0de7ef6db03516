import { describe, expect, it } from 'vitest';
import { loadProtos } from '../core/tooling.js';
import { contractAccess, createExposure, DEFAULT_EXPOSE } from './exposure.js';

const protos = await loadProtos({ root: 'proto' });
const exposedPaths = (patterns: readonly string[], user = 'gateway'): string[] =>
  createExposure(patterns, protos.services, contractAccess(protos.root, user))
    .filter(protos.services)
    .flatMap((service) => Object.values(service.methods).map((method) => `${service.fullName}/${method.name}`))
    .sort();

describe('exposure allow-list', () => {
  it('exposes only methods with HTTP rules by default: no internal payments, inventory or health methods', () => {
    const paths = exposedPaths(DEFAULT_EXPOSE);
    expect(paths).toContain('shop.orders.v1.OrderService/CreateOrder');
    expect(paths).toContain('shop.payments.v1.PaymentService/ListPayments');
    expect(paths).toContain('warren.test.v1.RestTestService/GetThing');
    for (const hidden of [
      'shop.payments.v1.PaymentService/Charge',
      'shop.payments.v1.PaymentService/Refund',
      'shop.inventory.v1.InventoryService/Reserve',
      'warren.health.v1.HealthService/Check',
      'warren.test.v1.TestService/Echo',
    ]) {
      expect(paths).not.toContain(hidden);
    }
  });

  it('takes exact methods, whole services and package prefixes', () => {
    expect(exposedPaths(['warren.test.v1.TestService/Echo'])).toEqual(['warren.test.v1.TestService/Echo']);
    expect(exposedPaths(['warren.test.v1.TestService/*'])).toHaveLength(5);
    expect(exposedPaths(['warren.test.*']).some((path) => path.startsWith('warren.test.v1.RestTestService/'))).toBe(
      true,
    );
    expect(exposedPaths(['*'])).toContain('warren.health.v1.HealthService/Check');
  });

  it('never exposes a method whose contract names other callers, even when listed', () => {
    expect(exposedPaths(['*'])).not.toContain('shop.payments.v1.PaymentService/Charge');
    expect(exposedPaths(['shop.payments.v1.PaymentService/*'])).toEqual([
      'shop.payments.v1.PaymentService/ListPayments',
    ]);
    expect(exposedPaths(['shop.payments.v1.PaymentService/*'], 'orders')).toContain(
      'shop.payments.v1.PaymentService/Charge',
    );
  });

  it('refuses malformed patterns and patterns that match nothing', () => {
    expect(() => createExposure(['TestService'])).toThrow(/not one of/);
    expect(() => createExposure(['a.B/c/d'])).toThrow(/not one of/);
    expect(() => createExposure(['warren.test.v1.TestService/Ecko'], protos.services)).toThrow(
      /names no loaded method/,
    );
    expect(() => createExposure(['warren.nope.v1.X/*'], protos.services)).toThrow(/names no loaded service/);
    expect(() => createExposure(['nope.*'], protos.services)).toThrow(/matches no loaded service/);
  });
});
