import type { EventContext, EventHandler } from '../event-context.js';

/**
 * Where handled message ids are remembered. The default is per process; for
 * exactly-once effects across the instances of a group, keep ids where the
 * handler keeps its results (a table with a unique key), in the same
 * transaction when possible.
 */
export interface DedupStore {
  has(messageId: string): boolean | Promise<boolean>;
  add(messageId: string): void | Promise<void>;
}

/** Default ids an in-memory store remembers. */
export const DEFAULT_DEDUP_ENTRIES = 100_000;

/**
 * An in-memory store remembering the last `maxEntries` ids (default
 * {@link DEFAULT_DEDUP_ENTRIES}), oldest forgotten first.
 */
export function createMemoryDedupStore(maxEntries: number = DEFAULT_DEDUP_ENTRIES): DedupStore {
  const ids = new Set<string>();
  return {
    has: (messageId) => ids.has(messageId),
    add(messageId) {
      ids.delete(messageId);
      ids.add(messageId);
      if (ids.size > maxEntries) ids.delete(ids.values().next().value!);
    },
  };
}

/**
 * Wraps a handler so each `message_id` is handled once: delivery is
 * at-least-once (a broker redelivers after a lost ack, a publisher retries
 * after a lost confirm), so handlers with effects should be wrapped. An id is
 * remembered only after the handler succeeds, so failed attempts are still
 * retried and replayed; a copy arriving while the first still runs waits for
 * it. Default store: {@link createMemoryDedupStore}.
 */
export function deduplicate<M>(
  handler: EventHandler<M>,
  store: DedupStore = createMemoryDedupStore(),
): EventHandler<M> {
  const running = new Map<string, Promise<unknown>>();
  return async function deduplicated(message: M, ctx: EventContext): Promise<void> {
    const id = ctx.messageId;
    for (;;) {
      const earlier = running.get(id);
      if (earlier) {
        await earlier.catch(() => undefined);
        continue;
      }
      const seen = await store.has(id);
      if (running.has(id)) continue; // another copy started while the store answered
      if (seen) return;
      break;
    }
    const run = (async () => {
      await handler(message, ctx);
      await store.add(id);
    })();
    running.set(id, run);
    try {
      await run;
    } finally {
      running.delete(id);
    }
  };
}
