/**
 * Metric families with a hot path of plain number updates. prom-client's own
 * metrics hash and validate the label set on every `inc()` / `observe()`,
 * even through a `labels()` child (about 0.4–1 µs each, several per call);
 * these keep one cell per label set, which callers look up once and cache,
 * so recording is `cell.value++`. They plug into a prom-client `Registry`
 * (same `get()` shape as prom-client's metrics), so the text format, merging
 * and `/metrics` serving stay prom-client's.
 */
import type { Metric, Registry } from 'prom-client';

/** One series of a counter or gauge. */
export interface ValueCell {
  value: number;
}

/** One series of a histogram. */
export interface HistogramCell {
  /** Records one value (seconds, for the duration histograms). */
  observe(value: number): void;
}

type Labels = Record<string, string>;

interface MetricValue {
  readonly value: number;
  readonly labels: Record<string, string | number>;
  readonly metricName?: string;
}

/** A family that answers prom-client's registry. */
abstract class Family<Cell> {
  readonly aggregator = 'sum';
  protected readonly cells = new Map<string, { readonly labels: Labels; readonly cell: Cell }>();

  constructor(
    registry: Registry,
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
    private readonly labelNames: readonly string[],
    private readonly collectHook?: (family: Family<Cell>) => void | Promise<void>,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** The cell of one label set (label values in `labelNames` order), made on first use. Cache it. */
  cell(...values: string[]): Cell {
    const key = values.join('\u0000');
    let entry = this.cells.get(key);
    if (!entry) {
      const labels: Labels = {};
      this.labelNames.forEach((name, index) => {
        labels[name] = values[index] ?? '';
      });
      entry = { labels, cell: this.create() };
      this.cells.set(key, entry);
    }
    return entry.cell;
  }

  /** prom-client's registry reads a metric through `get()`. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: MetricValue[] }> {
    if (this.collectHook) await this.collectHook(this);
    const values: MetricValue[] = [];
    for (const { labels, cell } of this.cells.values()) this.read(labels, cell, values);
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** prom-client's `registry.resetMetrics()`: zeroes every series (cells stay valid). */
  reset(): void {
    for (const { cell } of this.cells.values()) this.zero(cell);
  }

  protected abstract create(): Cell;
  protected abstract read(labels: Labels, cell: Cell, into: MetricValue[]): void;
  protected abstract zero(cell: Cell): void;
}

/** A counter or gauge family. */
export class ValueFamily extends Family<ValueCell> {
  constructor(
    registry: Registry,
    options: {
      name: string;
      help: string;
      type: 'counter' | 'gauge';
      labelNames?: readonly string[];
      collect?: (family: ValueFamily) => void | Promise<void>;
    },
  ) {
    super(
      registry,
      options.name,
      options.help,
      options.type,
      options.labelNames ?? [],
      options.collect as ((family: Family<ValueCell>) => void) | undefined,
    );
  }

  protected create(): ValueCell {
    return { value: 0 };
  }

  protected read(labels: Labels, cell: ValueCell, into: MetricValue[]): void {
    into.push({ value: cell.value, labels });
  }

  protected zero(cell: ValueCell): void {
    cell.value = 0;
  }
}

class Buckets implements HistogramCell {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }
}

/** A histogram family with fixed bucket bounds. */
export class HistogramFamily extends Family<HistogramCell> {
  private readonly bounds: readonly number[];

  constructor(
    registry: Registry,
    options: { name: string; help: string; labelNames: readonly string[]; buckets: readonly number[] },
  ) {
    super(registry, options.name, options.help, 'histogram', options.labelNames);
    this.bounds = [...options.buckets].sort((a, b) => a - b);
  }

  protected create(): HistogramCell {
    return new Buckets(this.bounds);
  }

  protected read(labels: Labels, cell: HistogramCell, into: MetricValue[]): void {
    const buckets = cell as Buckets;
    let cumulative = 0;
    this.bounds.forEach((bound, index) => {
      cumulative += buckets.counts[index]!;
      into.push({ value: cumulative, labels: { ...labels, le: bound }, metricName: `${this.name}_bucket` });
    });
    into.push({ value: buckets.count, labels: { ...labels, le: '+Inf' }, metricName: `${this.name}_bucket` });
    into.push({ value: buckets.sum, labels, metricName: `${this.name}_sum` });
    into.push({ value: buckets.count, labels, metricName: `${this.name}_count` });
  }

  protected zero(cell: HistogramCell): void {
    const buckets = cell as Buckets;
    buckets.counts.fill(0);
    buckets.sum = 0;
    buckets.count = 0;
  }
}
