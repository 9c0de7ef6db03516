import { pino } from 'pino';
import { openQueueInspector, type QueueInspector } from '../core/tooling.js';
import {
  type AmqpTlsOptions,
  type AmqpTransport,
  connectAmqp,
  DEFAULT_AMQP_URL,
  type Logger,
  RpcError,
  tlsFromEnv,
} from '../core/index.js';
import { brokerUrls, tlsSocketOptions } from '../core/tooling.js';
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
  return pino(
    { name: 'warren-cli', level: process.env['WARREN_LOG_LEVEL'] ?? 'error' },
    pino.destination({ dest: 2, sync: true }),
  );
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
    if (error instanceof RpcError)
      throw new CliError(ExitCode.USAGE, error.code, error.rawMessage, undefined, { cause: error });
    throw error;
  }
}

/** Connects the RPC and events transport. UNAVAILABLE (exit 24) with the redacted URL when the broker is unreachable. */
export function openTransport(url: string, logger: Logger): Promise<AmqpTransport> {
  for (const node of brokerUrls(url)) socketOptionsFor(node);
  const tls = brokerTls();
  return connectAmqp({
    url,
    logger,
    connectionName: `warren-cli-${process.pid}`,
    ...(tls === undefined ? {} : { tls }),
    socketOptions: { timeout: CONNECT_TIMEOUT_MS },
  });
}

/** Opens a queue inspector for a command; TLS flags that cannot work are a usage error (exit 2). */
export async function openInspector(url: string): Promise<QueueInspector> {
  for (const node of brokerUrls(url)) socketOptionsFor(node);
  return await openQueueInspector({
    url,
    socketOptions: socketOptionsFor(brokerUrls(url)[0] ?? url),
    timeoutMs: CONNECT_TIMEOUT_MS,
    connectionName: `warren-cli-inspect-${process.pid}`,
  });
}

export type { QueueInspector, QueueState } from '../core/tooling.js';
