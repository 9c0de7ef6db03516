import { BreakerState, type EventStats, type InstanceReport, type MethodStats } from '../../gen/warren/mesh/v1/mesh.js';
import type { BreakerStateName, DeadLetterView } from './mesh-view.js';

/** Longest name (app, instance, service, method, group, type) kept from a report. */
const MAX_NAME = 255;
/** Longest dead-letter reason kept. */
const MAX_REASON = 1024;
/** Most entries kept from each list of a report. */
const MAX_ENTRIES = 512;
/** Most services, groups and breakers kept from a report. */
const MAX_SMALL_LIST = 64;
/** Most dead-letter notes kept from a report. */
const MAX_NOTES = 20;

/** A report with every name, number and list bounded: what the model keeps. */
export interface CleanReport {
  readonly app: string;
  readonly instance: string;
  readonly services: readonly string[];
  readonly startedAtMs: number;
  readonly sentAtMs: number;
  /** 0 – 10 min. */
  readonly windowMs: number;
  /** 100 ms – 10 min. */
  readonly intervalMs: number;
  readonly stopping: boolean;
  readonly served: readonly MethodStats[];
  readonly called: readonly MethodStats[];
  readonly groups: readonly { readonly group: string; readonly broadcast: boolean }[];
  readonly handled: readonly EventStats[];
  readonly breakers: readonly { readonly target: string; readonly state: BreakerStateName }[];
  readonly deadLetters: readonly Omit<DeadLetterView, 'node'>[];
}

const STATE_NAMES: Partial<Record<BreakerState, BreakerStateName>> = {
  [BreakerState.BREAKER_STATE_CLOSED]: 'closed',
  [BreakerState.BREAKER_STATE_HALF_OPEN]: 'half-open',
  [BreakerState.BREAKER_STATE_OPEN]: 'open',
};

/**
 * Bounds a report from the broker before the model keeps it: anyone who
 * may publish to `warren.mesh` can send one, so names are cut to 255
 * characters, reasons to 1 KiB, lists to a few hundred entries, numbers to
 * sane ranges, and breakers in an unknown state are dropped. (The page
 * escapes everything it shows; this only keeps memory and JSON small.)
 */
export function sanitizeReport(report: InstanceReport): CleanReport {
  return {
    app: name(report.app),
    instance: name(report.instance),
    services: report.services
      .slice(0, MAX_SMALL_LIST)
      .map(name)
      .filter((service) => service !== ''),
    startedAtMs: whole(report.startedAtMs),
    sentAtMs: whole(report.sentAtMs),
    windowMs: clamp(report.windowMs, 0, 600_000),
    intervalMs: clamp(report.intervalMs, 100, 600_000),
    stopping: report.stopping === true,
    served: report.served.slice(0, MAX_ENTRIES).map(methodStats),
    called: report.called.slice(0, MAX_ENTRIES).map(methodStats),
    groups: report.groups
      .slice(0, MAX_SMALL_LIST)
      .map((group) => ({ group: name(group.group), broadcast: group.broadcast === true }))
      .filter((group) => group.group !== ''),
    handled: report.handled.slice(0, MAX_ENTRIES).map((stats) => ({
      group: name(stats.group),
      type: name(stats.type),
      publisher: name(stats.publisher),
      handled: whole(stats.handled),
      retried: whole(stats.retried),
      deadLettered: whole(stats.deadLettered),
      latency: stats.latency,
    })),
    breakers: report.breakers
      .slice(0, MAX_SMALL_LIST)
      .flatMap((breaker) =>
        STATE_NAMES[breaker.state] === undefined
          ? []
          : [{ target: name(breaker.target), state: STATE_NAMES[breaker.state]! }],
      ),
    deadLetters: report.deadLetters.slice(0, MAX_NOTES).map((note) => ({
      group: name(note.group),
      type: name(note.type),
      messageId: name(note.messageId),
      reason: String(note.reason).slice(0, MAX_REASON),
      atMs: whole(note.atMs),
      publisher: name(note.publisher),
      attempts: whole(note.attempts),
    })),
  };
}

function methodStats(stats: MethodStats): MethodStats {
  return { method: name(stats.method), calls: whole(stats.calls), errors: stats.errors, latency: stats.latency };
}

function name(value: unknown): string {
  return String(value ?? '').slice(0, MAX_NAME);
}

function whole(value: unknown): number {
  const number = Number(value);
  return Number.isFinite(number) && number > 0 ? Math.floor(number) : 0;
}

function clamp(value: unknown, low: number, high: number): number {
  return Math.min(high, Math.max(low, whole(value)));
}
