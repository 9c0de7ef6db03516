import type { BenchChild } from '../rpc/children.js';
import { cpuMicrosOf } from './proc-cpu.js';

/** One system under test: a client process driving load and the server process it calls. */
export interface Contender {
  readonly name: string;
  readonly client: BenchChild;
  readonly server: BenchChild;
}

/** How the cells are run. */
export interface Schedule {
  /** Interleaved rounds; every contender runs once per cell per round. */
  readonly rounds: number;
  /** Measured seconds per run. */
  readonly seconds: number;
  /** Unmeasured load right before each measured window, same for everyone. */
  readonly warmupSeconds: number;
  /** Unmeasured load per contender before the first round (half at c=16, half at c=1), so V8 has optimised everyone. */
  readonly prewarmSeconds: number;
  /** Closed-loop concurrency levels (calls in flight). */
  readonly concurrency: readonly number[];
}

/** One measured run of one contender in one cell. */
export interface Sample {
  readonly callsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly firstError: string | undefined;
  /** Successful calls over the whole run (warm-up and drain included): the divisor of the CPU columns. */
  readonly totalCalls: number;
  /** CPU µs of the client, server and broker processes over the whole run (warm-up included), from /proc/<pid>/stat. */
  readonly clientCpuMicros: number;
  readonly serverCpuMicros: number;
  /** NaN when the broker's pid is unknown. */
  readonly brokerCpuMicros: number;
}

const fixed = (value: number): string => (Number.isFinite(value) ? value.toFixed(2) : '-');

/** Samples by concurrency, then by contender name, in round order. */
export type SampleTable = Map<number, Map<string, Sample[]>>;

/** What a schedule measured. */
export interface Results {
  readonly samples: SampleTable;
  /**
   * With an adjacent baseline: for each contender, the baseline runs made
   * right next to its own (same index = same pair). Absent otherwise: then a
   * contender pairs with the baseline's run of the same round.
   */
  readonly baselinePairs: SampleTable | undefined;
}

/**
 * Runs every contender once per (round, concurrency) cell, rotating who goes
 * first from one cell to the next (so no one always runs right after the same
 * neighbour, or always first on a cold broker), measuring each run's client,
 * server and broker CPU from /proc. `log` gets one line per run.
 *
 * With `adjacentBaseline` (the name of one contender), every other contender
 * runs back to back with a run of the baseline of its own (which of the two
 * goes first alternates), so each ratio compares two runs seconds apart
 * instead of a whole round apart: for many contenders on a machine whose
 * load drifts. It costs twice the runs.
 */
export async function runInterleaved(
  contenders: readonly Contender[],
  schedule: Schedule,
  brokerPid: number | undefined,
  log: (line: string) => void,
  adjacentBaseline?: string,
): Promise<Results> {
  if (schedule.prewarmSeconds > 0) {
    for (const contender of contenders) {
      for (const concurrency of [16, 1]) await contender.client.run(concurrency, schedule.prewarmSeconds / 2, 0);
    }
  }
  const table = (): SampleTable =>
    new Map(schedule.concurrency.map((c) => [c, new Map(contenders.map((k) => [k.name, [] as Sample[]]))]));
  const samples = table();
  const baseline = adjacentBaseline === undefined ? undefined : contenders.find((c) => c.name === adjacentBaseline);
  if (adjacentBaseline !== undefined && baseline === undefined)
    throw new Error(`no contender named ${adjacentBaseline}`);
  const baselinePairs = baseline === undefined ? undefined : table();
  const broker = (): number => (brokerPid === undefined ? Number.NaN : cpuMicrosOf(brokerPid));
  for (let round = 0; round < schedule.rounds; round++) {
    for (const [level, concurrency] of schedule.concurrency.entries()) {
      const others = baseline === undefined ? contenders : contenders.filter((c) => c !== baseline);
      const shift = (round + level) % others.length;
      const rotated = [...others.slice(shift), ...others.slice(0, shift)];
      const order: { contender: Contender; pairedWith?: string }[] =
        baseline === undefined
          ? rotated.map((contender) => ({ contender }))
          : rotated.flatMap((contender, index) => {
              const pair = [{ contender }, { contender: baseline, pairedWith: contender.name }];
              return (round + index) % 2 === 0 ? pair.reverse() : pair;
            });
      for (const { contender, pairedWith } of order) {
        const before = {
          client: cpuMicrosOf(contender.client.pid),
          server: cpuMicrosOf(contender.server.pid),
          broker: broker(),
        };
        const run = await contender.client.run(concurrency, schedule.seconds, schedule.warmupSeconds);
        const sample: Sample = {
          callsPerSecond: run.callsPerSecond,
          // a run with no measured call has NaN percentiles, which IPC (JSON) turns into null
          p50Ms: run.p50Ms ?? Number.NaN,
          p99Ms: run.p99Ms ?? Number.NaN,
          errors: run.errors,
          firstError: run.firstError,
          totalCalls: run.totalCalls,
          clientCpuMicros: cpuMicrosOf(contender.client.pid) - before.client,
          serverCpuMicros: cpuMicrosOf(contender.server.pid) - before.server,
          brokerCpuMicros: broker() - before.broker,
        };
        samples.get(concurrency)!.get(contender.name)!.push(sample);
        if (pairedWith !== undefined) baselinePairs!.get(concurrency)!.get(pairedWith)!.push(sample);
        log(
          `round ${round + 1}/${schedule.rounds} c=${concurrency} ${contender.name}: ${Math.round(sample.callsPerSecond)} calls/s p50 ${fixed(sample.p50Ms)} ms p99 ${fixed(sample.p99Ms)} ms${sample.errors ? ` errors ${sample.errors} (${sample.firstError})` : ''}`,
        );
      }
    }
  }
  return { samples, baselinePairs };
}
