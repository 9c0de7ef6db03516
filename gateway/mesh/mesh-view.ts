/**
 * The live mesh as `/mesh.json` and `/mesh/stream` serve it, and as the
 * page draws it. Rates are per second over the model's window (default
 * 10 s); latencies are milliseconds read from merged histograms (within
 * 19 %); `null` means "no calls in the window".
 */

/** How a node is doing, worst first: `down`, `degraded`, `unknown`, `healthy`. */
export type NodeStatus = 'healthy' | 'degraded' | 'down' | 'unknown';

/** A circuit breaker state. */
export type BreakerStateName = 'closed' | 'half-open' | 'open';

/** A queue as the last passive declare saw it. */
export interface QueueView {
  readonly name: string;
  /** False when the queue does not exist. */
  readonly exists: boolean;
  /** Messages ready in it. */
  readonly messages: number;
  readonly consumers: number;
}

/** One method's calls over the window (served by a node, or sent along an edge). */
export interface MethodView {
  /** `package.Service/Method`. */
  readonly method: string;
  /** The part after the slash. */
  readonly name: string;
  readonly calls: number;
  readonly rate: number;
  /** Share of calls that failed (any non-OK code), 0–1. */
  readonly errorRate: number;
  /** Share of calls that failed with a server fault (UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL…), 0–1. */
  readonly faultRate: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** Failures by code name, most frequent first. */
  readonly errors: readonly { readonly code: string; readonly count: number }[];
}

/** An event group consumed by a node. */
export interface GroupView {
  readonly group: string;
  readonly broadcast: boolean;
  /** `events.<group>` (absent for broadcast groups). */
  readonly queue: QueueView | null;
  /** `events.<group>.dead`. */
  readonly deadLetterQueue: QueueView | null;
  /** Deliveries handled per second. */
  readonly rate: number;
  readonly retried: number;
  readonly deadLettered: number;
  readonly p99Ms: number | null;
}

/** A reporting process. */
export interface InstanceView {
  readonly id: string;
  readonly app: string;
  /** Time since its last report. */
  readonly lastReportAgoMs: number;
  readonly uptimeMs: number;
}

/** A node of the graph: a service (its queue) or a calling app that serves nothing (the gateway, a script). */
export interface NodeView {
  /** The full service name, or `app:<name>` for a client. */
  readonly id: string;
  readonly kind: 'service' | 'client';
  /** What to call it: the app name(s) serving it, else the service's short name. */
  readonly label: string;
  /** Full service name (services only). */
  readonly service: string | null;
  readonly apps: readonly string[];
  readonly status: NodeStatus;
  /** Why, in a few words. */
  readonly reason: string;
  /** Consumers of its queue (the broker's word), else live reporting instances. */
  readonly instances: number;
  readonly instanceList: readonly InstanceView[];
  readonly queue: QueueView | null;
  readonly deadLetterQueue: QueueView | null;
  /** Calls served per second (clients: sent). */
  readonly rate: number;
  readonly errorRate: number;
  readonly faultRate: number;
  readonly p99Ms: number | null;
  readonly methods: readonly MethodView[];
  readonly groups: readonly GroupView[];
  /** Top-left corner in layout units. */
  readonly x: number;
  readonly y: number;
}

/** Calls (or events) from one node to another. */
export interface EdgeView {
  /** `<from>><to>` for calls, `<from>~><to>` for events. */
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly kind: 'rpc' | 'event';
  /** Calls (events delivered) per second; 0 when idle in the window. */
  readonly rate: number;
  readonly errorRate: number;
  readonly faultRate: number;
  readonly p99Ms: number | null;
  /** Traffic in the window (an idle edge is one seen earlier). */
  readonly active: boolean;
  /** The worst state of the caller's breakers toward the target, if it keeps any. */
  readonly breaker: BreakerStateName | null;
  /** Per method (calls) as the caller saw them. */
  readonly methods: readonly MethodView[];
  /** Event types carried (events). */
  readonly types: readonly string[];
}

/** A breaker some app keeps, worst state over its live instances. */
export interface BreakerView {
  readonly holder: string;
  readonly target: string;
  /** The node the target resolves to, if known. */
  readonly targetNode: string | null;
  readonly state: BreakerStateName;
}

/** An event a subscriber dead-lettered recently. */
export interface DeadLetterView {
  readonly group: string;
  readonly type: string;
  readonly messageId: string;
  readonly reason: string;
  readonly atMs: number;
  readonly publisher: string;
  readonly attempts: number;
  /** The subscriber's node. */
  readonly node: string;
}

/** The whole picture at one moment. */
export interface MeshView {
  /** When it was taken, ms since the epoch. */
  readonly at: number;
  readonly windowMs: number;
  readonly nodes: readonly NodeView[];
  readonly edges: readonly EdgeView[];
  readonly breakers: readonly BreakerView[];
  readonly deadLetters: readonly DeadLetterView[];
  /** Services of the contracts with no queue and no traffic. */
  readonly notDeployed: readonly string[];
  /** Size of the drawing and of a node box, layout units. */
  readonly layout: {
    readonly width: number;
    readonly height: number;
    readonly nodeWidth: number;
    readonly nodeHeight: number;
  };
  /** When queue depths were last read (null: not yet). */
  readonly queuesAt: number | null;
}
