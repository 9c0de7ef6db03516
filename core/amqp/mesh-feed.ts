import type { Channel, ConsumeMessage } from 'amqplib';
import { InstanceReport } from '../../gen/warren/mesh/v1/mesh.js';
import type { Logger } from '../observability/logger.js';
import type { ChannelOpener } from './mesh-sink.js';
import { declareMeshViewerQueue } from './mesh-topology.js';
import type { QueueState } from './queue-inspector.js';
import { MESH_REPORT_TYPE } from '../protocol/mesh-names.js';

/** Largest report taken in; bigger ones are dropped undecoded. */
const MAX_REPORT_BYTES = 512 * 1024;
/** Pause before consuming again after the channel was lost. */
const RETRY_MS = 1_000;
/** A queue found missing is checked again after this (each miss costs a channel: the broker closes it). */
const ABSENT_RECHECK_MS = 5_000;
/** Longest queue name AMQP allows (a short string). */
const MAX_QUEUE_NAME_BYTES = 255;

/** What the feed fills: the gateway's mesh model. */
export interface MeshFeedTarget {
  /** Takes one decoded instance report. */
  ingest(report: InstanceReport): void;
  /** Queue names whose counts the page shows. */
  watchedQueues(): Iterable<string>;
  /** Counts by queue; `null` for a queue that does not exist. */
  setQueues(states: ReadonlyMap<string, QueueState | null>): void;
}

/** The broker side of the mesh page. */
export interface MeshFeed {
  /** Checks every watched queue now (passive declares) and hands the counts to the model. */
  checkQueues(): Promise<void>;
  /** Stops consuming and checking; closes its channels. */
  close(): Promise<void>;
}

/**
 * Feeds the model from the broker, over side channels of the gateway's
 * connection: a consumer of its own viewer queue on `warren.mesh` (no-ack;
 * re-established after a reconnection) decodes reports into the model, and
 * `checkQueues()` reads message and consumer counts with passive declares,
 * which create and change nothing. Missing queues close the channel (404),
 * so they are re-checked only every 5 s.
 */
export function startMeshFeed(transport: ChannelOpener, model: MeshFeedTarget, logger: Logger): MeshFeed {
  const stop = new AbortController();
  let consuming: Channel | undefined;
  let checking: Promise<Channel> | undefined;
  let running: Promise<void> | undefined;
  const absentSince = new Map<string, number>();

  const take = (message: ConsumeMessage | null): void => {
    if (!message) return;
    if (message.properties.type !== MESH_REPORT_TYPE || message.content.byteLength > MAX_REPORT_BYTES) return;
    try {
      model.ingest(InstanceReport.decode(message.content));
    } catch (error) {
      logger.debug({ err: error, app: message.properties.appId }, 'undecodable mesh report dropped');
    }
  };

  const consume = async (): Promise<void> => {
    while (!stop.signal.aborted) {
      try {
        const channel = await transport.openChannel(stop.signal);
        consuming = channel;
        const closed = new Promise<void>((resolve) => channel.once('close', () => resolve()));
        const queue = await declareMeshViewerQueue(channel);
        await channel.consume(queue, take, { noAck: true });
        if (stop.signal.aborted) await channel.close().catch(() => undefined);
        await closed;
      } catch (error) {
        if (stop.signal.aborted) return;
        logger.debug({ err: error }, 'mesh reports: consumer lost; retrying');
      }
      if (stop.signal.aborted) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, RETRY_MS);
        stop.signal.addEventListener('abort', done, { once: true });
        function done(): void {
          clearTimeout(timer);
          stop.signal.removeEventListener('abort', done);
          resolve();
        }
      });
    }
  };
  const loop = consume();

  const checker = (): Promise<Channel> => {
    if (!checking) {
      const opening = transport.openChannel(AbortSignal.any([stop.signal, AbortSignal.timeout(5_000)]));
      opening.then(
        (channel) =>
          channel.once('close', () => {
            if (checking === opening) checking = undefined;
          }),
        () => {
          if (checking === opening) checking = undefined;
        },
      );
      checking = opening;
    }
    return checking;
  };

  const check = async (): Promise<void> => {
    const now = Date.now();
    const states = new Map<string, QueueState | null>();
    for (const name of model.watchedQueues()) {
      if (stop.signal.aborted) return;
      if (Buffer.byteLength(name) > MAX_QUEUE_NAME_BYTES) continue;
      const since = absentSince.get(name);
      if (since !== undefined && now - since < ABSENT_RECHECK_MS) continue;
      const channel = await checker();
      try {
        const ok = await channel.checkQueue(name);
        absentSince.delete(name);
        states.set(name, { messages: ok.messageCount, consumers: ok.consumerCount });
      } catch (error) {
        if (checking !== undefined && (await checking.catch(() => undefined)) === channel) checking = undefined; // the broker closes the channel on any failure
        if ((error as { code?: unknown }).code !== 404) throw error;
        absentSince.set(name, now);
        states.set(name, null);
      }
    }
    model.setQueues(states);
  };

  return {
    checkQueues() {
      running ??= check()
        .catch((error: unknown) => logger.debug({ err: error }, 'mesh: queue check failed'))
        .finally(() => {
          running = undefined;
        });
      return running;
    },
    async close() {
      stop.abort();
      await consuming?.close().catch(() => undefined);
      await loop;
      await running;
      const open = checking;
      checking = undefined;
      if (open) await (await open.catch(() => undefined))?.close().catch(() => undefined);
    },
  };
}
