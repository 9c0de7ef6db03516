import { describe, expect, it } from 'vitest';
import { Code } from '../core/index.js';
import { parseDlqTarget } from './dlq-target.js';
import { CliError } from './exit-codes.js';

describe('parseDlqTarget', () => {
  it('takes a name with a dot for a service and one without for an event group', () => {
    expect(parseDlqTarget('shop.orders.v1.OrderService', 'dlq list')).toEqual({
      kind: 'service',
      service: 'shop.orders.v1.OrderService',
      queue: 'rpc.shop.orders.v1.OrderService.dead',
    });
    expect(parseDlqTarget('billing', 'dlq list')).toEqual({
      kind: 'group',
      group: 'billing',
      queue: 'events.billing.dead',
    });
  });

  it('takes the dead-letter queue names too, also for a service without a package', () => {
    expect(parseDlqTarget('rpc.shop.orders.v1.OrderService.dead', 'dlq list')).toMatchObject({
      kind: 'service',
      service: 'shop.orders.v1.OrderService',
    });
    expect(parseDlqTarget('rpc.Lonely.dead', 'dlq list')).toMatchObject({
      kind: 'service',
      service: 'Lonely',
      queue: 'rpc.Lonely.dead',
    });
    expect(parseDlqTarget('events.billing.dead', 'dlq list')).toMatchObject({ kind: 'group', group: 'billing' });
  });

  it('refuses names that are neither, as usage errors (exit 2)', () => {
    for (const name of ['shop..Service', 'shop.v1.Order-Service', 'no group!', '']) {
      let caught: unknown;
      try {
        parseDlqTarget(name, 'dlq list');
      } catch (error) {
        caught = error;
      }
      expect(caught, name).toBeInstanceOf(CliError);
      expect((caught as CliError).exitCode).toBe(2);
      expect((caught as CliError).code).toBe(Code.INVALID_ARGUMENT);
    }
  });
});
