import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { type BreakerState } from '../core/index.js';

/**
 * The gateway's Prometheus metrics, in a registry of its own (so several
 * gateways in one process, as in tests, never clash):
 *
 * | metric | labels | what |
 * |---|---|---|
 * | `warren_gateway_http_requests_total` | route, method, status | answered requests (`status` 499: client left first) |
 * | `warren_gateway_http_request_duration_seconds` | route, method | latency histogram |
 * | `warren_gateway_http_in_flight_requests` | | requests being handled now |
 * | `warren_gateway_rpc_calls_total` | service, code | RPCs actually published, by outcome |
 * | `warren_gateway_breaker_state` | service | 0 closed, 1 half-open, 2 open |
 * | `warren_gateway_breaker_transitions_total` | service, state | state changes |
 * | `warren_gateway_breaker_rejections_total` | service | calls refused by an open breaker |
 * | `warren_gateway_broker_connected` | | 1 while the broker connection is up |
 * | `warren_gateway_process_*`, `warren_gateway_nodejs_*` | | prom-client default process metrics |
 *
 * `route` is the route's label (`GET /v1/things/{id}`, `POST /rpc/pkg.S/M`),
 * never the raw URL, so cardinality stays bounded; unknown paths are
 * `unmatched`.
 */
export interface GatewayMetrics {
  readonly registry: Registry;
  /** Records one answered request. */
  request(route: string, method: string, status: number, seconds: number): void;
  inFlight(delta: number): void;
  rpcCall(service: string, code: string): void;
  /** Sets the state gauge; counts a transition unless it is the breaker's creation. */
  breakerState(service: string, state: BreakerState, transition: boolean): void;
  breakerRejected(service: string): void;
}

const STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** Creates the metrics; `connected` is read at scrape time. */
export function createGatewayMetrics(connected: () => boolean): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'warren_gateway_' });
  const requests = new Counter({
    name: 'warren_gateway_http_requests_total',
    help: 'HTTP requests answered, by route, method and status',
    labelNames: ['route', 'method', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'warren_gateway_http_request_duration_seconds',
    help: 'HTTP request latency, from the first byte of the request to the last of the response',
    labelNames: ['route', 'method'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: 'warren_gateway_http_in_flight_requests',
    help: 'HTTP requests being handled now',
    registers: [registry],
  });
  const rpcCalls = new Counter({
    name: 'warren_gateway_rpc_calls_total',
    help: 'RPCs published to the broker, by service and outcome code',
    labelNames: ['service', 'code'],
    registers: [registry],
  });
  const breakerState = new Gauge({
    name: 'warren_gateway_breaker_state',
    help: 'Circuit breaker state per service: 0 closed, 1 half-open, 2 open',
    labelNames: ['service'],
    registers: [registry],
  });
  const transitions = new Counter({
    name: 'warren_gateway_breaker_transitions_total',
    help: 'Circuit breaker state changes, by service and new state',
    labelNames: ['service', 'state'],
    registers: [registry],
  });
  const rejections = new Counter({
    name: 'warren_gateway_breaker_rejections_total',
    help: 'Calls answered 503 at once by an open circuit breaker',
    labelNames: ['service'],
    registers: [registry],
  });
  new Gauge({
    name: 'warren_gateway_broker_connected',
    help: '1 while the broker connection is up',
    registers: [registry],
    collect() {
      this.set(connected() ? 1 : 0);
    },
  });

  // Label children cached per key: the hot path skips prom-client's label hashing.
  const requestChildren = new Map<string, { count: Counter.Internal; time: Histogram.Internal<string> }>();
  return {
    registry,
    request(route, method, status, seconds) {
      const key = `${route}\u0000${method}\u0000${status}`;
      let child = requestChildren.get(key);
      if (!child) {
        child = {
          count: requests.labels({ route, method, status: String(status) }),
          time: duration.labels({ route, method }),
        };
        requestChildren.set(key, child);
      }
      child.count.inc();
      child.time.observe(seconds);
    },
    inFlight(delta) {
      inFlight.inc(delta);
    },
    rpcCall(service, code) {
      rpcCalls.inc({ service, code });
    },
    breakerState(service, state, transition) {
      breakerState.set({ service }, STATE_VALUE[state]);
      if (transition) transitions.inc({ service, state });
    },
    breakerRejected(service) {
      rejections.inc({ service });
    },
  };
}
