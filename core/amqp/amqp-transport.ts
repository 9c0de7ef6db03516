import { connect, type ChannelModel } from 'amqplib';
import { Code } from '../code.js';
import { defaultLogger, redactUrl, type Logger } from '../logger.js';
import { RpcError } from '../rpc-error.js';
import type { Consumer, DeliveryHandler, ServeOptions, Transport, WireReply, WireRequest } from '../transport.js';
import { RequestChannel, type RequestChannelStats } from './request-channel.js';
import { consumeService } from './service-consumer.js';

/** Options of {@link connectAmqp}. */
export interface AmqpTransportOptions {
  /** Broker URL. Default `AMQP_URL` from the environment, else `amqp://guest:guest@127.0.0.1:5672`. */
  readonly url?: string;
  /** Heartbeat interval in seconds: how soon a dead peer is noticed. Default 10. */
  readonly heartbeatSeconds?: number;
  /** Name shown in the broker's connection list. Default `warren-<pid>`. */
  readonly connectionName?: string;
  /**
   * Stamp requests with the connection's user as AMQP `user_id`, which the
   * broker validates, so servers know who called. Default true.
   */
  readonly identity?: boolean;
  /** Extra socket options for amqplib (TLS `ca`, `cert`, `key`, …). */
  readonly socketOptions?: Record<string, unknown>;
  /** Default: the process logger. */
  readonly logger?: Logger;
}

/** The AMQP transport, with counters for tests and metrics. */
export interface AmqpTransport extends Transport {
  stats(): RequestChannelStats;
  /** The broker URL with its password redacted. */
  readonly url: string;
}

/** The local broker the README's quick start runs. */
export const DEFAULT_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

/**
 * Connects to RabbitMQ and returns the Warren transport over it: one
 * connection per process, a request channel for clients (opened on first
 * call) and one channel per served service. Rejects with UNAVAILABLE and the
 * redacted URL when the broker cannot be reached.
 */
export async function connectAmqp(options: AmqpTransportOptions = {}): Promise<AmqpTransport> {
  const url = options.url ?? process.env['AMQP_URL'] ?? DEFAULT_AMQP_URL;
  const safeUrl = redactUrl(url);
  const logger = (options.logger ?? defaultLogger()).child({ transport: 'amqp' });
  let model: ChannelModel;
  try {
    model = await connect(withHeartbeat(url, options.heartbeatSeconds ?? 10), {
      noDelay: true,
      clientProperties: { connection_name: options.connectionName ?? `warren-${process.pid}` },
      ...options.socketOptions,
    });
  } catch (error) {
    throw new RpcError(Code.UNAVAILABLE, `cannot connect to the broker at ${safeUrl}: ${(error as Error).message}`, { cause: error });
  }
  const userId = options.identity === false ? undefined : userOf(url);
  const consumers = new Set<Consumer>();
  let requests: Promise<RequestChannel> | undefined;
  let closing = false;
  let lostReason: RpcError | undefined;

  model.on('error', (error: Error) => logger.warn({ err: error, url: safeUrl }, 'broker connection error'));
  model.on('close', () => {
    if (!closing) {
      lostReason = new RpcError(Code.UNAVAILABLE, `connection to the broker at ${safeUrl} was lost`);
      logger.error({ url: safeUrl }, 'broker connection lost');
    }
  });
  model.on('blocked', (reason: string) => logger.warn({ reason }, 'broker blocked the connection'));
  logger.info({ url: safeUrl }, 'connected to broker');

  const requestChannel = (): Promise<RequestChannel> => {
    requests ??= model.createConfirmChannel().then((channel) => RequestChannel.open(channel, userId, logger));
    requests.catch(() => {
      requests = undefined;
    });
    return requests;
  };

  let lastStats: RequestChannelStats = { pending: 0, lateReplies: 0 };
  let current: RequestChannel | undefined;
  return {
    kind: 'amqp',
    url: safeUrl,
    async request(request: WireRequest, signal: AbortSignal): Promise<WireReply> {
      if (lostReason) throw lostReason;
      if (closing) throw new RpcError(Code.UNAVAILABLE, 'transport is closed');
      current = await requestChannel();
      return current.request(request, signal);
    },
    async serve(service: string, serveOptions: ServeOptions, handler: DeliveryHandler): Promise<Consumer> {
      if (lostReason) throw lostReason;
      const channel = await model.createChannel();
      const consumer = await consumeService(channel, service, serveOptions, handler, logger.child({ service }));
      consumers.add(consumer);
      return {
        close: async () => {
          consumers.delete(consumer);
          await consumer.close();
        },
      };
    },
    stats() {
      if (current) lastStats = current.stats();
      return lastStats;
    },
    async close() {
      if (closing) return;
      closing = true;
      await Promise.all([...consumers].map((consumer) => consumer.close()));
      if (requests) await (await requests.catch(() => undefined))?.close();
      if (!lostReason) await model.close().catch(() => undefined);
    },
  };
}

function withHeartbeat(url: string, seconds: number): string {
  if (/[?&]heartbeat=/.test(url)) return url;
  return `${url}${url.includes('?') ? '&' : '?'}heartbeat=${seconds}`;
}

function userOf(url: string): string {
  try {
    const user = decodeURIComponent(new URL(url).username);
    return user === '' ? 'guest' : user;
  } catch {
    return 'guest';
  }
}
