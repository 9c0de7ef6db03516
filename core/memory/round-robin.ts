/** A consumer of an in-memory queue: how many deliveries it holds, and how many it may. */
export interface MemoryQueueConsumer {
  inFlight: number;
  readonly prefetch: number;
}

/**
 * The next consumer with room under its prefetch, round robin from where the
 * last pick stopped, as RabbitMQ shares a queue between competing consumers.
 * Shared by the memory transport (requests) and memory events (event groups).
 */
export function pickConsumer<C extends MemoryQueueConsumer>(queue: {
  readonly consumers: readonly C[];
  next: number;
}): C | undefined {
  for (let i = 0; i < queue.consumers.length; i++) {
    const consumer = queue.consumers[(queue.next + i) % queue.consumers.length]!;
    if (consumer.inFlight < consumer.prefetch) {
      queue.next = (queue.next + i + 1) % queue.consumers.length;
      return consumer;
    }
  }
  return undefined;
}
