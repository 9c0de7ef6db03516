import { describe, expect, it } from 'vitest';
import { pickConsumer } from './round-robin.js';

describe('pickConsumer', () => {
  it('takes turns among consumers with room, skipping full ones, and finds none when all are full', () => {
    const a = { name: 'a', inFlight: 0, prefetch: 1 };
    const b = { name: 'b', inFlight: 0, prefetch: 2 };
    const queue = { consumers: [a, b], next: 0 };
    const take = (): string | undefined => {
      const consumer = pickConsumer(queue);
      if (consumer) consumer.inFlight++;
      return consumer?.name;
    };
    expect([take(), take(), take(), take()]).toEqual(['a', 'b', 'b', undefined]);
    a.inFlight = 0;
    expect(take()).toBe('a');
    expect(pickConsumer({ consumers: [], next: 0 })).toBeUndefined();
  });
});
