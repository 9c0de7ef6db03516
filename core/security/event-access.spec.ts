import { describe, expect, it } from 'vitest';
import { Code } from '../protocol/code.js';
import type { Logger } from '../observability/logger.js';
import { createEventAccess } from './event-access.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

describe('createEventAccess', () => {
  const access = createEventAccess({
    logger: silent,
    publishers: { 'shop.orders.v1.OrderCancelled': ['orders', 'support'], 'shop.orders.v1.*': ['orders'] },
  });

  it('allows listed publishers, an exact type beating a pattern', () => {
    expect(access.check('shop.orders.v1.OrderPaid', 'orders')).toBeUndefined();
    expect(access.check('shop.orders.v1.OrderCancelled', 'support')).toBeUndefined();
    expect(access.check('shop.orders.v1.OrderPaid', 'support')?.code).toBe(Code.PERMISSION_DENIED);
  });

  it('refuses events without identity and leaves uncovered types open', () => {
    expect(access.check('shop.orders.v1.OrderPaid', undefined)?.code).toBe(Code.UNAUTHENTICATED);
    expect(access.check('shop.billing.v1.InvoiceSent', undefined)).toBeUndefined();
  });

  it('says who published and who may in the refusal (it becomes the dead letter reason)', () => {
    expect(access.check('shop.orders.v1.OrderPaid', 'mallory')?.message).toBe(
      '[PERMISSION_DENIED] event shop.orders.v1.OrderPaid was published by broker user "mallory", who may not publish it (allowed: orders)',
    );
  });

  it('only logs in audit mode and refuses malformed entries', () => {
    expect(
      createEventAccess({ logger: silent, mode: 'audit', publishers: { 'a.B': ['x'] } }).check('a.B', 'y'),
    ).toBeUndefined();
    expect(() => createEventAccess({ publishers: { 'a b': ['x'] } })).toThrow(/not a full proto message name/);
    expect(() => createEventAccess({ publishers: { 'a.*': 'x' as never } })).toThrow(/list of broker user names/);
  });
});

describe('createEventAccess with a user prefix', () => {
  it('takes prefixed users as the publishers the rules name', () => {
    const access = createEventAccess({
      logger: silent,
      userPrefix: 'staging-',
      publishers: { 'shop.orders.v1.*': ['orders'] },
    });
    expect(access.check('shop.orders.v1.OrderPaid', 'staging-orders')).toBeUndefined();
    expect(access.check('shop.orders.v1.OrderPaid', 'orders')?.code).toBe(Code.PERMISSION_DENIED);
  });
});
