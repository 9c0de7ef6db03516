import { median } from '../rpc/stats.js';
import type { Results, Sample } from './interleave.js';

/** Medians across rounds of one contender in one cell, and its paired ratios against the baseline. */
export interface Row {
  readonly name: string;
  readonly callsPerSecond: number;
  /** Median of per-round (this / baseline) calls per second. */
  readonly callsRatio: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Median of per-round (this / baseline) p99. */
  readonly p99Ratio: number;
  readonly clientCpuPerCallUs: number;
  readonly serverCpuPerCallUs: number;
  readonly brokerCpuPerCallUs: number;
  /** CPU µs per call over the baseline's, medians of per-pair differences (0 for the baseline). */
  readonly clientCpuDeltaUs: number;
  readonly serverCpuDeltaUs: number;
  readonly brokerCpuDeltaUs: number;
  readonly errors: number;
  readonly firstError: string | undefined;
}

/** One concurrency level. */
export interface Level {
  readonly concurrency: number;
  readonly rows: readonly Row[];
}

/**
 * Rows per level; each ratio pairs a contender's run with the baseline run
 * next to it (adjacent pairing) or with the baseline's run of the same round.
 */
export function summarise(results: Results, baseline: string): Level[] {
  return [...results.samples].map(([concurrency, byName]) => {
    const pairs = (
      name: string,
      samples: readonly Sample[],
      combine: (a: number, b: number) => number,
      pick: (s: Sample) => number,
    ): number => {
      const base = results.baselinePairs?.get(concurrency)?.get(name) ?? byName.get(baseline) ?? [];
      return median(samples.slice(0, base.length).map((sample, index) => combine(pick(sample), pick(base[index]!))));
    };
    const paired = (name: string, samples: readonly Sample[], pick: (s: Sample) => number): number =>
      name === baseline ? 1 : pairs(name, samples, (a, b) => a / b, pick);
    const delta = (name: string, samples: readonly Sample[], pick: (s: Sample) => number): number =>
      name === baseline ? 0 : pairs(name, samples, (a, b) => a - b, pick);
    const rows = [...byName].map(([name, samples]): Row => ({
      name,
      callsPerSecond: median(samples.map((s) => s.callsPerSecond)),
      callsRatio: paired(name, samples, (s) => s.callsPerSecond),
      p50Ms: median(samples.map((s) => s.p50Ms)),
      p99Ms: median(samples.map((s) => s.p99Ms)),
      p99Ratio: paired(name, samples, (s) => s.p99Ms),
      clientCpuPerCallUs: median(samples.map((s) => s.clientCpuMicros / s.totalCalls)),
      serverCpuPerCallUs: median(samples.map((s) => s.serverCpuMicros / s.totalCalls)),
      brokerCpuPerCallUs: median(samples.map((s) => s.brokerCpuMicros / s.totalCalls)),
      clientCpuDeltaUs: delta(name, samples, (s) => s.clientCpuMicros / s.totalCalls),
      serverCpuDeltaUs: delta(name, samples, (s) => s.serverCpuMicros / s.totalCalls),
      brokerCpuDeltaUs: delta(name, samples, (s) => s.brokerCpuMicros / s.totalCalls),
      errors: samples.reduce((sum, s) => sum + s.errors, 0),
      firstError: samples.find((s) => s.firstError !== undefined)?.firstError,
    }));
    return { concurrency, rows };
  });
}

const int = (value: number): string => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '-');
const ms = (value: number): string => (Number.isFinite(value) ? value.toFixed(2) : '-');
const ratio = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(2)}x` : '-');

/** The table: one block per concurrency level, one line per contender, errors listed under it. */
export function formatLevels(levels: readonly Level[], baseline: string): string {
  const header = [
    'conc',
    'system',
    'calls/s',
    `vs ${baseline}`,
    'p50 ms',
    'p99 ms',
    'p99 vs base',
    'client µs/call',
    'server µs/call',
    'broker µs/call',
  ];
  const rows: string[][] = [];
  for (const level of levels) {
    for (const row of level.rows) {
      rows.push([
        String(level.concurrency),
        row.name,
        int(row.callsPerSecond),
        ratio(row.callsRatio),
        ms(row.p50Ms),
        ms(row.p99Ms),
        ratio(row.p99Ratio),
        int(row.clientCpuPerCallUs),
        int(row.serverCpuPerCallUs),
        int(row.brokerCpuPerCallUs),
      ]);
    }
  }
  const out = align(header, rows, 1);
  for (const level of levels) {
    for (const row of level.rows)
      if (row.errors > 0)
        out.push(`ERRORS: ${row.name} at c=${level.concurrency}: ${row.errors} failed calls, first: ${row.firstError}`);
  }
  return out.join('\n');
}

/** Right-aligned columns except column `leftColumn` (left-aligned), with a rule under the header. */
export function align(header: readonly string[], rows: readonly (readonly string[])[], leftColumn = -1): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column === leftColumn ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)];
}
