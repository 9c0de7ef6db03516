import { connect, type Channel, type ChannelModel } from 'amqplib';
import { Code } from '../protocol/code.js';
import { RpcError } from '../protocol/rpc-error.js';
import { redactUrl } from '../observability/logger.js';
import { brokerUrls } from './broker-urls.js';
import { describeConnectError } from './tls.js';

/** Options of {@link openQueueInspector}. */
export interface QueueInspectorOptions {
  /** Broker URL, or a cluster's comma-separated node URLs: the first node that answers (credentials are redacted from errors). */
  readonly url: string;
  /** amqplib socket options (TLS: `tlsSocketOptions`). Default none. */
  readonly socketOptions?: Record<string, unknown>;
  /** How long connecting may take, ms. Default 5000. */
  readonly timeoutMs?: number;
  /** `connection_name` shown by the broker. Default `warren-inspect-<pid>`. */
  readonly connectionName?: string;
}

/** A service or dead-letter queue as a passive declare sees it; `undefined` when it does not exist. */
export interface QueueState {
  readonly messages: number;
  readonly consumers: number;
}

/**
 * A plain AMQP connection for looking at queues without touching them: the
 * RPC transport hides its channels, and a passive declare of a missing queue
 * closes its channel (404), so each check gets a throwaway channel.
 */
export interface QueueInspector {
  /** Passive declare: counts, or `undefined` if the queue does not exist. */
  check(queue: string): Promise<QueueState | undefined>;
  /** Deletes a queue only if it is empty and has no consumer; true if it went. */
  deleteIfIdle(queue: string): Promise<boolean>;
  /**
   * A channel of the caller's own on this connection (to read dead letters,
   * to take a queue lock); its errors are reported through the calls that
   * fail. The caller closes it. UNAVAILABLE when the connection is lost.
   */
  openChannel(): Promise<Channel>;
  close(): Promise<void>;
}

/**
 * Opens a {@link QueueInspector} on a connection of its own (tools: the CLI's
 * `list`, `health` and `dlq`, `npm start`'s broker check). UNAVAILABLE when
 * the broker is unreachable.
 */
export async function openQueueInspector(options: QueueInspectorOptions): Promise<QueueInspector> {
  const { url } = options;
  const connectionName = options.connectionName ?? `warren-inspect-${process.pid}`;
  let found: ChannelModel | undefined;
  let lastError: unknown;
  for (const node of brokerUrls(url)) {
    try {
      found = await connect(node, {
        ...options.socketOptions,
        timeout: options.timeoutMs ?? 5_000,
        clientProperties: { connection_name: connectionName },
      });
      break;
    } catch (error) {
      lastError = error;
    }
  }
  if (found === undefined) {
    throw new RpcError(
      Code.UNAVAILABLE,
      `cannot connect to the broker at ${brokerUrls(url).map(redactUrl).join(', ')}: ${describeConnectError(lastError)}`,
      { cause: lastError },
    );
  }
  const model = found;
  model.on('error', () => undefined);
  /** Runs `use` on a fresh channel; `recover` turns an AMQP reply code (404, 406) into a result. */
  const withChannel = async <T>(
    what: string,
    use: (channel: Channel) => Promise<T>,
    recover: (replyCode: unknown) => { value: T } | undefined,
  ): Promise<T> => {
    let channel;
    try {
      channel = await model.createChannel();
    } catch (error) {
      throw RpcError.from(
        error,
        Code.UNAVAILABLE,
        `cannot open a channel to ${what}: the connection to the broker is lost`,
      );
    }
    channel.on('error', () => undefined); // a 404 closes the channel; it is reported through the rejected call
    try {
      return await use(channel);
    } catch (error) {
      const recovered = recover((error as { code?: unknown }).code);
      if (recovered) return recovered.value;
      throw RpcError.from(error, Code.UNAVAILABLE, `cannot ${what}: ${(error as Error).message}`);
    } finally {
      await channel.close().catch(() => undefined);
    }
  };
  return {
    check: (queue) =>
      withChannel(
        `check ${queue}`,
        async (channel) => {
          const ok = await channel.checkQueue(queue);
          return { messages: ok.messageCount, consumers: ok.consumerCount };
        },
        (code) => (code === 404 ? { value: undefined } : undefined),
      ),
    deleteIfIdle: (queue) =>
      withChannel(
        `delete ${queue}`,
        async (channel) => {
          await channel.deleteQueue(queue, { ifEmpty: true, ifUnused: true });
          return true;
        },
        (code) => (code === 404 || code === 406 ? { value: false } : undefined),
      ),
    async openChannel() {
      try {
        const channel = await model.createChannel();
        channel.on('error', () => undefined);
        return channel;
      } catch (error) {
        throw RpcError.from(error, Code.UNAVAILABLE, 'cannot open a channel: the connection to the broker is lost');
      }
    },
    async close() {
      await model.close().catch(() => undefined);
    },
  };
}
