import type { InstanceReport } from '../../gen/warren/mesh/v1/mesh.js';
import { NODE_HEIGHT, NODE_WIDTH, layoutMesh } from './mesh-layout.js';
import { sanitizeReport, type CleanReport } from './mesh-report.js';
import { nodeStatus, worstBreaker } from './mesh-status.js';
import { Tally, round } from './mesh-tally.js';
import { serviceOf, tallyTraffic, type GroupTally } from './mesh-traffic.js';
import type {
  BreakerStateName,
  BreakerView,
  DeadLetterView,
  EdgeView,
  GroupView,
  InstanceView,
  MeshView,
  NodeView,
  QueueView,
} from './mesh-view.js';
import { type QueueState } from '../../core/tooling.js';

/** Default window rates, error shares and percentiles are taken over. */
export const DEFAULT_MESH_WINDOW_MS = 10_000;
/** Most recent dead letters kept. */
const MAX_DEAD_LETTERS = 30;
/** Most services and groups remembered (names come from reports: bounded). */
const MAX_KNOWN = 500;
/** Most instances tracked at once. */
const MAX_INSTANCES = 1000;
/** Most reports kept for the window (a flood of reports pushes the oldest out). */
const MAX_SAMPLES = 20_000;
/** Most queues checked per pass (the contracts' services come first). */
const MAX_WATCHED = 400;

/** A queue as a passive declare sees it (core's one shape for it). */
export type { QueueState } from '../../core/tooling.js';

/** Options of {@link createMeshModel}. */
export interface MeshModelOptions {
  /** Services of the contracts (the built-in health service left out): watched even before anyone reports them. */
  readonly services?: readonly string[];
  /** Default {@link DEFAULT_MESH_WINDOW_MS}. */
  readonly windowMs?: number;
  /** Clock. Default `Date.now`. */
  readonly now?: () => number;
}

/** The gateway's live picture of the mesh, fed by reports and queue checks. */
export interface MeshModel {
  /** Takes in one instance report (untrusted input: names and sizes are bounded). */
  ingest(report: InstanceReport): void;
  /** Records what passive declares saw; `null`: the queue does not exist. */
  setQueues(states: ReadonlyMap<string, QueueState | null>): void;
  /** Queues worth checking: every known service's and dead-letter queue, every known group's (at most 400). */
  watchedQueues(): string[];
  /** The picture now. */
  view(): MeshView;
}

interface Instance {
  readonly report: CleanReport;
  readonly seenAt: number;
}

interface Sample {
  readonly report: CleanReport;
  readonly at: number;
}

const rpcQueue = (service: string): string => `rpc.${service}`;
const rpcDeadQueue = (service: string): string => `rpc.${service}.dead`;
const groupQueue = (group: string): string => `events.${group}`;
const groupDeadQueue = (group: string): string => `events.${group}.dead`;

/**
 * Creates the model. It never talks to the broker: the feed hands it reports
 * and queue states, the page asks it for views. Services are nodes (their
 * queue is what the broker knows); an app that serves exactly one service is
 * drawn as that service, one that serves none (the gateway, a script) as a
 * client node. An instance counts as live until it said it is stopping or
 * missed three reports; "is it up" is the consumer count of its queue, when
 * known. What was ever seen (services, groups, edges) is remembered, so a
 * stopped service stays in the picture as down rather than vanishing.
 */
export function createMeshModel(options: MeshModelOptions = {}): MeshModel {
  const windowMs = options.windowMs ?? DEFAULT_MESH_WINDOW_MS;
  const now = options.now ?? Date.now;
  const contracts = new Set(options.services ?? []);
  const services = new Set(contracts);
  const appServices = new Map<string, Set<string>>();
  const groups = new Map<string, { broadcast: boolean; app: string }>();
  const rpcEdges = new Set<string>();
  const eventEdges = new Set<string>();
  const instances = new Map<string, Instance>();
  let samples: Sample[] = [];
  let deadLetters: DeadLetterView[] = [];
  const queues = new Map<string, QueueState | null>();
  let queuesAt: number | null = null;

  const remember = <T>(set: { size: number; has(key: T): boolean }, key: T, add: () => void): void => {
    if (set.has(key) || set.size < MAX_KNOWN) add();
  };
  const live = (instance: Instance, at: number): boolean =>
    !instance.report.stopping && at - instance.seenAt <= expiryMs(instance.report.intervalMs);
  /** Drops instances gone for longer than the window. */
  const forget = (at: number): void => {
    for (const [id, instance] of instances)
      if (at - instance.seenAt > windowMs + expiryMs(instance.report.intervalMs)) instances.delete(id);
  };
  const nodeOfApp = (app: string): string => {
    const served = appServices.get(app);
    return served?.size === 1 ? [...served][0]! : `app:${app}`;
  };

  return {
    ingest(raw) {
      const report = sanitizeReport(raw);
      if (report.instance === '' || report.app === '') return;
      const at = now();
      if (!instances.has(report.instance) && instances.size >= MAX_INSTANCES) forget(at);
      if (!instances.has(report.instance) && instances.size >= MAX_INSTANCES) return;
      instances.set(report.instance, { report, seenAt: at });
      // reports arrive whether or not anyone looks: only the window is kept
      while (samples.length > 0 && (at - samples[0]!.at > windowMs || samples.length >= MAX_SAMPLES)) samples.shift();
      samples.push({ report, at });
      for (const service of report.services) {
        remember(services, service, () => services.add(service));
        remember(appServices, report.app, () =>
          appServices.set(report.app, (appServices.get(report.app) ?? new Set()).add(service)),
        );
      }
      for (const { group, broadcast } of report.groups)
        remember(groups, group, () => groups.set(group, { broadcast, app: report.app }));
      for (const { method } of report.called) {
        const service = serviceOf(method);
        remember(services, service, () => services.add(service));
        remember(rpcEdges, `${report.app}\u0000${service}`, () => rpcEdges.add(`${report.app}\u0000${service}`));
      }
      for (const { publisher } of report.handled)
        remember(eventEdges, `${publisher}\u0000${report.app}`, () =>
          eventEdges.add(`${publisher}\u0000${report.app}`),
        );
      const node = (): string => nodeOfApp(report.app);
      deadLetters = [...deadLetters, ...report.deadLetters.map((note) => ({ ...note, node: node() }))]
        .sort((a, b) => b.atMs - a.atMs)
        .slice(0, MAX_DEAD_LETTERS);
    },
    setQueues(states) {
      for (const [name, state] of states) queues.set(name, state);
      queuesAt = now();
    },
    watchedQueues() {
      const names: string[] = [];
      for (const service of services) names.push(rpcQueue(service), rpcDeadQueue(service));
      for (const [group, { broadcast }] of groups)
        names.push(...(broadcast ? [] : [groupQueue(group)]), groupDeadQueue(group));
      return names.slice(0, MAX_WATCHED);
    },
    view() {
      const at = now();
      samples = samples.filter((sample) => at - sample.at <= windowMs);
      forget(at);
      const liveInstances = [...instances.values()].filter((instance) => live(instance, at));
      const spans = new Map<string, number>();
      for (const { report } of samples) spans.set(report.instance, (spans.get(report.instance) ?? 0) + report.windowMs);
      const spanOf = (instance: string): number => Math.max(1000, spans.get(instance) ?? 0);

      const {
        served,
        edges,
        groups: groupTallies,
      } = tallyTraffic(
        samples.map(({ report }) => report),
        spanOf,
        nodeOfApp,
      );
      const edge = (from: string, to: string, kind: 'rpc' | 'event'): void => {
        const id = `${from}${kind === 'rpc' ? '>' : '~>'}${to}`;
        if (!edges.has(id)) edges.set(id, { from, to, kind, total: new Tally(), methods: new Map(), types: new Set() });
      };
      for (const key of rpcEdges) {
        const [app, service] = key.split('\u0000') as [string, string];
        edge(nodeOfApp(app), service, 'rpc');
      }
      for (const key of eventEdges) {
        const [publisher, app] = key.split('\u0000') as [string, string];
        edge(nodeOfApp(publisher), nodeOfApp(app), 'event');
      }

      // Breakers: worst state per holder app and target over its live instances.
      const breakerStates = new Map<string, { holder: string; target: string; state: BreakerStateName }>();
      for (const { report } of liveInstances) {
        for (const { target, state } of report.breakers) {
          const key = `${report.app}\u0000${target}`;
          const before = breakerStates.get(key);
          breakerStates.set(key, { holder: report.app, target, state: worstBreaker(before?.state, state) });
        }
      }
      const targetNode = (target: string): string | null =>
        services.has(target) ? target : appServices.has(target) ? nodeOfApp(target) : null;
      const breakers: BreakerView[] = [...breakerStates.values()]
        .map((b) => ({ ...b, targetNode: targetNode(b.target) }))
        .sort((a, b) => a.holder.localeCompare(b.holder) || a.target.localeCompare(b.target));

      // Nodes: services that exist or were ever seen, clients with live instances or traffic now.
      const queueView = (name: string): QueueView | null => {
        const state = queues.get(name);
        return state === undefined
          ? null
          : { name, exists: state !== null, messages: state?.messages ?? 0, consumers: state?.consumers ?? 0 };
      };
      const instanceView = ({ report, seenAt }: Instance): InstanceView => ({
        id: report.instance,
        app: report.app,
        lastReportAgoMs: at - seenAt,
        uptimeMs: Math.max(0, report.sentAtMs - report.startedAtMs),
      });
      const edgeEnds = new Set([...edges.values()].flatMap((e) => [e.from, e.to]));
      const activeEnds = new Set([...edges.values()].filter((e) => e.total.calls > 0).flatMap((e) => [e.from, e.to]));
      const nodes: Omit<NodeView, 'x' | 'y'>[] = [];
      const everServed = new Set([...appServices.values()].flatMap((set) => [...set]));
      for (const service of [...services].sort()) {
        const queue = queueView(rpcQueue(service));
        const reporting = liveInstances.filter(({ report }) => report.services.includes(service));
        const seen =
          queues.get(rpcQueue(service)) != null ||
          everServed.has(service) ||
          edgeEnds.has(service) ||
          served.has(service);
        if (!seen) continue;
        const apps = [...appServices]
          .filter(([, set]) => set.has(service))
          .map(([app]) => app)
          .sort();
        const methods = [...(served.get(service) ?? new Map<string, Tally>())].sort((a, b) => a[0].localeCompare(b[0]));
        const total = new Tally();
        for (const [, tally] of methods) total.merge(tally);
        const incoming = [...edges.values()].filter((e) => e.to === service && e.kind === 'rpc');
        const groupViews: GroupView[] = [...groups]
          .filter(([, g]) => nodeOfApp(g.app) === service)
          .map(([group, g]) => groupView(group, g.broadcast, groupTallies.get(group), queueView));
        const instanceCount = queue?.exists ? queue.consumers : reporting.length;
        const { status, reason } = nodeStatus({
          service,
          queue,
          reporting: reporting.length,
          served: total,
          incoming: incoming.map((e) => e.total),
          breakers: breakers.filter((b) => b.targetNode === service && b.state !== 'closed'),
        });
        nodes.push({
          id: service,
          kind: 'service',
          label: apps.length > 0 ? apps.join(', ') : shortName(service),
          service,
          apps,
          status,
          reason,
          instances: instanceCount,
          instanceList: reporting.map(instanceView),
          queue,
          deadLetterQueue: queueView(rpcDeadQueue(service)),
          rate: round(total.rate),
          errorRate: round(total.errorRate),
          faultRate: round(total.faultRate),
          p99Ms: total.quantile(0.99),
          methods: methods.map(([method, tally]) => tally.methodView(method)),
          groups: groupViews,
        });
      }
      const clientApps = new Set(
        [...liveInstances.map(({ report }) => report.app)].filter((app) => nodeOfApp(app).startsWith('app:')),
      );
      for (const id of activeEnds) if (id.startsWith('app:')) clientApps.add(id.slice(4));
      for (const app of [...clientApps].sort()) {
        const id = `app:${app}`;
        const reporting = liveInstances.filter(({ report }) => report.app === app);
        const outgoing = new Tally();
        for (const e of edges.values()) if (e.from === id && e.kind === 'rpc') outgoing.merge(e.total);
        nodes.push({
          id,
          kind: 'client',
          label: app,
          service: null,
          apps: [app],
          status: reporting.length > 0 ? 'healthy' : 'unknown',
          reason: reporting.length > 0 ? `${reporting.length} reporting` : 'not reporting (seen as a publisher)',
          instances: reporting.length,
          instanceList: reporting.map(instanceView),
          queue: null,
          deadLetterQueue: null,
          rate: round(outgoing.rate),
          errorRate: round(outgoing.errorRate),
          faultRate: round(outgoing.faultRate),
          p99Ms: outgoing.quantile(0.99),
          methods: [],
          groups: [...groups]
            .filter(([, g]) => nodeOfApp(g.app) === id)
            .map(([group, g]) => groupView(group, g.broadcast, groupTallies.get(group), queueView)),
        });
      }

      const shown = new Set(nodes.map((node) => node.id));
      const edgeViews: EdgeView[] = [...edges.entries()]
        .filter(([, e]) => shown.has(e.from) && shown.has(e.to))
        .map(([id, e]) => ({
          id,
          from: e.from,
          to: e.to,
          kind: e.kind,
          rate: round(e.total.rate),
          errorRate: round(e.total.errorRate),
          faultRate: round(e.total.faultRate),
          p99Ms: e.total.quantile(0.99),
          active: e.total.calls > 0,
          breaker:
            e.kind === 'rpc'
              ? breakers
                  .filter((b) => nodeOfApp(b.holder) === e.from && b.targetNode === e.to)
                  .reduce<BreakerStateName | null>((worst, b) => worstBreaker(worst ?? undefined, b.state), null)
              : null,
          methods: [...e.methods]
            .sort((a, b) => a[0].localeCompare(b[0]))
            .map(([method, tally]) => tally.methodView(method)),
          types: [...e.types].sort(),
        }))
        .sort((a, b) => a.id.localeCompare(b.id));
      const layout = layoutMesh(nodes, edgeViews);
      return {
        at,
        windowMs,
        nodes: nodes.map((node) => ({ ...node, ...(layout.positions.get(node.id) ?? { x: 0, y: 0 }) })),
        edges: edgeViews,
        breakers,
        deadLetters,
        notDeployed: [...contracts]
          .filter((service) => !shown.has(service) && queues.get(rpcQueue(service)) === null)
          .sort(),
        layout: { width: layout.width, height: layout.height, nodeWidth: NODE_WIDTH, nodeHeight: NODE_HEIGHT },
        queuesAt,
      };
    },
  };
}

function groupView(
  group: string,
  broadcast: boolean,
  counted: GroupTally | undefined,
  queueView: (name: string) => QueueView | null,
): GroupView {
  return {
    group,
    broadcast,
    queue: broadcast ? null : queueView(groupQueue(group)),
    deadLetterQueue: queueView(groupDeadQueue(group)),
    rate: round(counted?.tally.rate ?? 0),
    retried: counted?.retried ?? 0,
    deadLettered: counted?.deadLettered ?? 0,
    p99Ms: counted?.tally.quantile(0.99) ?? null,
  };
}

/** An instance is forgotten after missing three reports (at least 2 s past the next one due). */
function expiryMs(intervalMs: number): number {
  return Math.max(3 * intervalMs, intervalMs + 2000);
}

/** `shop.orders.v1.OrderService` → `OrderService`. */
function shortName(service: string): string {
  return service.slice(service.lastIndexOf('.') + 1);
}
