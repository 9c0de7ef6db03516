import { Code } from '../protocol/code.js';
import { createMemoryEvents } from './memory-events.js';
import { RpcError } from '../protocol/rpc-error.js';
import type {
  Consumer,
  Delivery,
  DeliveryHandler,
  ServeOptions,
  Transport,
  WireReply,
  WireRequest,
} from '../transport.js';
import { pickConsumer } from './round-robin.js';

/** Options of {@link createMemoryTransport}. */
export interface MemoryTransportOptions {
  /** Identity stamped on requests, as the broker's `user_id` would be. Default `"memory"`. */
  readonly userId?: string;
}

interface Message {
  readonly request: WireRequest;
  redelivered: boolean;
  readonly answer: (reply: WireReply) => void;
  readonly isWaiting: () => boolean;
}

interface MemoryConsumer {
  readonly handler: DeliveryHandler;
  readonly prefetch: number;
  inFlight: number;
  readonly settled: Set<Promise<void>>;
}

interface Queue {
  readonly consumers: MemoryConsumer[];
  readonly backlog: Message[];
  next: number;
}

/**
 * An in-process transport with the AMQP transport's semantics, for unit tests
 * of service logic without a broker: a queue per service that exists once a
 * server has served it (UNAVAILABLE before), competing consumers bounded by
 * prefetch, requests dropped when their deadline passes while queued, and
 * redelivery (flagged) of requests an instance abandoned on close.
 */
export function createMemoryTransport(options: MemoryTransportOptions = {}): Transport {
  const userId = options.userId ?? 'memory';
  const queues = new Map<string, Queue>();
  const events = createMemoryEvents();
  let closed = false;

  function pump(queue: Queue): void {
    while (queue.backlog.length > 0) {
      const consumer = pickConsumer(queue);
      if (!consumer) return;
      const message = queue.backlog.shift()!;
      if (message.request.deadline <= Date.now()) continue; // expired in the queue, like a per-message TTL
      deliver(queue, consumer, message);
    }
  }

  function deliver(queue: Queue, consumer: MemoryConsumer, message: Message): void {
    consumer.inFlight++;
    const delivery: Delivery = {
      request: { ...message.request, body: message.request.body.slice() },
      unsupportedContentType: undefined,
      redelivered: message.redelivered,
      userId,
    };
    const done = Promise.resolve()
      .then(() => consumer.handler(delivery))
      .then(
        (reply) => {
          if (reply && message.isWaiting()) message.answer({ ...reply, body: reply.body.slice() });
        },
        () => {
          // abandoned: back to the queue, flagged, like an unacked message on a closed channel
          message.redelivered = true;
          queue.backlog.unshift(message);
        },
      )
      .finally(() => {
        consumer.inFlight--;
        consumer.settled.delete(done);
        pump(queue);
      });
    consumer.settled.add(done);
  }

  return {
    kind: 'memory',
    events,
    request(request: WireRequest, signal: AbortSignal): Promise<WireReply> {
      if (signal.aborted) return Promise.reject(signal.reason);
      if (closed) return Promise.reject(new RpcError(Code.UNAVAILABLE, 'transport is closed'));
      const queue = queues.get(request.service);
      if (!queue)
        return Promise.reject(
          new RpcError(Code.UNAVAILABLE, `no queue for service ${request.service}: no server has declared it`),
        );
      return new Promise<WireReply>((resolve, reject) => {
        let waiting = true;
        const onAbort = (): void => {
          waiting = false;
          const index = queue.backlog.indexOf(message);
          if (index >= 0) queue.backlog.splice(index, 1);
          reject(signal.reason);
        };
        const message: Message = {
          request: { ...request, body: request.body.slice() },
          redelivered: false,
          isWaiting: () => waiting,
          answer: (reply) => {
            waiting = false;
            signal.removeEventListener('abort', onAbort);
            resolve(reply);
          },
        };
        signal.addEventListener('abort', onAbort, { once: true });
        queue.backlog.push(message);
        pump(queue);
      });
    },
    async consumers(service: string) {
      return queues.get(service)?.consumers.length;
    },
    async serve(service: string, serveOptions: ServeOptions, handler: DeliveryHandler): Promise<Consumer> {
      if (closed) throw new RpcError(Code.UNAVAILABLE, 'transport is closed');
      let queue = queues.get(service);
      if (!queue) {
        queue = { consumers: [], backlog: [], next: 0 };
        queues.set(service, queue);
      }
      const consumer: MemoryConsumer = { handler, prefetch: serveOptions.prefetch, inFlight: 0, settled: new Set() };
      queue.consumers.push(consumer);
      pump(queue);
      const owner = queue;
      return {
        async close() {
          const index = owner.consumers.indexOf(consumer);
          if (index >= 0) owner.consumers.splice(index, 1);
          while (consumer.settled.size > 0) await Promise.all([...consumer.settled]);
          pump(owner);
        },
      };
    },
    async close() {
      closed = true;
      await events.close();
    },
  };
}
