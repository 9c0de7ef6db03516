import type { CleanReport } from './mesh-report.js';
import { Tally } from './mesh-tally.js';

/** Calls or events from one node to another, added up. */
export interface EdgeTally {
  readonly from: string;
  readonly to: string;
  readonly kind: 'rpc' | 'event';
  readonly total: Tally;
  /** Per callee method (calls). */
  readonly methods: Map<string, Tally>;
  /** Event types carried (events). */
  readonly types: Set<string>;
}

/** Deliveries of one event group, added up. */
export interface GroupTally {
  readonly tally: Tally;
  retried: number;
  deadLettered: number;
}

/** What the reports of a window add up to. */
export interface Traffic {
  /** Service → method → calls served. */
  readonly served: Map<string, Map<string, Tally>>;
  /** Edge id (`from>to` calls, `from~>to` events) → traffic. */
  readonly edges: Map<string, EdgeTally>;
  /** Group → deliveries. */
  readonly groups: Map<string, GroupTally>;
}

/**
 * Adds up the reports of the window: calls served per service and method,
 * calls per caller → callee edge (and method, as the caller saw them),
 * events per publisher → subscriber edge, deliveries per group. `spanOf`
 * gives the time an instance's reports cover (rates), `nodeOfApp` the node
 * an app is drawn as.
 */
export function tallyTraffic(
  reports: readonly CleanReport[],
  spanOf: (instance: string) => number,
  nodeOfApp: (app: string) => string,
): Traffic {
  const served = new Map<string, Map<string, Tally>>();
  const edges = new Map<string, EdgeTally>();
  const groups = new Map<string, GroupTally>();
  const edge = (from: string, to: string, kind: 'rpc' | 'event'): EdgeTally => {
    const id = `${from}${kind === 'rpc' ? '>' : '~>'}${to}`;
    let entry = edges.get(id);
    if (!entry) edges.set(id, (entry = { from, to, kind, total: new Tally(), methods: new Map(), types: new Set() }));
    return entry;
  };
  const tallyOf = (map: Map<string, Tally>, key: string): Tally => map.get(key) ?? map.set(key, new Tally()).get(key)!;
  for (const report of reports) {
    const span = spanOf(report.instance);
    for (const stats of report.served) {
      const service = serviceOf(stats.method);
      tallyOf(served.get(service) ?? served.set(service, new Map()).get(service)!, stats.method).add(stats, span);
    }
    for (const stats of report.called) {
      const entry = edge(nodeOfApp(report.app), serviceOf(stats.method), 'rpc');
      entry.total.add(stats, span);
      tallyOf(entry.methods, stats.method).add(stats, span);
    }
    for (const stats of report.handled) {
      const counted = { calls: stats.handled, errors: {}, latency: stats.latency };
      const entry = edge(nodeOfApp(stats.publisher), nodeOfApp(report.app), 'event');
      entry.total.add(counted, span);
      entry.types.add(stats.type);
      const group = groups.get(stats.group) ?? { tally: new Tally(), retried: 0, deadLettered: 0 };
      group.tally.add(counted, span);
      group.retried += stats.retried;
      group.deadLettered += stats.deadLettered;
      groups.set(stats.group, group);
    }
  }
  return { served, edges, groups };
}

/** `pkg.Service/Method` → `pkg.Service`. */
export function serviceOf(method: string): string {
  const slash = method.indexOf('/');
  return slash < 0 ? method : method.slice(0, slash);
}
