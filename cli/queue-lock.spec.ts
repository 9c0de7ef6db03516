import { describe, expect, it } from 'vitest';
import { lockQueueName } from './queue-lock.js';

describe('lockQueueName', () => {
  it('names the lock after the queue, hashed when the name would pass the 255 bytes of an AMQP queue name', () => {
    expect(lockQueueName('rpc.shop.v1.OrderService.dead')).toBe('warren.cli.lock.rpc.shop.v1.OrderService.dead');
    const long = `rpc.${'a'.repeat(240)}.dead`;
    expect(lockQueueName(long)).toMatch(/^warren\.cli\.lock\.[0-9a-f]{64}$/);
    expect(lockQueueName(long)).not.toBe(lockQueueName(`${long}x`));
  });
});
