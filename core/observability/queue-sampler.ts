/**
 * Samples the depth and consumer count of a server's service queues into the
 * `warren_queue_messages` / `warren_queue_consumers` gauges, with a passive
 * declare on a timer that never keeps the process alive.
 */
import type { Logger } from './logger.js';
import type { WarrenMetrics } from './metrics.js';

/** The part of an AMQP channel a sample uses: a passive declare, then close. */
export interface QueueCheckChannel {
  checkQueue(queue: string): Promise<{ readonly messageCount: number; readonly consumerCount: number }>;
  close(): Promise<void>;
}

/** A transport that opens plain channels for side traffic (the AMQP transport's `openChannel`). */
export interface QueueInspector {
  openChannel(signal?: AbortSignal): Promise<QueueCheckChannel>;
}

/** True when `transport` can be sampled. */
export function isQueueInspector(transport: unknown): transport is QueueInspector {
  return (
    typeof transport === 'object' &&
    transport !== null &&
    typeof (transport as { openChannel?: unknown }).openChannel === 'function'
  );
}

/** A running sampler. */
export interface QueueSampler {
  /** Stops the timer (a sample under way finishes quietly). */
  stop(): void;
}

/**
 * Samples `queues` now and then every `metrics.queueSampleIntervalMs`: one
 * channel per round, a passive declare (`checkQueue`) per queue, closed
 * after. A failed sample (broker down, queue deleted) is logged at debug and
 * leaves the last values in place.
 */
export function startQueueSampler(
  inspector: QueueInspector,
  queues: readonly string[],
  metrics: WarrenMetrics,
  logger: Logger,
): QueueSampler {
  let stopped = false;
  let running = false;
  // ends a round waiting for a reconnection when the sampler stops (no timer of its own left behind)
  const stopping = new AbortController();
  const sample = async (): Promise<void> => {
    if (running || stopped) return;
    running = true;
    let channel: QueueCheckChannel | undefined;
    try {
      for (const queue of queues) {
        try {
          // a failed passive declare closes the channel: open another for the next queue
          channel ??= await inspector.openChannel(stopping.signal);
          const ok = await channel.checkQueue(queue);
          if (!stopped) metrics.queueSample(queue, ok.messageCount, ok.consumerCount);
        } catch (error) {
          await channel?.close().catch(() => undefined);
          channel = undefined;
          if (stopped) return;
          logger.debug({ queue, err: error }, 'queue sample failed');
        }
      }
    } finally {
      running = false;
      await channel?.close().catch(() => undefined);
    }
  };
  void sample();
  const timer = setInterval(() => void sample(), metrics.queueSampleIntervalMs);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
      stopping.abort();
    },
  };
}
