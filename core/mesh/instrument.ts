import { Code } from '../protocol/code.js';
import type { EventDeliveryHandler, EventOutcome, EventTransport } from '../event-transport.js';
import { HEALTH_CHECK_PATH } from '../protocol/rpc-names.js';
import { RpcError } from '../protocol/rpc-error.js';
import type { Consumer, DeliveryHandler, Transport, WireReply, WireRequest } from '../transport.js';
import type { MeshStats } from './stats.js';

/** What an instrumented transport tells its reporter besides the counters. */
export interface InstrumentHooks {
  /** The process started (+1) or stopped (-1) consuming a service queue. */
  serving(service: string, delta: 1 | -1): void;
  /** The process started (+1) or stopped (-1) consuming an event group. */
  subscribed(group: string, broadcast: boolean, delta: 1 | -1): void;
}

/**
 * A transport that counts what goes through it into `stats` and otherwise
 * is `inner` (every other property, `connected`, `stats()`, `openChannel`…,
 * is inherited from it). Counting at the transport rather than in
 * interceptors sees what interceptors cannot: requests refused before any
 * handler runs (UNIMPLEMENTED, ABORTED redeliveries, undecodable bodies),
 * requests dropped at their deadline, every attempt of a retried call, and
 * event deliveries with their outcome and publisher; and it costs servers
 * nothing extra (an interceptor makes the dispatcher create an AbortSignal
 * per call). Health checks are not counted.
 *
 * - `request`: the callee method, the reply's status (or the rejection's
 *   code) and the round trip, per attempt.
 * - `serve`: the method, the reply's status (no reply: DEADLINE_EXCEEDED;
 *   abandoned at shutdown: UNAVAILABLE) and the time to the reply.
 * - `events.subscribe`: per group, type and publisher, the handler's
 *   outcome (ack, retry, dead) and time; dead letters are noted.
 */
export function instrumentTransport<T extends Transport>(inner: T, stats: MeshStats, hooks: InstrumentHooks): T {
  const request = async (wire: WireRequest, signal: AbortSignal): Promise<WireReply> => {
    if (wire.method === HEALTH_CHECK_PATH) return inner.request(wire, signal);
    const started = performance.now();
    try {
      const reply = await inner.request(wire, signal);
      stats.recordCalled(wire.service, wire.method, reply.status, performance.now() - started);
      return reply;
    } catch (error) {
      stats.recordCalled(wire.service, wire.method, codeOf(error), performance.now() - started);
      throw error;
    }
  };

  const serve: Transport['serve'] = async (service, options, handler) => {
    const own = `${service}/`;
    const counted: DeliveryHandler = async (delivery) => {
      const wire = delivery.request.method;
      if (wire === HEALTH_CHECK_PATH) return handler(delivery);
      // the method name comes from the caller: one that is not this service's is counted as `<service>/?`
      const method = wire.startsWith(own) ? wire : `${own}?`;
      const started = performance.now();
      try {
        const reply = await handler(delivery);
        stats.recordServed(
          service,
          method,
          reply === null ? Code.DEADLINE_EXCEEDED : reply.status,
          performance.now() - started,
        );
        return reply;
      } catch (error) {
        stats.recordServed(service, method, Code.UNAVAILABLE, performance.now() - started);
        throw error;
      }
    };
    const consumer = await inner.serve(service, options, counted);
    hooks.serving(service, 1);
    let open = true;
    const wrapped: Consumer = {
      async close() {
        try {
          await consumer.close();
        } finally {
          if (open) hooks.serving(service, -1);
          open = false;
        }
      },
    };
    return wrapped;
  };

  const properties: PropertyDescriptorMap = { request: { value: request }, serve: { value: serve } };
  if (inner.events) properties['events'] = { value: instrumentEvents(inner.events, stats, hooks) };
  return Object.create(inner, properties) as T;
}

function instrumentEvents<E extends EventTransport>(inner: E, stats: MeshStats, hooks: InstrumentHooks): E {
  const subscribe: EventTransport['subscribe'] = async (spec, handler) => {
    const counted: EventDeliveryHandler = async (delivery) => {
      const { event } = delivery;
      const started = performance.now();
      let outcome: EventOutcome;
      try {
        outcome = await handler(delivery);
      } catch (error) {
        outcome = { kind: 'dead', attempts: delivery.attempts + 1, reason: RpcError.from(error).message };
        settle(outcome);
        throw error;
      }
      settle(outcome);
      return outcome;

      function settle(settled: EventOutcome): void {
        stats.recordHandled(spec.group, event.type, event.publisher, settled.kind, performance.now() - started);
        if (settled.kind === 'dead') {
          stats.noteDeadLetter({
            group: spec.group,
            type: event.type,
            messageId: event.messageId,
            reason: settled.reason.slice(0, 1024),
            atMs: Date.now(),
            publisher: event.publisher,
            attempts: settled.attempts,
          });
        }
      }
    };
    const consumer = await inner.subscribe(spec, counted);
    hooks.subscribed(spec.group, spec.broadcast, 1);
    let open = true;
    return {
      queue: consumer.queue,
      bind: (pattern: string) => consumer.bind(pattern),
      async close() {
        try {
          await consumer.close();
        } finally {
          if (open) hooks.subscribed(spec.group, spec.broadcast, -1);
          open = false;
        }
      },
    };
  };
  return Object.create(inner, { subscribe: { value: subscribe } }) as E;
}

function codeOf(error: unknown): Code {
  return error instanceof RpcError ? error.code : RpcError.from(error, Code.UNKNOWN).code;
}
