/** Checks a CreateOrderRequest before anything is recorded, naming every bad field at once. */
import { createHash } from 'node:crypto';
import type { CreateOrderRequest } from '../../gen/shop/orders/v1/orders.js';
import type { FieldViolation } from '../shared/error-details.js';

/** Most lines in one order. */
export const MAX_LINES = 50;
/** Most units of one SKU in one order. */
export const MAX_QUANTITY = 100;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const SKU = /^[A-Z0-9][A-Z0-9-]{0,39}$/;

/** Every field violation of `request` (empty when it is valid). Paths use the proto field names. */
export function validateCreateOrder(request: CreateOrderRequest): FieldViolation[] {
  const violations: FieldViolation[] = [];
  if (request.requestId === '')
    violations.push({ field: 'request_id', description: 'required: a key of your choice that makes retries safe' });
  else if (!REQUEST_ID.test(request.requestId))
    violations.push({ field: 'request_id', description: 'must be 1 to 64 of A-Z a-z 0-9 . _ : -' });
  if (request.customerId.trim() === '') violations.push({ field: 'customer_id', description: 'required' });
  else if (request.customerId.length > 64)
    violations.push({ field: 'customer_id', description: 'must be at most 64 characters' });
  if (request.paymentToken === '')
    violations.push({ field: 'payment_token', description: 'required (try "tok_visa")' });
  if (request.items.length === 0) violations.push({ field: 'items', description: 'at least one item is required' });
  if (request.items.length > MAX_LINES) violations.push({ field: 'items', description: `at most ${MAX_LINES} lines` });
  const firstLine = new Map<string, number>();
  request.items.forEach((item, index) => {
    if (item.sku === '') violations.push({ field: `items[${index}].sku`, description: 'required' });
    else if (!SKU.test(item.sku))
      violations.push({
        field: `items[${index}].sku`,
        description: 'must be upper-case letters, digits and dashes, like "MUG-BLUE"',
      });
    else if (firstLine.has(item.sku))
      violations.push({
        field: `items[${index}].sku`,
        description: `${item.sku} is already on items[${firstLine.get(item.sku)}]; put the whole quantity on one line`,
      });
    else firstLine.set(item.sku, index);
    if (item.quantity < 1 || item.quantity > MAX_QUANTITY)
      violations.push({ field: `items[${index}].quantity`, description: `must be 1 to ${MAX_QUANTITY}` });
  });
  return violations;
}

/** A hash of what the order asks for, to tell a retry (same hash) from a reused request id. */
export function fingerprintOf(request: CreateOrderRequest): string {
  const content = [request.customerId, request.items.map((item) => [item.sku, item.quantity]), request.paymentToken];
  return createHash('sha256').update(JSON.stringify(content)).digest('base64url');
}
