import { describe, expect, it } from 'vitest';
import { Code } from './code.js';
import { RpcError } from './rpc-error.js';
import {
  broadcastQueue,
  groupDeadLetterQueue,
  delayQueue,
  groupQueue,
  topicMatches,
  validateEventType,
  validateGroup,
  validatePattern,
} from './event-names.js';

function codeOf(fn: () => void): Code | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof RpcError ? error.code : undefined;
  }
  return undefined;
}

describe('event topology names', () => {
  it('names queues after the group', () => {
    expect(groupQueue('billing')).toBe('events.billing');
    expect(groupDeadLetterQueue('billing')).toBe('events.billing.dead');
    expect(broadcastQueue('cache', 'host-1-ab')).toBe('events.cache.bcast.host-1-ab');
    expect(delayQueue(1500)).toBe('warren.events.delay.1500');
  });

  it('accepts group names without dots only', () => {
    expect(codeOf(() => validateGroup('billing_v2-eu'))).toBeUndefined();
    for (const bad of ['', 'a.b', '-lead', 'sp ace', 'x'.repeat(101)])
      expect(codeOf(() => validateGroup(bad))).toBe(Code.INVALID_ARGUMENT);
  });

  it('accepts full proto names as event types and topic patterns as patterns', () => {
    expect(codeOf(() => validateEventType('warren.test.v1.OrderCreated'))).toBeUndefined();
    expect(codeOf(() => validateEventType('warren.*.OrderCreated'))).toBe(Code.INVALID_ARGUMENT);
    expect(codeOf(() => validateEventType('a..b'))).toBe(Code.INVALID_ARGUMENT);
    for (const good of ['warren.test.v1.*', '#', 'orders.#', '*.*.v1.OrderCreated'])
      expect(codeOf(() => validatePattern(good))).toBeUndefined();
    for (const bad of ['', 'a..b', 'a.b*', 'a.#b', 'a b'])
      expect(codeOf(() => validatePattern(bad))).toBe(Code.INVALID_ARGUMENT);
  });
});

describe('topicMatches', () => {
  const cases: [string, string, boolean][] = [
    ['warren.test.v1.OrderCreated', 'warren.test.v1.OrderCreated', true],
    ['warren.test.v1.OrderCreated', 'warren.test.v1.OrderShipped', false],
    ['warren.test.v1.*', 'warren.test.v1.OrderCreated', true],
    ['warren.test.v1.*', 'warren.test.v1.Order.Nested', false],
    ['warren.#', 'warren.test.v1.OrderCreated', true],
    ['warren.#', 'warren', true],
    ['#', 'anything.at.all', true],
    ['#.OrderCreated', 'warren.test.v1.OrderCreated', true],
    ['#.OrderCreated', 'OrderCreated', true],
    ['*.test.#', 'warren.test.v1.X', true],
    ['*.test.#', 'test.v1.X', false],
    ['orders.*', 'orders', false],
    ['a.#.b', 'a.b', true],
    ['a.#.b', 'a.x.y.b', true],
    ['a.#.b', 'a.x.y.c', false],
  ];
  it.each(cases)('%s vs %s → %s', (pattern, key, expected) => {
    expect(topicMatches(pattern, key)).toBe(expected);
  });
});
