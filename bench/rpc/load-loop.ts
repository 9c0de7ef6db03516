import { performance } from 'node:perf_hooks';
import type { RunResult } from './protocol.js';
import { LatencyRecorder } from './stats.js';

/** One call of the system under test; resolves when its reply has been decoded. */
export type BenchCall = () => Promise<unknown>;

const recorder = new LatencyRecorder();

/**
 * Closed-loop load: `concurrency` workers each issue the next call as soon as
 * the previous one returns. A warm-up phase runs first and is not counted;
 * then calls completing inside the measured window are counted (with their
 * latencies). Calls still in flight at the end are awaited (so the
 * next run starts from an idle system) but not counted.
 */
export async function runLoad(
  call: BenchCall,
  concurrency: number,
  seconds: number,
  warmupSeconds: number,
): Promise<RunResult> {
  recorder.reset();
  const cpuBefore = process.cpuUsage();
  let totalCalls = 0;
  const warmupEnd = performance.now() + warmupSeconds * 1000;
  const end = warmupEnd + seconds * 1000;
  let calls = 0;
  let errors = 0;
  let firstError: string | undefined;

  const worker = async (): Promise<void> => {
    for (;;) {
      const started = performance.now();
      if (started >= end) return;
      try {
        await call();
        totalCalls++;
        const finished = performance.now();
        if (finished >= warmupEnd && finished <= end) {
          calls++;
          recorder.record(finished - started);
        }
      } catch (error) {
        errors++;
        firstError ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const cpu = process.cpuUsage(cpuBefore);
  const elapsedMs = end - warmupEnd;
  return {
    calls,
    errors,
    firstError,
    elapsedMs,
    callsPerSecond: (calls * 1000) / elapsedMs,
    p50Ms: recorder.percentile(50),
    p99Ms: recorder.percentile(99),
    rssBytes: process.memoryUsage.rss(),
    totalCalls,
    cpuMicros: cpu.user + cpu.system,
  };
}
