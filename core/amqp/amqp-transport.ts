import type { Channel, ChannelModel } from 'amqplib';
import { Code } from '../protocol/code.js';
import { createAmqpEvents, type AmqpEvents } from './events/amqp-events.js';
import { defaultLogger, redactUrl, type Logger } from '../observability/logger.js';
import { RpcError } from '../protocol/rpc-error.js';
import { serviceQueue } from '../protocol/rpc-names.js';
import type { Consumer, DeliveryHandler, ServeOptions, Transport, WireReply, WireRequest } from '../transport.js';
import { brokerUrls } from './broker-urls.js';
import { ConnectionManager, type ReconnectOptions } from './connection-manager.js';
import { resolveQueueType, type QueueType } from './queue-type.js';
import { DEFAULT_FAILOVER_RETRY_MS, isRefused, refusedBackoffMs } from './refused-publish.js';
import { RequestChannel, type RequestChannelStats, type ServerUsers } from './rpc/request-channel.js';
import { serverUsersFromEnv } from '../security/server-users.js';
import { consumeService } from './rpc/service-consumer.js';
import { tlsFromEnv, tlsSocketOptions, type AmqpTlsOptions } from './tls.js';

/** Options of {@link connectAmqp}. */
export interface AmqpTransportOptions {
  /**
   * Broker URL, or several (cluster nodes; an array or a comma-separated
   * string) tried in turn when connecting and reconnecting, starting at a
   * random one. Default `AMQP_URL` from the environment, else
   * `amqp://guest:guest@127.0.0.1:5672`.
   */
  readonly url?: string | readonly string[] | undefined;
  /**
   * Type of the durable queues this process declares: service queues (unless
   * a server names its own), their dead-letter queues, event group queues and
   * theirs. `quorum` on a cluster, so a node loss loses no queued request or
   * event. Default `WARREN_QUEUE_TYPE` from the environment, else `classic`
   * (see core/amqp/queue-type.ts for why it is a switch and not inferred).
   */
  readonly queueType?: QueueType;
  /**
   * How long a publish the broker refused (nack) is tried again on a fresh
   * channel before the caller sees RESOURCE_EXHAUSTED: a quorum queue without
   * a leader refuses publishes for a moment after a node dies, and a RabbitMQ
   * 3.10 channel that met it keeps refusing (core/amqp/refused-publish.ts).
   * Default 10 000 ms when `queueType` resolves to `quorum`, else 0 (a refusal
   * then means a full queue and is reported at once).
   */
  readonly failoverRetryMs?: number;
  /** Heartbeat interval in seconds: how soon a dead or frozen peer is noticed. Default 10. */
  readonly heartbeatSeconds?: number;
  /** Name shown in the broker's connection list. Default `warren-<pid>`. */
  readonly connectionName?: string;
  /**
   * Stamp requests with the connection's user as AMQP `user_id`, which the
   * broker validates, so servers know who called. Default true.
   */
  readonly identity?: boolean;
  /**
   * TLS for `amqps://` URLs: CA, client certificate and key (files or PEM).
   * The broker's certificate is always verified. Default: from the
   * environment (`AMQP_CA_FILE`, `AMQP_CERT_FILE`, `AMQP_KEY_FILE`,
   * `AMQP_KEY_PASSPHRASE`, `AMQP_TLS_SERVERNAME`); with none of them,
   * `amqps://` trusts the system CAs. TLS settings with an `amqp://` URL are
   * refused (INVALID_ARGUMENT) rather than silently unused.
   */
  readonly tls?: AmqpTlsOptions;
  /** Extra socket options for amqplib (`timeout`, `keepAlive`, …); they win over the TLS ones. */
  readonly socketOptions?: Record<string, unknown>;
  /** Reconnection backoff. Default 100 ms doubling to 5 s, 50 % jitter. */
  readonly reconnect?: ReconnectOptions;
  /** Default: the process logger. */
  readonly logger?: Logger;
  /**
   * Which broker user serves each service: replies to calls of a service
   * that name one must carry it as their broker-validated `user_id`, else
   * the call fails with UNAUTHENTICATED (a forged reply). Derive it rather
   * than list it: `serverUsersFromPermissions()` reads the same config
   * `warren permissions apply` provisions users from. Default: derived from
   * the config named by `WARREN_PERMISSIONS_FILE` when set, else none checked.
   */
  readonly serverUsers?: ServerUsers | undefined;
}

/** Counters of the AMQP transport, for tests and metrics (diagnostic: what it holds right now). */
export interface AmqpTransportStats extends RequestChannelStats {
  /** Reconnections since connect. */
  reconnections: number;
  /** Calls and event publishes waiting for a lost connection to come back. */
  waitingForConnection: number;
  /** AMQP channels open on the current connection (0 while it is down). */
  channels: number;
  /** Service queues being consumed. */
  consumers: number;
  /** Events sent and waiting for the broker's confirm. */
  pendingPublishes: number;
}

/** The AMQP transport, with counters for tests and metrics. */
export interface AmqpTransport extends Transport {
  stats(): AmqpTransportStats;
  /** The (first) broker URL with its password redacted. */
  readonly url: string;
  /** Events on this connection (re-attached on every reconnection). */
  readonly events: AmqpEvents;
  /** True while a broker connection is up (readiness probes). */
  readonly connected: boolean;
  /**
   * The broker's reason while it blocks this connection's publishes (memory
   * or disk alarm: new calls and event publishes fail fast with UNAVAILABLE),
   * else undefined. RabbitMQ tells a connection when it next publishes.
   */
  readonly blocked: string | undefined;
  /**
   * A plain channel on the current connection (waiting for one while
   * reconnecting, until `signal` aborts), for side traffic that is neither
   * RPC nor events: mesh reports, queue inspection. The caller closes it;
   * it closes with its connection, so open another after a reconnection.
   * UNAVAILABLE once the transport is closed.
   */
  openChannel(signal?: AbortSignal): Promise<Channel>;
}

/** The local broker the README's quick start runs. */
export const DEFAULT_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

/**
 * Connects to RabbitMQ and returns the Warren transport over it: one
 * connection per process that reconnects by itself (backoff, jitter, URLs in
 * turn), a request channel for clients and one channel per served service,
 * all restored after a reconnection. While disconnected, new calls wait for
 * the connection up to their deadline; calls pending when it dropped fail at
 * once with UNAVAILABLE (idempotent ones are retried by the client). Rejects
 * with UNAVAILABLE and the redacted URL when no broker can be reached at all.
 */
export async function connectAmqp(options: AmqpTransportOptions = {}): Promise<AmqpTransport> {
  const given = options.url ?? process.env['AMQP_URL'] ?? DEFAULT_AMQP_URL;
  const urls = brokerUrls(given);
  const queueType = resolveQueueType(options.queueType);
  const failoverRetryMs = options.failoverRetryMs ?? (queueType === 'quorum' ? DEFAULT_FAILOVER_RETRY_MS : 0);
  const logger = (options.logger ?? defaultLogger()).child({ transport: 'amqp' });
  const manager = new ConnectionManager({
    urls,
    heartbeatSeconds: options.heartbeatSeconds ?? 10,
    connectionName: options.connectionName ?? `warren-${process.pid}`,
    socketOptions: { ...tlsSocketOptions(urls, options.tls ?? tlsFromEnv()), ...options.socketOptions },
    reconnect: options.reconnect ?? {},
    logger,
  });
  const first = await manager.start();
  const userId = options.identity === false ? undefined : userOf(urls[0]!);
  const serverUsers = options.serverUsers ?? serverUsersFromEnv();
  const consumers = new Set<Consumer>();
  const events = createAmqpEvents(first, {
    logger,
    userId,
    queueType,
    failoverRetryMs,
    connection: {
      whenConnected: (signal) => manager.whenConnected(signal),
      current: () => manager.current,
      blocked: () => manager.blocked,
    },
  });
  manager.onReconnect((model) => events.attach(model));
  let closing = false;
  let requests: { model: ChannelModel; channel: Promise<RequestChannel> } | undefined;
  const totals: RequestChannelStats = { pending: 0, lateReplies: 0 };
  let current: RequestChannel | undefined;

  const retired = new Set<RequestChannel>();
  /** A channel that had a publish refused: new calls go to a fresh one, it closes once its calls are done. */
  const retire = (refusedOn: RequestChannel): void => {
    if (current !== refusedOn) return;
    totals.lateReplies += refusedOn.stats().lateReplies;
    current = undefined;
    requests = undefined;
    retired.add(refusedOn);
    refusedOn.retire(() => retired.delete(refusedOn));
  };
  const requestChannel = (model: ChannelModel): Promise<RequestChannel> => {
    if (requests?.model !== model) {
      if (current) totals.lateReplies += current.stats().lateReplies;
      current = undefined;
      const channel = model
        .createConfirmChannel()
        .then((confirm) => RequestChannel.open(confirm, userId, logger, serverUsers));
      requests = { model, channel };
      channel.then(
        (opened) => {
          current = opened;
        },
        () => {
          if (requests?.channel === channel) requests = undefined;
        },
      );
    }
    return requests.channel;
  };

  const transport: AmqpTransport = {
    kind: 'amqp',
    url: redactUrl(urls[0]!),
    events,
    get connected() {
      return !closing && manager.current !== undefined;
    },
    get blocked() {
      return manager.blocked;
    },
    async request(request: WireRequest, signal: AbortSignal): Promise<WireReply> {
      if (closing) throw new RpcError(Code.UNAVAILABLE, 'transport is closed');
      const blocked = manager.blocked;
      if (blocked !== undefined)
        throw new RpcError(Code.UNAVAILABLE, `the broker is blocking publishers (${blocked}); try again later`);
      const refusedUntil = Date.now() + failoverRetryMs;
      for (let attempt = 1; ; attempt++) {
        const model = await manager.whenConnected(signal);
        let channel: RequestChannel;
        try {
          channel = await requestChannel(model);
        } catch (error) {
          throw RpcError.from(error, Code.UNAVAILABLE, 'could not open a channel to the broker');
        }
        try {
          return await channel.request(request, signal);
        } catch (error) {
          // refused, so not enqueued: safe to publish again, for any method (a quorum queue failing over)
          const backoff = refusedBackoffMs(attempt);
          if (!isRefused(error) || signal.aborted || Date.now() + backoff >= Math.min(refusedUntil, request.deadline))
            throw error;
          retire(channel);
          logger.debug({ service: request.service, attempt }, 'publish refused; trying again on a fresh channel');
          await new Promise((resolve) => setTimeout(resolve, backoff));
        }
      }
    },
    async serve(service: string, serveOptions: ServeOptions, handler: DeliveryHandler): Promise<Consumer> {
      if (closing) throw new RpcError(Code.UNAVAILABLE, 'transport is closed');
      const log = logger.child({ service });
      let stopped = false;
      // consumers of lost connections (or cancelled ones), still finishing handlers whose replies may not be sent
      const retiring = new Set<Promise<void>>();
      const replace = async (model: ChannelModel): Promise<void> => {
        const previous = incarnation;
        incarnation = await start(model);
        const done = previous.close().finally(() => retiring.delete(done));
        retiring.add(done);
      };
      // the broker cancelled the consumer (queue deleted, quorum leader lost): declare and consume again on the
      // current connection, backing off while that fails; a reconnection in between does the same through onReconnect
      let recovering = false;
      const attemptRecovery = (delayMs: number): void => {
        setTimeout(() => {
          const model = manager.current;
          if (stopped || model === undefined) {
            recovering = false;
            return;
          }
          replace(model).then(
            () => {
              recovering = false;
              log.info({ service }, 'consuming again after the broker cancelled the consumer');
            },
            (error: unknown) => {
              log.warn({ err: error }, 'could not consume again after a cancellation; retrying');
              attemptRecovery(Math.min(delayMs * 2, 5_000));
            },
          );
        }, delayMs).unref();
      };
      const recover = (): void => {
        if (stopped || recovering) return;
        recovering = true;
        attemptRecovery(200);
      };
      const queueOptions = { ...serveOptions, queueType: serveOptions.queueType ?? queueType };
      const start = async (model: ChannelModel): Promise<Consumer> =>
        consumeService(
          await model.createChannel(),
          service,
          { ...queueOptions, userId, onCancelled: () => recover() },
          handler,
          log,
        );
      let incarnation = await start(manager.current ?? (await manager.whenConnected(new AbortController().signal)));
      const unregister = manager.onReconnect(replace);
      const consumer: Consumer = {
        close: async () => {
          stopped = true;
          unregister();
          consumers.delete(consumer);
          await Promise.all([incarnation.close(), ...retiring]);
        },
      };
      consumers.add(consumer);
      return consumer;
    },
    async consumers(service: string) {
      // only to explain a call that already failed: never while the broker blocks us (a blocked connection opens no
      // channel), and never longer than CONSUMERS_LOOK_MS (the caller's rejection waits for this answer)
      if (manager.blocked !== undefined || manager.current === undefined) return undefined;
      const look = AbortSignal.timeout(CONSUMERS_LOOK_MS);
      const counted = (async () => {
        const channel = await transport.openChannel(look);
        try {
          return (await channel.checkQueue(serviceQueue(service))).consumerCount;
        } finally {
          await channel.close().catch(() => undefined);
        }
      })().catch(() => undefined);
      const gaveUp = new Promise<undefined>((resolve) =>
        look.addEventListener('abort', () => resolve(undefined), { once: true }),
      );
      return Promise.race([counted, gaveUp]);
    },
    async openChannel(signal = new AbortController().signal) {
      if (closing) throw new RpcError(Code.UNAVAILABLE, 'transport is closed');
      const model = await manager.whenConnected(signal);
      let channel: Channel;
      try {
        channel = await model.createChannel();
      } catch (error) {
        throw RpcError.from(error, Code.UNAVAILABLE, 'could not open a channel to the broker');
      }
      channel.on('error', (error: Error) => logger.debug({ err: error }, 'side channel closed by the broker'));
      return channel;
    },
    stats() {
      const live = current?.stats() ?? { pending: 0, lateReplies: 0 };
      return {
        pending: live.pending,
        lateReplies: totals.lateReplies + live.lateReplies,
        reconnections: manager.reconnectCount,
        waitingForConnection: manager.waiting,
        channels: openChannels(manager.current),
        consumers: consumers.size,
        pendingPublishes: events.stats().pendingPublishes,
      };
    },
    async close() {
      if (closing) return;
      closing = true;
      // a blocked connection reads nothing: drop it first (amqplib closes a blocked socket at once), so
      // channel closes and pending confirms fail now instead of waiting for the alarm to clear
      if (manager.blocked !== undefined) await manager.close();
      await Promise.all([...consumers].map((consumer) => consumer.close()));
      await events.close();
      if (requests) await (await requests.channel.catch(() => undefined))?.close();
      await Promise.all([...retired].map((channel) => channel.close()));
      await manager.close();
    },
  };
  return transport;
}

/** Longest look at a queue's consumers when explaining a failed call (`Transport.consumers`). */
const CONSUMERS_LOOK_MS = 500;

/** Channels open on a connection, from amqplib's channel table (amqplib 0.10 to 2.x); 0 when unknown. */
function openChannels(model: ChannelModel | undefined): number {
  const table = (model as unknown as { connection?: { channels?: unknown[] } } | undefined)?.connection?.channels;
  if (!Array.isArray(table)) return 0;
  let open = 0;
  for (let i = 1; i < table.length; i++) if (table[i]) open++;
  return open;
}

function userOf(url: string): string {
  try {
    const user = decodeURIComponent(new URL(url).username);
    return user === '' ? 'guest' : user;
  } catch {
    return 'guest';
  }
}
