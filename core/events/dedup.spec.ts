import { describe, expect, it } from 'vitest';
import type { EventContext } from '../event-context.js';
import { createMemoryDedupStore, deduplicate } from './dedup.js';

const ctx = (messageId: string): EventContext => ({
  type: 't.v1.E',
  messageId,
  publisher: 'p',
  publishedAt: 0,
  metadata: {},
  attempt: 1,
  redelivered: false,
  group: 'g',
  queue: 'events.g',
});

describe('deduplicate', () => {
  it('runs once per message id, remembering ids only after success', async () => {
    const runs: string[] = [];
    let fail = true;
    const handler = deduplicate<string>((message) => {
      if (message === 'flaky' && fail) throw new Error('first try fails');
      runs.push(message);
    });
    await handler('a', ctx('1'));
    await handler('a again', ctx('1'));
    await expect(handler('flaky', ctx('2'))).rejects.toThrow('first try fails');
    fail = false;
    await handler('flaky', ctx('2'));
    await handler('flaky', ctx('2'));
    expect(runs).toEqual(['a', 'flaky']);
  });

  it('makes a copy that arrives while the first runs wait for it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let runs = 0;
    const handler = deduplicate<string>(async () => {
      runs++;
      await gate;
    });
    const first = handler('x', ctx('same'));
    const copy = handler('x', ctx('same'));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(runs).toBe(1);
    release();
    await Promise.all([first, copy]);
    expect(runs).toBe(1);
  });

  it('forgets the oldest ids beyond its size', async () => {
    const store = createMemoryDedupStore(2);
    await store.add('a');
    await store.add('b');
    await store.add('c');
    expect([await store.has('a'), await store.has('b'), await store.has('c')]).toEqual([false, true, true]);
  });
});
