import type { Implementation, RunSample } from './protocol.js';
import { median } from './stats.js';

/** Warren's targets against the raw baseline, per concurrency. */
export function targetsFor(concurrency: number): { minCallsRatio: number; maxP99Ratio: number } {
  return { minCallsRatio: concurrency >= 128 ? 1.0 : 1.2, maxP99Ratio: 1.2 };
}

/** Medians across rounds of one implementation at one concurrency. */
export interface SideSummary {
  readonly callsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Client process CPU per successful call, µs. */
  readonly clientCpuPerCallUs: number;
  /** Server process CPU per successful call, µs. */
  readonly serverCpuPerCallUs: number;
  /** Broker CPU per successful call, µs (the broker is shared: other load counts too). */
  readonly brokerCpuPerCallUs: number;
  readonly errors: number;
  readonly firstError: string | undefined;
}

/** One concurrency level, both sides, and warren/raw ratios (medians of per-round ratios). */
export interface LevelSummary {
  readonly concurrency: number;
  readonly raw: SideSummary | undefined;
  readonly warren: SideSummary | undefined;
  readonly callsRatio: number | undefined;
  readonly p99Ratio: number | undefined;
  readonly meetsTargets: boolean | undefined;
}

/** Memory of one process, bytes. */
export interface ProcessMemory {
  readonly label: string;
  /** Median RSS right after each measured run (clients) or at the end (servers). */
  readonly rssBytes: number;
  /** Peak RSS over the process's life. */
  readonly maxRssBytes: number;
}

function side(results: readonly RunSample[]): SideSummary | undefined {
  if (results.length === 0) return undefined;
  return {
    callsPerSecond: median(results.map((r) => r.callsPerSecond)),
    p50Ms: median(results.map((r) => r.p50Ms)),
    p99Ms: median(results.map((r) => r.p99Ms)),
    clientCpuPerCallUs: median(results.map((r) => r.cpuMicros / r.totalCalls)),
    serverCpuPerCallUs: median(results.map((r) => r.serverCpuMicros / r.totalCalls)),
    brokerCpuPerCallUs: median(results.map((r) => r.brokerCpuMicros / r.totalCalls)),
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    firstError: results.find((r) => r.firstError !== undefined)?.firstError,
  };
}

/** Summarises the per-round results of one concurrency level. */
export function summarise(concurrency: number, rounds: Record<Implementation, RunSample[]>): LevelSummary {
  const raw = side(rounds.raw);
  const warren = side(rounds.warren);
  const paired = Math.min(rounds.raw.length, rounds.warren.length);
  const ratios = (pick: (r: RunSample) => number): number | undefined =>
    paired === 0
      ? undefined
      : median(Array.from({ length: paired }, (_, i) => pick(rounds.warren[i]!) / pick(rounds.raw[i]!)));
  const callsRatio = ratios((r) => r.callsPerSecond);
  const p99Ratio = ratios((r) => r.p99Ms);
  const target = targetsFor(concurrency);
  const meetsTargets =
    callsRatio === undefined || p99Ratio === undefined
      ? undefined
      : callsRatio >= target.minCallsRatio && p99Ratio <= target.maxP99Ratio;
  return { concurrency, raw, warren, callsRatio, p99Ratio, meetsTargets };
}

const int = (value: number | undefined): string =>
  value === undefined || Number.isNaN(value) ? '-' : Math.round(value).toLocaleString('en-US');
const ms = (value: number | undefined): string => (value === undefined || Number.isNaN(value) ? '-' : value.toFixed(2));
const ratio = (value: number | undefined): string => (value === undefined ? '-' : `${value.toFixed(2)}x`);
const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MB`;

/** The human-readable table. */
export function formatTable(
  levels: readonly LevelSummary[],
  memory: readonly ProcessMemory[],
  heading: string,
): string {
  const header = [
    'conc',
    'raw calls/s',
    'warren calls/s',
    'ratio',
    'raw p50 ms',
    'warren p50 ms',
    'raw p99 ms',
    'warren p99 ms',
    'p99 ratio',
    'target',
  ];
  const rows = levels.map((level) => {
    const target = targetsFor(level.concurrency);
    return [
      String(level.concurrency),
      int(level.raw?.callsPerSecond),
      int(level.warren?.callsPerSecond),
      ratio(level.callsRatio),
      ms(level.raw?.p50Ms),
      ms(level.warren?.p50Ms),
      ms(level.raw?.p99Ms),
      ms(level.warren?.p99Ms),
      ratio(level.p99Ratio),
      level.meetsTargets === undefined
        ? '-'
        : `${level.meetsTargets ? 'met' : 'MISSED'} (>=${target.minCallsRatio}x, p99<=${target.maxP99Ratio}x)`,
    ];
  });
  const out = [heading, '', ...align(header, rows, true), ''];
  out.push(
    'CPU per call (µs, whole process, warm-up included; the broker is shared, so its column counts any other load too):',
  );
  out.push(
    ...align(
      ['conc', 'raw client', 'warren client', 'raw server', 'warren server', 'broker (raw)', 'broker (warren)'],
      levels.map((level) => [
        String(level.concurrency),
        int(level.raw?.clientCpuPerCallUs),
        int(level.warren?.clientCpuPerCallUs),
        int(level.raw?.serverCpuPerCallUs),
        int(level.warren?.serverCpuPerCallUs),
        int(level.raw?.brokerCpuPerCallUs),
        int(level.warren?.brokerCpuPerCallUs),
      ]),
    ),
    '',
  );
  out.push('memory (RSS):');
  for (const process of memory)
    out.push(`  ${process.label.padEnd(14)} ${mb(process.rssBytes).padStart(9)}  (peak ${mb(process.maxRssBytes)})`);
  for (const level of levels) {
    for (const [name, summary] of [
      ['raw', level.raw],
      ['warren', level.warren],
    ] as const) {
      if (summary && summary.errors > 0)
        out.push(
          `ERRORS: ${name} at concurrency ${level.concurrency}: ${summary.errors} failed calls, first: ${summary.firstError}`,
        );
    }
  }
  return out.join('\n');
}

/** Right-aligned columns (the last one left-aligned if `leftLast`), with a rule under the header. */
function align(header: readonly string[], rows: readonly (readonly string[])[], leftLast = false): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (leftLast && column === cells.length - 1 ? cell : cell.padStart(widths[column]!)))
      .join('  ');
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)];
}
