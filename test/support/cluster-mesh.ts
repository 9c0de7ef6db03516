import { setMaxListeners } from 'node:events';
import { vi } from 'vitest';
import { type AmqpTransport, Code, connectAmqp, createClient } from '../../core/index.js';
import { TestServiceDefinition } from '../../gen/warren/test/v1/test.js';
import { CallLedger, type Outcome } from './call-ledger.js';
import { createRecordingLogger, type LogEntry } from './gateway-harness.js';
import type { ThrowawayBroker } from './throwaway-broker.js';
import type { ThrowawayCluster } from './throwaway-cluster.js';

/** A TestService under another name, so each scenario has a queue of its own. */
export const serviceNamed = (name: string) => ({ ...TestServiceDefinition, fullName: `warren.test.v1.${name}` });

/** A TestService definition, whatever its name. */
export type TestServiceLike = ReturnType<typeof serviceNamed>;

/** A transport on the cluster that knows which node it is connected to (from its own log). */
export interface ClusterTransport {
  readonly transport: AmqpTransport;
  readonly logs: LogEntry[];
  /** The node of its latest connection. */
  node(): ThrowawayBroker | undefined;
}

/**
 * Connects to the cluster with every node's URL and `queueType: 'quorum'`,
 * as a mesh process on a cluster does. With `first`, the connection starts at
 * that node (the random start pinned for the test); it fails over to the
 * others like any connection.
 */
export async function connectToCluster(
  cluster: ThrowawayCluster,
  name: string,
  first?: ThrowawayBroker,
): Promise<ClusterTransport> {
  const logs: LogEntry[] = [];
  const urls = first ? [first.url, ...cluster.urls.filter((url) => url !== first.url)] : cluster.urls;
  const random = first ? vi.spyOn(Math, 'random').mockReturnValue(0) : undefined;
  let transport: AmqpTransport;
  try {
    transport = await connectAmqp({
      url: urls,
      queueType: 'quorum',
      connectionName: name,
      logger: createRecordingLogger(logs),
      heartbeatSeconds: 5,
    });
  } finally {
    random?.mockRestore();
  }
  return {
    transport,
    logs,
    node() {
      const connected = logs.filter((entry) => entry.msg === 'connected to broker').at(-1);
      return connected ? cluster.nodeOfUrl(String(connected.fields['url'])) : undefined;
    },
  };
}

/** Options of {@link startLoad}. */
export interface LoadOptions {
  /** Calls kept in flight at once (half idempotent `sleep`, half unsafe `increment`). */
  readonly inFlight: number;
  /** Deadline of each call. */
  readonly timeoutMs: number;
  /** Label of the phase a call is sent in, read per call (becomes part of its ledger kind). */
  readonly phase: () => string;
}

/** A steady load of calls recorded in a {@link CallLedger}. */
export interface Load {
  readonly calls: CallLedger;
  /** Counter name of each unsafe call, by ledger id. */
  readonly unsafeCounters: Map<number, string>;
  /** Completion times of successful calls (ms since the epoch), in order. */
  readonly successes: number[];
  /** Stops sending and waits for every call to end. */
  stop(): Promise<Outcome[]>;
}

/** Keeps `inFlight` calls going against `service` through `client` until stopped. */
export function startLoad(client: AmqpTransport, service: TestServiceLike, options: LoadOptions): Load {
  const calls = new CallLedger();
  const unsafeCounters = new Map<number, string>();
  const successes: number[] = [];
  const caller = createClient(service, client);
  const signal = new AbortController().signal;
  setMaxListeners(100_000, signal);
  let sending = true;
  let n = 0;
  const sent: Promise<Outcome>[] = [];
  const worker = async (slot: number): Promise<void> => {
    while (sending) {
      const id = n++;
      const phase = options.phase();
      let outcome: Promise<Outcome>;
      if (slot % 2 === 0) {
        outcome = calls.track(`idempotent/${phase}`, options.timeoutMs, () =>
          caller.sleep({ millis: 5 + (id % 20) }, { timeoutMs: options.timeoutMs, signal }),
        );
      } else {
        const counter = `${service.fullName}-${id}`;
        unsafeCounters.set(id, counter);
        outcome = calls.track(`unsafe/${phase}`, options.timeoutMs, () =>
          caller.increment({ counter }, { timeoutMs: options.timeoutMs, signal }),
        );
      }
      sent.push(outcome);
      const ended = await outcome;
      if (ended.code === Code.OK) successes.push(ended.settledAt);
      else await new Promise((resolve) => setTimeout(resolve, 20)); // a failed call does not spin
    }
  };
  const workers = Array.from({ length: options.inFlight }, (_, slot) => worker(slot));
  return {
    calls,
    unsafeCounters,
    successes,
    async stop() {
      sending = false;
      await Promise.all(workers);
      return Promise.all(sent);
    },
  };
}

/** Outcome counts by kind and code name (for the printed report). */
export function outcomesByCode(outcomes: readonly Outcome[]): Record<string, Record<string, number>> {
  const table: Record<string, Record<string, number>> = {};
  for (const outcome of outcomes) {
    const row = (table[outcome.kind] ??= {});
    const code = outcome.code === -1 ? 'untyped' : (Code[outcome.code] ?? String(outcome.code));
    row[code] = (row[code] ?? 0) + 1;
  }
  return table;
}

/** The longest stretch without a successful call between `from` and `to` (ms). */
export function longestGap(successes: readonly number[], from: number, to: number): number {
  let gap = 0;
  let last = from;
  for (const at of [...successes].sort((a, b) => a - b)) {
    if (at < from) continue;
    if (at > to) break;
    gap = Math.max(gap, at - last);
    last = at;
  }
  return Math.max(gap, to - last);
}

/** Polls `check` every 100 ms until it is true (a check that throws counts as false); fails with `what` after `timeoutMs`. */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
