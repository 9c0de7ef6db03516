/**
 * The latency histogram of mesh reports (proto `warren.mesh.v1.LatencyHistogram`):
 * sparse log-scale buckets, four per doubling from 0.1 ms. Compact on the
 * wire (a busy method uses a dozen buckets), cheap to record (one log2), and
 * mergeable across instances and windows by adding counts, which is what a
 * p99 over many processes needs; a percentile read from it is within 19 %.
 */

/** Durations up to this fall in bucket 0, ms. */
export const LATENCY_BASE_MS = 0.1;
/** Buckets per doubling of the duration. */
export const LATENCY_BUCKETS_PER_DOUBLING = 4;
/** The last bucket; it also holds everything longer (about 3.7 hours and up). */
export const LATENCY_MAX_BUCKET = 127;

/** The bucket a duration falls in: 0 up to 0.1 ms, then `ceil(4 · log2(ms / 0.1))`, at most 127. */
export function latencyBucket(ms: number): number {
  if (!(ms > LATENCY_BASE_MS)) return 0;
  const index = Math.ceil(Math.log2(ms / LATENCY_BASE_MS) * LATENCY_BUCKETS_PER_DOUBLING);
  return index > LATENCY_MAX_BUCKET ? LATENCY_MAX_BUCKET : index;
}

/** The longest duration bucket `index` holds, ms. */
export function latencyBucketUpperMs(index: number): number {
  return LATENCY_BASE_MS * 2 ** (index / LATENCY_BUCKETS_PER_DOUBLING);
}

/**
 * The `q` quantile (0 < q ≤ 1) of a histogram given as `[bucket, count]`
 * pairs (any order, buckets may repeat: merged histograms), as the geometric
 * middle of the bucket it falls in; `undefined` when the histogram is empty.
 */
export function latencyQuantile(buckets: Iterable<readonly [number, number | bigint]>, q: number): number | undefined {
  const counts = new Map<number, number>();
  let total = 0;
  for (const [bucket, counted] of buckets) {
    const count = Number(counted);
    if (!(count > 0)) continue;
    counts.set(bucket, (counts.get(bucket) ?? 0) + count);
    total += count;
  }
  if (total === 0) return undefined;
  const rank = Math.max(1, Math.ceil(Math.min(1, Math.max(0, q)) * total));
  let seen = 0;
  for (const bucket of [...counts.keys()].sort((a, b) => a - b)) {
    seen += counts.get(bucket)!;
    if (seen >= rank) return bucket === 0 ? LATENCY_BASE_MS : latencyBucketUpperMs(bucket - 0.5);
  }
  return undefined;
}

/** A histogram being filled during one report window. */
export class LatencyRecorder {
  /** Bucket index → count. */
  readonly buckets = new Map<number, number>();
  sumMs = 0;

  record(ms: number): void {
    const bucket = latencyBucket(ms);
    this.buckets.set(bucket, (this.buckets.get(bucket) ?? 0) + 1);
    if (ms > 0) this.sumMs += ms;
  }

  /** The proto form: `{ buckets: { index: count }, sumMs }`. */
  toProto(): { buckets: { [bucket: number]: bigint }; sumMs: number } {
    return {
      buckets: Object.fromEntries([...this.buckets].map(([bucket, count]) => [bucket, BigInt(count)])),
      sumMs: this.sumMs,
    };
  }
}
