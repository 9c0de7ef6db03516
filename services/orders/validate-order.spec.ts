import { describe, expect, it } from 'vitest';
import { CreateOrderRequest } from '../../gen/shop/orders/v1/orders.js';
import { fingerprintOf, MAX_LINES, validateCreateOrder } from './validate-order.js';

const valid = CreateOrderRequest.fromPartial({
  requestId: 'r-1',
  customerId: 'ada',
  items: [{ sku: 'MUG-BLUE', quantity: 2 }],
  paymentToken: 'tok_visa',
});
const fields = (request: CreateOrderRequest): string[] =>
  validateCreateOrder(request).map((violation) => violation.field);

describe('validateCreateOrder', () => {
  it('accepts a good order', () => {
    expect(validateCreateOrder(valid)).toEqual([]);
  });

  it('names every bad field at once, by proto path', () => {
    const request = CreateOrderRequest.fromPartial({
      requestId: 'has spaces',
      customerId: ' ',
      items: [
        { sku: 'mug', quantity: 1 },
        { sku: 'MUG', quantity: 0 },
        { sku: 'MUG', quantity: 101 },
        { sku: '', quantity: 1 },
      ],
    });
    expect(fields(request)).toEqual([
      'request_id',
      'customer_id',
      'payment_token',
      'items[0].sku',
      'items[1].quantity',
      'items[2].sku',
      'items[2].quantity',
      'items[3].sku',
    ]);
    expect(validateCreateOrder(request).find((violation) => violation.field === 'items[2].sku')!.description).toContain(
      'items[1]',
    );
  });

  it('requires 1 to MAX_LINES lines', () => {
    expect(fields({ ...valid, items: [] })).toEqual(['items']);
    const many = Array.from({ length: MAX_LINES + 1 }, (_, index) => ({ sku: `SKU-${index}`, quantity: 1 }));
    expect(fields({ ...valid, items: many })).toEqual(['items']);
  });
});

describe('fingerprintOf', () => {
  it('is the same for a retry and differs when the order asks for something else', () => {
    expect(fingerprintOf({ ...valid, requestId: 'other' })).toBe(fingerprintOf(valid));
    expect(fingerprintOf({ ...valid, items: [{ sku: 'MUG-BLUE', quantity: 3 }] })).not.toBe(fingerprintOf(valid));
    expect(fingerprintOf({ ...valid, paymentToken: 'tok_decline' })).not.toBe(fingerprintOf(valid));
  });
});
