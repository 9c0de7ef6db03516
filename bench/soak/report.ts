import type { SoakSample } from './protocol.js';

/** The samples of both children taken at one moment. */
export interface SoakRow {
  readonly seconds: number;
  readonly server: SoakSample;
  readonly client: SoakSample;
}

const MB = 1024 * 1024;
const mb = (bytes: number): string => (bytes / MB).toFixed(1);
const sum = (table: Record<string, number>, keep: (code: string) => boolean): number =>
  Object.entries(table)
    .filter(([code]) => keep(code))
    .reduce((total, [, n]) => total + n, 0);

/** The per-sample table: resources of both processes and the load done since the previous row. */
export function formatRows(rows: readonly SoakRow[]): string {
  const header = [
    't s',
    'srv rss MB',
    'srv heap MB',
    'srv fds',
    'cli rss MB',
    'cli heap MB',
    'cli fds',
    'calls ok/s',
    'calls failed',
    'events/s',
    'reconnects',
  ];
  const lines = [header];
  rows.forEach((row, i) => {
    const previous = rows[i - 1];
    const span = previous ? (row.client.at - previous.client.at) / 1000 : row.seconds || 1;
    const okNow = row.client.counters.calls['0'] ?? 0;
    const okBefore = previous?.client.counters.calls['0'] ?? 0;
    const eventsBefore = previous?.client.counters.events ?? 0;
    lines.push([
      String(row.seconds),
      mb(row.server.rssBytes),
      mb(row.server.heapUsedBytes),
      String(row.server.fds),
      mb(row.client.rssBytes),
      mb(row.client.heapUsedBytes),
      String(row.client.fds),
      ((okNow - okBefore) / span).toFixed(0),
      String(sum(row.client.counters.calls, (code) => code !== '0')),
      ((row.client.counters.events - eventsBefore) / span).toFixed(0),
      `${row.client.counters.reconnections}/${row.server.counters.reconnections}`,
    ]);
  });
  const widths = header.map((_, column) => Math.max(...lines.map((line) => line[column]!.length)));
  return lines.map((line) => line.map((cell, column) => cell.padStart(widths[column]!)).join('  ')).join('\n');
}

/** Least-squares slope of y over x. */
function slope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

/** One metric's first, last and max value and its trend per hour (over the samples after the warm-up). */
export interface Trend {
  readonly metric: string;
  readonly first: number;
  readonly last: number;
  readonly max: number;
  readonly perHour: number;
  readonly unit: 'MB' | 'fds';
  /** Growth per hour above which the metric is called growing. */
  readonly limitPerHour: number;
}

/** Trends of every metric. The first `warmupFraction` of the samples is left out of the slope (JIT, pools, caches filling). */
export function trends(rows: readonly SoakRow[], warmupFraction = 0.2): Trend[] {
  const steady = rows.slice(Math.min(rows.length - 2, Math.floor(rows.length * warmupFraction)));
  const metrics: { metric: string; read: (row: SoakRow) => number; unit: 'MB' | 'fds'; limitPerHour: number }[] = [
    { metric: 'server rss', read: (r) => r.server.rssBytes / MB, unit: 'MB', limitPerHour: 50 },
    { metric: 'server heap used', read: (r) => r.server.heapUsedBytes / MB, unit: 'MB', limitPerHour: 10 },
    { metric: 'server fds', read: (r) => r.server.fds, unit: 'fds', limitPerHour: 10 },
    { metric: 'client rss', read: (r) => r.client.rssBytes / MB, unit: 'MB', limitPerHour: 50 },
    { metric: 'client heap used', read: (r) => r.client.heapUsedBytes / MB, unit: 'MB', limitPerHour: 10 },
    { metric: 'client fds', read: (r) => r.client.fds, unit: 'fds', limitPerHour: 10 },
  ];
  return metrics.map(({ metric, read, unit, limitPerHour }) => ({
    metric,
    unit,
    limitPerHour,
    first: read(rows[0]!),
    last: read(rows[rows.length - 1]!),
    max: Math.max(...rows.map(read)),
    perHour: slope(steady.map((row) => [row.seconds / 3600, read(row)] as const)),
  }));
}

/** The summary table and the verdict line. */
export function formatVerdict(list: readonly Trend[], minutes: number): string {
  const fmt = (value: number, unit: string): string => (unit === 'MB' ? value.toFixed(1) : value.toFixed(0));
  const header = ['metric', 'first', 'last', 'max', 'trend /h', 'limit /h'];
  const lines = [
    header,
    ...list.map((t) => [
      t.metric,
      fmt(t.first, t.unit),
      fmt(t.last, t.unit),
      fmt(t.max, t.unit),
      `${t.perHour >= 0 ? '+' : ''}${t.perHour.toFixed(1)} ${t.unit}`,
      `${t.limitPerHour} ${t.unit}`,
    ]),
  ];
  const widths = header.map((_, column) => Math.max(...lines.map((line) => line[column]!.length)));
  const table = lines
    .map((line) =>
      line
        .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
        .join('  '),
    )
    .join('\n');
  const growing = list.filter((t) => t.perHour > t.limitPerHour);
  const caution =
    minutes < 30
      ? ` (a ${minutes}-minute run: the per-hour trend extrapolates a short window, treat small slopes as noise)`
      : '';
  const verdict =
    growing.length === 0
      ? `verdict: no growth beyond the limits${caution}`
      : `verdict: GROWING: ${growing.map((t) => `${t.metric} ${t.perHour.toFixed(1)} ${t.unit}/h`).join(', ')}${caution}`;
  return `${table}\n${verdict}`;
}
