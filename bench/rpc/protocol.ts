/**
 * Messages between the bench orchestrator and its child processes (Node IPC).
 * Children send `ready` once connected; clients answer each `run` with a
 * `result`; anyone answers `usage`; everyone exits cleanly on `stop` (so `--cpu-prof` files get written).
 */

/** The two sides compared. */
export type Implementation = 'raw' | 'warren';

/** Orchestrator → child. */
export type Command =
  | { readonly type: 'run'; readonly concurrency: number; readonly seconds: number; readonly warmupSeconds: number }
  | { readonly type: 'usage' }
  | { readonly type: 'stop' };

/** One measured load run of a client process. */
export interface RunResult {
  readonly calls: number;
  readonly errors: number;
  readonly firstError: string | undefined;
  readonly elapsedMs: number;
  readonly callsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Resident set size right after the run, bytes. */
  readonly rssBytes: number;
  /** Successful calls over the whole run, warm-up and drain included. */
  readonly totalCalls: number;
  /** CPU time (user + system) the client process spent over the whole run, µs. */
  readonly cpuMicros: number;
}

/** A run as the orchestrator records it: the client's result plus its server's CPU over the same run. */
export interface RunSample extends RunResult {
  /** CPU time the server process spent while this run was going on, µs. */
  readonly serverCpuMicros: number;
  /** CPU time the broker spent meanwhile (all of its load), µs; NaN when unknown. */
  readonly brokerCpuMicros: number;
}

/** Resource use of a child so far. */
export interface Usage {
  readonly rssBytes: number;
  /** Peak RSS over the process's life. */
  readonly maxRssBytes: number;
  /** CPU time (user + system) since the process started, µs. */
  readonly cpuMicros: number;
}

/** Child → orchestrator. */
export type Report =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly result: RunResult }
  | { readonly type: 'usage'; readonly usage: Usage };
