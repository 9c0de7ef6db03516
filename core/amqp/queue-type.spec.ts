import { describe, expect, it } from 'vitest';
import { Code } from '../protocol/code.js';
import { RpcError } from '../protocol/rpc-error.js';
import { durableQueueArguments, resolveQueueType } from './queue-type.js';

describe('resolveQueueType', () => {
  it('is classic unless switched, WARREN_QUEUE_TYPE switches, an option wins over it', () => {
    expect(resolveQueueType(undefined, {})).toBe('classic');
    expect(resolveQueueType(undefined, { WARREN_QUEUE_TYPE: '' })).toBe('classic');
    expect(resolveQueueType(undefined, { WARREN_QUEUE_TYPE: 'quorum' })).toBe('quorum');
    expect(resolveQueueType('classic', { WARREN_QUEUE_TYPE: 'quorum' })).toBe('classic');
    expect(resolveQueueType('quorum', {})).toBe('quorum');
  });

  it('refuses anything else with INVALID_ARGUMENT naming the variable', () => {
    for (const value of ['Quorum', 'stream']) {
      const refused = (() => {
        try {
          return resolveQueueType(undefined, { WARREN_QUEUE_TYPE: value });
        } catch (error) {
          return error;
        }
      })();
      expect(refused).toBeInstanceOf(RpcError);
      expect((refused as RpcError).code).toBe(Code.INVALID_ARGUMENT);
      expect((refused as RpcError).message).toContain('WARREN_QUEUE_TYPE');
    }
  });
});

describe('durableQueueArguments', () => {
  it('declares classic queues exactly as before the switch, quorum queues with their type', () => {
    expect(durableQueueArguments('classic')).toEqual({});
    expect(durableQueueArguments('quorum')).toEqual({ 'x-queue-type': 'quorum' });
  });
});
