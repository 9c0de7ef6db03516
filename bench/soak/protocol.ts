/** Messages between the soak orchestrator (bench/soak.ts) and its children (bench/soak/soak-child.ts). */

/** What the orchestrator asks a child. */
export type SoakCommand = { readonly type: 'sample' } | { readonly type: 'stop' };

/** Counters a child keeps (cumulative since it started). */
export interface SoakCounters {
  /** RPC outcomes by status code (client) or handler runs (server, under `0`). */
  readonly calls: Record<string, number>;
  /** Events published and confirmed (client) or received (server). */
  readonly events: number;
  /** Event publishes that failed, by code (client). */
  readonly eventFailures: Record<string, number>;
  /** Reconnections of the child's transport. */
  readonly reconnections: number;
}

/** One sample of a child's resources, taken after a full GC. */
export interface SoakSample {
  readonly at: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly fds: number;
  readonly counters: SoakCounters;
}

/** What a child sends. */
export type SoakReport =
  | { readonly type: 'ready' }
  | { readonly type: 'sample'; readonly sample: SoakSample }
  | { readonly type: 'stopped'; readonly sample: SoakSample };
