import { connect, type ChannelModel } from 'amqplib';
import { Code } from '../protocol/code.js';
import { redactUrl, type Logger } from '../observability/logger.js';
import { RpcError } from '../protocol/rpc-error.js';
import { firstUrlIndex } from './broker-urls.js';
import { describeConnectError } from './tls.js';

/** How reconnection backs off. */
export interface ReconnectOptions {
  /** First delay after a loss. Default 100 ms. */
  readonly initialDelayMs?: number;
  /** Largest delay. Default 5 000 ms. */
  readonly maxDelayMs?: number;
  /** Growth per failed attempt. Default 2. */
  readonly factor?: number;
  /** Fraction of each delay that is random (0–1), so instances do not reconnect in lockstep. Default 0.5. */
  readonly jitter?: number;
  /**
   * Longest the topology may take to restore on a new connection (declares,
   * consumers, channels). Past it the connection is dropped and the next one
   * tried, instead of reporting "connected" while nothing is served (a quorum
   * queue without a leader makes `basic.consume` hang). Default 30 000 ms.
   */
  readonly setupTimeoutMs?: number;
}

/** Options of {@link ConnectionManager}. */
export interface ConnectionManagerOptions {
  /** Broker URLs (cluster nodes), tried in turn. */
  readonly urls: readonly string[];
  /** Index of the URL tried first; later attempts go round the list from there. Default random ({@link firstUrlIndex}). */
  readonly firstUrl?: number;
  readonly heartbeatSeconds: number;
  readonly connectionName: string;
  readonly socketOptions: Record<string, unknown> | undefined;
  readonly reconnect: ReconnectOptions;
  readonly logger: Logger;
}

/** Runs on every new connection: re-declares topology, re-opens channels, resumes consuming. */
export type ConnectionSetup = (model: ChannelModel) => Promise<void>;

/**
 * Owns the process's one broker connection and keeps it up: on loss it
 * reconnects with exponential backoff and jitter, trying the URLs in turn
 * (starting at a random one, so a mesh's connections spread over a cluster),
 * and re-runs every registered setup on the new connection.
 */
export class ConnectionManager {
  private model: ChannelModel | undefined;
  private readonly setups = new Set<ConnectionSetup>();
  private readonly lostListeners = new Set<(reason: RpcError) => void>();
  private waiters = new Set<{ resolve: (model: ChannelModel) => void; reject: (error: unknown) => void }>();
  private next: number;
  private closing = false;
  private blockedReason: string | undefined;
  private reconnections = 0;
  private timer: NodeJS.Timeout | undefined;
  /** True while the setups run on a new connection: it is not "up" until they finish. */
  private restoring = false;

  constructor(private readonly options: ConnectionManagerOptions) {
    this.next = options.firstUrl ?? firstUrlIndex(options.urls.length);
  }

  /** Connects for the first time, trying each URL once; rejects UNAVAILABLE if none answers. */
  async start(): Promise<ChannelModel> {
    let lastError: unknown;
    for (let i = 0; i < this.options.urls.length; i++) {
      try {
        return await this.open();
      } catch (error) {
        lastError = error;
      }
    }
    const tried = this.options.urls.map(redactUrl).join(', ');
    throw new RpcError(
      Code.UNAVAILABLE,
      `cannot connect to the broker at ${tried}: ${describeConnectError(lastError)}`,
      { cause: lastError },
    );
  }

  /** The current connection, if up (and, after a reconnection, its topology restored). */
  get current(): ChannelModel | undefined {
    return this.restoring ? undefined : this.model;
  }

  /** The broker's reason while it blocks publishing (memory or disk alarm). */
  get blocked(): string | undefined {
    return this.blockedReason;
  }

  /** Reconnections since start. */
  get reconnectCount(): number {
    return this.reconnections;
  }

  /** Callers waiting in {@link whenConnected} now (diagnostic). */
  get waiting(): number {
    return this.waiters.size;
  }

  /** Registers a setup run on every later connection (not on the current one). */
  onReconnect(setup: ConnectionSetup): () => void {
    this.setups.add(setup);
    return () => this.setups.delete(setup);
  }

  /** Told when the connection is lost. */
  onLost(listener: (reason: RpcError) => void): void {
    this.lostListeners.add(listener);
  }

  /** The connection now, or the next one; rejects with `signal.reason` on abort. */
  whenConnected(signal: AbortSignal): Promise<ChannelModel> {
    if (this.model && !this.restoring) return Promise.resolve(this.model);
    if (this.closing) return Promise.reject(new RpcError(Code.UNAVAILABLE, 'transport is closed'));
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (model: ChannelModel) => {
          signal.removeEventListener('abort', onAbort);
          resolve(model);
        },
        reject: (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      const onAbort = (): void => {
        this.waiters.delete(waiter);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.timer);
    for (const waiter of this.waiters) waiter.reject(new RpcError(Code.UNAVAILABLE, 'transport is closed'));
    this.waiters.clear();
    const model = this.model;
    this.model = undefined;
    await model?.close().catch(() => undefined);
  }

  private async open(): Promise<ChannelModel> {
    const url = this.options.urls[this.next++ % this.options.urls.length]!;
    const model = await connect(withHeartbeat(url, this.options.heartbeatSeconds), {
      noDelay: true,
      clientProperties: { connection_name: this.options.connectionName },
      ...this.options.socketOptions,
    });
    const { logger } = this.options;
    model.on('error', (error: Error) => logger.warn({ err: error, url: redactUrl(url) }, 'broker connection error'));
    model.on('blocked', (reason: string) => {
      this.blockedReason = reason || 'resource alarm';
      logger.warn({ reason }, 'broker blocked publishing on this connection; new calls fail fast');
    });
    model.on('unblocked', () => {
      this.blockedReason = undefined;
      logger.info({}, 'broker unblocked the connection');
    });
    model.on('close', () => this.lost(model, url));
    this.model = model;
    this.blockedReason = undefined;
    logger.info({ url: redactUrl(url) }, 'connected to broker');
    return model;
  }

  private lost(model: ChannelModel, url: string): void {
    if (this.model !== model) return;
    this.model = undefined;
    if (this.closing) return;
    const reason = new RpcError(Code.UNAVAILABLE, `connection to the broker at ${redactUrl(url)} was lost`);
    this.options.logger.error({ url: redactUrl(url) }, 'broker connection lost; reconnecting');
    for (const listener of this.lostListeners) listener(reason);
    this.schedule(0);
  }

  private schedule(attempt: number): void {
    const { initialDelayMs = 100, maxDelayMs = 5000, factor = 2, jitter = 0.5 } = this.options.reconnect;
    const base = Math.min(maxDelayMs, initialDelayMs * factor ** attempt);
    const delay = base * (1 - jitter * Math.random());
    this.timer = setTimeout(() => void this.reconnect(attempt), delay);
  }

  private async reconnect(attempt: number): Promise<void> {
    if (this.closing) return;
    let model: ChannelModel;
    try {
      model = await this.open();
    } catch (error) {
      this.options.logger.warn({ err: error, attempt }, 'reconnection attempt failed');
      this.schedule(attempt + 1);
      return;
    }
    const setupTimeoutMs = this.options.reconnect.setupTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    this.restoring = true;
    try {
      const restored = (async () => {
        for (const setup of [...this.setups]) await setup(model);
      })();
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`restoring the topology took longer than ${setupTimeoutMs} ms`)),
          setupTimeoutMs,
        );
      });
      await Promise.race([restored, timedOut]);
    } catch (error) {
      this.options.logger.error({ err: error }, 'could not restore topology on the new connection; reconnecting');
      await model.close().catch(() => undefined);
      return;
    } finally {
      clearTimeout(timer);
      this.restoring = false;
    }
    this.reconnections++;
    this.options.logger.info({ reconnections: this.reconnections }, 'reconnected; topology restored');
    for (const waiter of this.waiters) waiter.resolve(model);
    this.waiters.clear();
  }
}

function withHeartbeat(url: string, seconds: number): string {
  if (/[?&]heartbeat=/.test(url)) return url;
  return `${url}${url.includes('?') ? '&' : '?'}heartbeat=${seconds}`;
}
