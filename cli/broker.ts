import { connect, type Channel, type ChannelModel } from 'amqplib';
import { pino } from 'pino';
import { brokerUrls, Code, connectAmqp, DEFAULT_AMQP_URL, describeConnectError, redactUrl, RpcError, tlsFromEnv, tlsSocketOptions, type AmqpTlsOptions, type AmqpTransport, type Logger } from '../core/index.js';
import { CliError, ExitCode } from './exit-codes.js';
import { tlsFlags } from './tls-flags.js';

/** How long connecting to the broker may take before the command fails with UNAVAILABLE. */
export const CONNECT_TIMEOUT_MS = 5_000;

/** The broker URL of a command: `--url`, else `AMQP_URL`, else the local broker. */
export function brokerUrl(flag: string | undefined): string {
  return flag ?? process.env['AMQP_URL'] ?? DEFAULT_AMQP_URL;
}

/**
 * The runtime's log lines go to stderr (stdout carries results), at
 * `WARREN_LOG_LEVEL`, default `error`: the CLI reports problems itself.
 */
export function cliLogger(): Logger {
  return pino({ name: 'warren-cli', level: process.env['WARREN_LOG_LEVEL'] ?? 'error' }, pino.destination({ dest: 2, sync: true }));
}

/**
 * The TLS settings of this run: `--ca`, `--cert`, `--key` (PEM files), each
 * over its environment variable (`AMQP_CA_FILE`, `AMQP_CERT_FILE`,
 * `AMQP_KEY_FILE`; also `AMQP_KEY_PASSPHRASE`, `AMQP_TLS_SERVERNAME`);
 * `undefined` when there are none.
 */
export function brokerTls(): AmqpTlsOptions | undefined {
  const merged: AmqpTlsOptions = { ...tlsFromEnv(), ...tlsFlags() };
  return Object.keys(merged).length === 0 ? undefined : merged;
}

/** amqplib socket options for `url`; a TLS setting that cannot work (plain URL, unreadable file, cert without key) is a usage error (exit 2). */
function socketOptionsFor(url: string): Record<string, unknown> {
  try {
    return tlsSocketOptions([url], brokerTls());
  } catch (error) {
    if (error instanceof RpcError) throw new CliError(ExitCode.USAGE, error.code, error.rawMessage, undefined, { cause: error });
    throw error;
  }
}

/** Connects the RPC and events transport. UNAVAILABLE (exit 24) with the redacted URL when the broker is unreachable. */
export function openTransport(url: string, logger: Logger): Promise<AmqpTransport> {
  for (const node of brokerUrls(url)) socketOptionsFor(node);
  const tls = brokerTls();
  return connectAmqp({ url, logger, connectionName: `warren-cli-${process.pid}`, ...(tls === undefined ? {} : { tls }), socketOptions: { timeout: CONNECT_TIMEOUT_MS } });
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

/** Opens a {@link QueueInspector}. UNAVAILABLE when the broker is unreachable. */
export async function openInspector(url: string): Promise<QueueInspector> {
  // a cluster's URLs (comma-separated, as AMQP_URL takes them): the first node that answers
  let model: ChannelModel | undefined;
  let lastError: unknown;
  for (const node of brokerUrls(url)) {
    try {
      model = await connect(node, { ...socketOptionsFor(node), timeout: CONNECT_TIMEOUT_MS, clientProperties: { connection_name: `warren-cli-inspect-${process.pid}` } });
      break;
    } catch (error) {
      if (error instanceof CliError) throw error;
      lastError = error;
    }
  }
  if (!model) throw new RpcError(Code.UNAVAILABLE, `cannot connect to the broker at ${brokerUrls(url).map(redactUrl).join(', ')}: ${describeConnectError(lastError)}`, { cause: lastError });
  model.on('error', () => undefined);
  /** Runs `use` on a fresh channel; `recover` turns an AMQP reply code (404, 406) into a result. */
  const withChannel = async <T>(what: string, use: (channel: Channel) => Promise<T>, recover: (replyCode: unknown) => { value: T } | undefined): Promise<T> => {
    let channel;
    try {
      channel = await model.createChannel();
    } catch (error) {
      throw RpcError.from(error, Code.UNAVAILABLE, `cannot open a channel to ${what}: the connection to the broker is lost`);
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
      withChannel(`check ${queue}`, async (channel) => {
        const ok = await channel.checkQueue(queue);
        return { messages: ok.messageCount, consumers: ok.consumerCount };
      }, (code) => (code === 404 ? { value: undefined } : undefined)),
    deleteIfIdle: (queue) =>
      withChannel(`delete ${queue}`, async (channel) => {
        await channel.deleteQueue(queue, { ifEmpty: true, ifUnused: true });
        return true;
      }, (code) => (code === 404 || code === 406 ? { value: false } : undefined)),
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
