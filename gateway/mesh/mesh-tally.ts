import { type Code, codeName } from '../../core/index.js';
import { latencyQuantile } from '../../core/tooling.js';
import { SERVER_FAULT_CODES } from '../../core/protocol/index.js';
import type { MethodView } from './mesh-view.js';

/** The counters of one method (or edge) as reports carry them. */
export interface CountedCalls {
  readonly calls: number;
  readonly errors: { readonly [code: number]: number | bigint };
  readonly latency?:
    { readonly buckets: { readonly [bucket: number]: number | bigint }; readonly sumMs: number } | undefined;
}

/**
 * Adds up calls from several reports and instances: counts, failures by
 * code, merged latency histograms, and the rate, where each report's calls
 * are divided by the time its instance's reports in the window cover (so an
 * instance that has only reported for 2 s is not diluted over 10).
 */
export class Tally {
  calls = 0;
  rate = 0;
  failures = 0;
  faults = 0;
  private readonly errors = new Map<number, number>();
  private readonly buckets = new Map<number, number>();

  /** Adds one report's counters; `spanMs` is the time its instance's reports in the window cover. */
  add(counted: CountedCalls, spanMs: number): void {
    const calls = finite(counted.calls);
    this.calls += calls;
    this.rate += calls / (spanMs / 1000);
    for (const [key, value] of Object.entries(counted.errors)) {
      const code = Number(key);
      const count = finite(value);
      if (!Number.isInteger(code) || code <= 0 || count === 0) continue;
      this.errors.set(code, (this.errors.get(code) ?? 0) + count);
      this.failures += count;
      if (SERVER_FAULT_CODES.has(code as Code)) this.faults += count;
    }
    for (const [key, value] of Object.entries(counted.latency?.buckets ?? {})) {
      const bucket = Number(key);
      if (Number.isInteger(bucket) && bucket >= 0 && bucket <= 127)
        this.buckets.set(bucket, (this.buckets.get(bucket) ?? 0) + finite(value));
    }
  }

  /** Adds another tally (method totals into a node's). */
  merge(other: Tally): void {
    this.calls += other.calls;
    this.rate += other.rate;
    this.failures += other.failures;
    this.faults += other.faults;
    for (const [code, count] of other.errors) this.errors.set(code, (this.errors.get(code) ?? 0) + count);
    for (const [bucket, count] of other.buckets) this.buckets.set(bucket, (this.buckets.get(bucket) ?? 0) + count);
  }

  get errorRate(): number {
    return this.calls === 0 ? 0 : Math.min(1, this.failures / this.calls);
  }

  get faultRate(): number {
    return this.calls === 0 ? 0 : Math.min(1, this.faults / this.calls);
  }

  quantile(q: number): number | null {
    return roundMs(latencyQuantile(this.buckets, q));
  }

  /** Failures by code name, most frequent first. */
  errorList(): { code: string; count: number }[] {
    return [...this.errors]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .map(([code, count]) => ({ code: codeName(code), count }));
  }

  /** The view of this tally as method `method`. */
  methodView(method: string): MethodView {
    const slash = method.indexOf('/');
    return {
      method,
      name: slash < 0 ? method : method.slice(slash + 1),
      calls: this.calls,
      rate: round(this.rate),
      errorRate: round(this.errorRate),
      faultRate: round(this.faultRate),
      p50Ms: this.quantile(0.5),
      p99Ms: this.quantile(0.99),
      errors: this.errorList(),
    };
  }
}

/** Rounds rates and shares to 3 decimals (the JSON stays short). */
export function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function roundMs(value: number | undefined): number | null {
  return value === undefined ? null : Math.round(value * 100) / 100;
}

function finite(value: unknown): number {
  const number = Number(value);
  return Number.isFinite(number) && number > 0 ? number : 0;
}
