import { describe, expect, it } from 'vitest';
import { LatencyRecorder, latencyBucket, latencyBucketUpperMs, latencyQuantile } from './histogram.js';

describe('mesh latency histogram', () => {
  it('puts each duration in the bucket whose bounds hold it, four buckets per doubling', () => {
    expect(latencyBucket(0)).toBe(0);
    expect(latencyBucket(0.1)).toBe(0);
    expect(latencyBucket(-5)).toBe(0);
    expect(latencyBucket(Number.NaN)).toBe(0);
    expect(latencyBucket(0.2)).toBe(4);
    expect(latencyBucket(1e12)).toBe(127);
    for (const ms of [0.13, 0.9, 1, 3.7, 12, 250, 999, 4321, 60_000]) {
      const bucket = latencyBucket(ms);
      expect(latencyBucketUpperMs(bucket)).toBeGreaterThanOrEqual(ms * 0.999_999);
      expect(latencyBucketUpperMs(bucket - 1)).toBeLessThan(ms);
    }
    expect(latencyBucketUpperMs(8) / latencyBucketUpperMs(4)).toBeCloseTo(2, 10);
  });

  it('reads percentiles within 19 % of the true value, from merged histograms', () => {
    const fast = new LatencyRecorder();
    const slow = new LatencyRecorder();
    for (let ms = 1; ms <= 990; ms++) fast.record(ms);
    for (let ms = 991; ms <= 1000; ms++) slow.record(ms);
    const merged = [...fast.buckets, ...slow.buckets];
    const p99 = latencyQuantile(merged, 0.99)!;
    expect(p99).toBeGreaterThan(990 / 1.19);
    expect(p99).toBeLessThan(990 * 1.19);
    const p50 = latencyQuantile(merged, 0.5)!;
    expect(p50).toBeGreaterThan(500 / 1.19);
    expect(p50).toBeLessThan(500 * 1.19);
    expect(latencyQuantile(slow.buckets, 0.01)).toBeGreaterThan(900);
    expect(fast.sumMs + slow.sumMs).toBe((1000 * 1001) / 2);
  });

  it('has no percentile without durations and takes the proto form', () => {
    expect(latencyQuantile([], 0.99)).toBeUndefined();
    expect(latencyQuantile([[5, 0]], 0.99)).toBeUndefined();
    const recorder = new LatencyRecorder();
    recorder.record(0.05);
    recorder.record(0.05);
    recorder.record(3);
    expect(recorder.toProto()).toEqual({ buckets: { 0: 2n, [latencyBucket(3)]: 1n }, sumMs: 3.1 });
    expect(latencyQuantile(recorder.buckets, 0.5)).toBe(0.1);
  });
});
