import { describe, expect, it } from 'vitest';
import { isReplyAddress } from '../../protocol/rpc-names.js';
import { newReplyQueueName, REPLY_QUEUE_OPTIONS } from './reply-queue.js';

describe('reply queues', () => {
  it('are named warren.reply.<128 random bits>, an address servers accept', () => {
    const names = new Set(Array.from({ length: 100 }, () => newReplyQueueName()));
    expect(names.size).toBe(100);
    for (const name of names) {
      expect(name).toMatch(/^warren\.reply\.[0-9a-f]{32}$/);
      expect(isReplyAddress(name)).toBe(true);
    }
  });

  it('live and die with their connection, on its node (exclusive classic, never durable)', () => {
    expect(REPLY_QUEUE_OPTIONS).toMatchObject({
      exclusive: true,
      autoDelete: true,
      durable: false,
      arguments: { 'x-queue-type': 'classic' },
    });
  });
});
