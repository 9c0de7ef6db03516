import { describe, expect, it } from 'vitest';
import { InventoryServiceDefinition } from '../../gen/shop/inventory/v1/inventory.js';
import { MethodAccess } from '../../gen/warren/access/v1/access.js';
import { TestServiceDefinition } from '../../gen/warren/test/v1/test.js';
import type { MethodDefinition } from '../protocol/definition.js';
import { METHOD_ACCESS_FIELD, methodCallers } from './method-access.js';

/** An option entry as ts-proto writes it: the length-prefixed option message. */
function entry(callers: string[]): Uint8Array {
  const body = MethodAccess.encode({ callers }).finish();
  return new Uint8Array([body.length, ...body]);
}

describe('methodCallers', () => {
  it('reads (warren.access.v1.method) from generated definitions', () => {
    expect(methodCallers(InventoryServiceDefinition.methods.reserve)).toEqual(['orders']);
    expect(methodCallers(InventoryServiceDefinition.methods.getStock)).toBeUndefined();
    expect(methodCallers(TestServiceDefinition.methods.echo)).toBeUndefined();
  });

  it('merges an option given in several entries', () => {
    const method = {
      ...TestServiceDefinition.methods.echo,
      options: { _unknownFields: { [(METHOD_ACCESS_FIELD << 3) | 2]: [entry(['orders']), entry(['ops', '*'])] } },
    } as MethodDefinition;
    expect(methodCallers(method)).toEqual(['orders', 'ops', '*']);
  });
});
