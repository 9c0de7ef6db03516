import { AsyncResource } from 'node:async_hooks';
import { Code } from '../protocol/code.js';
import { RpcError } from '../protocol/rpc-error.js';
import type {
  DeadLetter,
  EventConsumer,
  EventDelivery,
  EventDeliveryHandler,
  EventOutcome,
  EventQueueSpec,
  EventTransport,
  ReplayResult,
  WireEvent,
} from '../event-transport.js';
import { broadcastQueue, groupDeadLetterQueue, groupQueue, topicMatches } from '../protocol/event-names.js';
import { pickConsumer } from './round-robin.js';

interface Message {
  readonly event: WireEvent;
  readonly attempts: number;
  redelivered: boolean;
}

interface MemoryConsumer {
  readonly handler: EventDeliveryHandler;
  /** The subscriber's async context: handlers never see the publisher's (no RPC or event context leaks across). */
  readonly scope: AsyncResource;
  readonly prefetch: number;
  inFlight: number;
  readonly settled: Set<Promise<void>>;
}

/** A FIFO with O(1) take (Array#shift copies once a backlog grows large). */
class Backlog {
  private items: Message[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(message: Message): void {
    this.items.push(message);
  }

  take(): Message {
    const message = this.items[this.head++]!;
    if (this.head > 1_024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return message;
  }
}

interface Queue {
  readonly name: string;
  readonly bindings: Set<string>;
  readonly autoDelete: boolean;
  readonly consumers: MemoryConsumer[];
  readonly backlog: Backlog;
  next: number;
}

/**
 * The memory transport's events: the AMQP topology's semantics in process,
 * for unit tests without a broker. Topic bindings with `*`/`#`, a durable
 * queue per group that keeps events while nobody consumes it, auto-delete
 * broadcast queues, competing consumers bounded by prefetch, retries after
 * real timers, a dead-letter list per group, FAILED_PRECONDITION for a
 * mandatory publish nothing is bound to. Bodies are copied both ways.
 */
export function createMemoryEvents(): EventTransport {
  const queues = new Map<string, Queue>();
  const deadLetters = new Map<string, DeadLetter[]>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  function enqueue(queue: Queue, message: Message): void {
    queue.backlog.push(message);
    pump(queue);
  }

  function pump(queue: Queue): void {
    while (queue.backlog.size > 0) {
      const consumer = pickConsumer(queue);
      if (!consumer) return;
      deliver(queue, consumer, queue.backlog.take());
    }
  }

  function deliver(queue: Queue, consumer: MemoryConsumer, message: Message): void {
    consumer.inFlight++;
    const delivery: EventDelivery = {
      event: { ...message.event, body: message.event.body.slice(), metadata: { ...message.event.metadata } },
      unsupportedContentType: undefined,
      attempts: message.attempts,
      redelivered: message.redelivered,
      queue: queue.name,
    };
    const done = Promise.resolve()
      .then(() => consumer.scope.runInAsyncScope(() => consumer.handler(delivery)))
      .catch((error: unknown): EventOutcome => ({
        kind: 'dead',
        attempts: message.attempts + 1,
        reason: RpcError.from(error).message,
      }))
      .then((outcome) => settle(queue, message, outcome))
      .finally(() => {
        consumer.inFlight--;
        consumer.settled.delete(done);
        pump(queue);
      });
    consumer.settled.add(done);
  }

  function settle(queue: Queue, message: Message, outcome: EventOutcome): void {
    if (outcome.kind === 'ack') return;
    if (outcome.kind === 'retry') {
      const timer = setTimeout(() => {
        timers.delete(timer);
        const target = queues.get(queue.name); // gone (broadcast instance left): dropped, like the broker does
        if (target) enqueue(target, { event: message.event, attempts: outcome.attempts, redelivered: false });
      }, outcome.delayMs);
      timers.add(timer);
      return;
    }
    const group = groupOf(queue.name);
    const list = deadLetters.get(group) ?? [];
    list.push({
      event: message.event,
      reason: outcome.reason,
      attempts: outcome.attempts,
      deadAt: Date.now(),
      queue: queue.name,
    });
    deadLetters.set(group, list);
  }

  function groupOf(queueName: string): string {
    return queueName.slice('events.'.length).split('.', 1)[0]!;
  }

  function assertOpen(): void {
    if (closed) throw new RpcError(Code.UNAVAILABLE, 'transport is closed');
  }

  function deadListOf(group: string): DeadLetter[] {
    const list = deadLetters.get(group);
    if (!list)
      throw new RpcError(
        Code.NOT_FOUND,
        `no dead-letter queue ${groupDeadLetterQueue(group)}: no subscriber of group ${group} has declared it`,
      );
    return list;
  }

  return {
    async publish(event, options) {
      assertOpen();
      const targets = [...queues.values()].filter((queue) =>
        [...queue.bindings].some((pattern) => topicMatches(pattern, event.type)),
      );
      if (targets.length === 0 && options.mandatory) {
        throw new RpcError(
          Code.FAILED_PRECONDITION,
          `no queue is bound for event ${event.type} (NO_ROUTE): no subscriber group would receive it`,
        );
      }
      const copy: WireEvent = { ...event, body: event.body.slice(), metadata: { ...event.metadata } };
      for (const queue of targets) enqueue(queue, { event: copy, attempts: 0, redelivered: false });
    },
    async subscribe(spec: EventQueueSpec, handler: EventDeliveryHandler): Promise<EventConsumer> {
      assertOpen();
      const name = spec.broadcast ? broadcastQueue(spec.group, spec.instance) : groupQueue(spec.group);
      let queue = queues.get(name);
      if (!queue) {
        queue = {
          name,
          bindings: new Set(),
          autoDelete: spec.broadcast,
          consumers: [],
          backlog: new Backlog(),
          next: 0,
        };
        queues.set(name, queue);
      } else if (spec.broadcast) {
        throw new RpcError(Code.FAILED_PRECONDITION, `queue ${name} is in use by another consumer (exclusive)`);
      }
      if (!deadLetters.has(spec.group)) deadLetters.set(spec.group, []);
      for (const pattern of spec.patterns) queue.bindings.add(pattern);
      const consumer: MemoryConsumer = {
        handler,
        scope: new AsyncResource('warren.memory-event-consumer'),
        prefetch: spec.prefetch,
        inFlight: 0,
        settled: new Set(),
      };
      queue.consumers.push(consumer);
      pump(queue);
      const owner = queue;
      return {
        queue: name,
        async bind(pattern) {
          owner.bindings.add(pattern);
        },
        async close() {
          const index = owner.consumers.indexOf(consumer);
          if (index < 0) return;
          owner.consumers.splice(index, 1);
          while (consumer.settled.size > 0) await Promise.all([...consumer.settled]);
          if (owner.autoDelete && owner.consumers.length === 0) queues.delete(owner.name);
          else pump(owner);
        },
      };
    },
    async deadLetters(group, limit) {
      return deadListOf(group)
        .slice(0, limit)
        .map((letter) => ({ ...letter, event: { ...letter.event, body: letter.event.body.slice() } }));
    },
    async replay(group, limit): Promise<ReplayResult> {
      const list = deadListOf(group);
      const taken = list.splice(0, limit);
      let replayed = 0;
      for (const letter of taken) {
        const queue = queues.get(letter.queue);
        if (queue) {
          enqueue(queue, { event: letter.event, attempts: 0, redelivered: false });
          replayed++;
        } else {
          list.push(letter);
        }
      }
      return { replayed, kept: taken.length - replayed };
    },
    async close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
