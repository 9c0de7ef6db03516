import { expect } from 'vitest';
import { RpcError } from '../../core/index.js';

/** One call's outcome, as the resilience suites record it. */
export interface Outcome {
  readonly id: number;
  readonly kind: string;
  readonly deadline: number;
  readonly settledAt: number;
  readonly code: number;
  readonly value?: unknown;
}

/**
 * Records every call a fault test sends and checks the rules every fault must
 * keep: one outcome per call, within its deadline plus a margin.
 */
export class CallLedger {
  readonly outcomes: Outcome[] = [];
  private sent = 0;

  /** Sends one call and records how it ended (never rejects). */
  track<T>(kind: string, timeoutMs: number, call: () => Promise<T>): Promise<Outcome> {
    const id = this.sent++;
    const deadline = Date.now() + timeoutMs;
    return call().then(
      (value) => this.record({ id, kind, deadline, settledAt: Date.now(), code: 0, value }),
      (error: unknown) =>
        this.record({ id, kind, deadline, settledAt: Date.now(), code: error instanceof RpcError ? error.code : -1 }),
    );
  }

  private record(outcome: Outcome): Outcome {
    this.outcomes.push(outcome);
    return outcome;
  }

  /** Every call got exactly one typed outcome, none later than its deadline plus `marginMs`. */
  expectComplete(marginMs: number): void {
    expect(this.outcomes).toHaveLength(this.sent);
    expect(new Set(this.outcomes.map((o) => o.id)).size).toBe(this.sent);
    expect(this.outcomes.filter((o) => o.code === -1)).toEqual([]);
    const late = this.outcomes.filter((o) => o.settledAt > o.deadline + marginMs);
    expect(late).toEqual([]);
  }

  /** Outcome counts by kind and code name, for reports. */
  summary(): Record<string, Record<number, number>> {
    const table: Record<string, Record<number, number>> = {};
    for (const outcome of this.outcomes) {
      const row = (table[outcome.kind] ??= {});
      row[outcome.code] = (row[outcome.code] ?? 0) + 1;
    }
    return table;
  }
}
