import { describe, expect, it } from 'vitest';
import { CorrelationIds } from './correlation-ids.js';

describe('CorrelationIds', () => {
  it('gives unique ids with 64 random bits each, across pool refills', () => {
    const ids = new CorrelationIds();
    const seen = new Set<string>();
    for (let i = 0; i < 5_000; i++) seen.add(ids.next());
    expect(seen.size).toBe(5_000);
    for (const id of seen) expect(id).toMatch(/^[0-9a-z]+\.[0-9a-f]{16}$/);
  });

  it('cannot be predicted from earlier ids: the random parts do not repeat or follow the counter', () => {
    const ids = new CorrelationIds();
    const randoms = Array.from({ length: 2_000 }, () => ids.next().split('.')[1]!);
    expect(new Set(randoms).size).toBe(randoms.length);
    // two channels' first ids share the counter part, so only the random part tells them apart
    const first = new CorrelationIds().next();
    const second = new CorrelationIds().next();
    expect(first.split('.')[0]).toBe(second.split('.')[0]);
    expect(first).not.toBe(second);
  });
});
