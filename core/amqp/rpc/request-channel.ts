import type { ConfirmChannel, ConsumeMessage, Message } from 'amqplib';
import { Code } from '../../protocol/code.js';
import type { Logger } from '../../observability/logger.js';
import { markConnectionLoss } from '../../rpc/retry-policy.js';
import { RpcError } from '../../protocol/rpc-error.js';
import type { WireReply, WireRequest } from '../../transport.js';
import { CorrelationIds } from './correlation-ids.js';
import { markRefused } from '../refused-publish.js';
import { newReplyQueueName, REPLY_QUEUE_OPTIONS } from './reply-queue.js';
import { serviceQueue } from '../../protocol/rpc-names.js';
import { readReply, requestProperties } from '../wire-properties.js';
import { batchWrites } from '../write-batching.js';

/**
 * One call waiting for its reply. It is its own abort listener
 * (`handleEvent`), so a call allocates no closures here.
 */
class Pending {
  constructor(
    readonly service: string,
    private readonly correlationId: string,
    private readonly calls: Map<string, Pending>,
    private readonly signal: AbortSignal,
    private readonly resolveCall: (reply: WireReply) => void,
    private readonly rejectCall: (error: unknown) => void,
  ) {
    signal.addEventListener('abort', this, { once: true });
  }

  resolve(reply: WireReply): void {
    this.signal.removeEventListener('abort', this);
    this.resolveCall(reply);
  }

  reject(error: unknown): void {
    this.signal.removeEventListener('abort', this);
    this.rejectCall(error);
  }

  /** The caller's signal aborted: forget the call, reject with its reason. */
  handleEvent(): void {
    if (this.calls.delete(this.correlationId)) this.rejectCall(this.signal.reason);
  }
}

/** Counters a request channel keeps for metrics and tests. */
export interface RequestChannelStats {
  /** Calls waiting for a reply now. */
  pending: number;
  /** Replies that arrived after their caller gave up (counted, then dropped). */
  lateReplies: number;
}

/**
 * Which broker user serves a service, when the caller knows (see
 * core/security/server-users.ts): replies from anyone else are refused.
 * `undefined` for a service: its replies are not checked.
 */
export type ServerUsers = (service: string) => string | undefined;

/**
 * The client half of a connection: one confirm channel that declares and
 * consumes its own exclusive, auto-delete reply queue `warren.reply.<random>`
 * (before its first publish) and publishes every request with `mandatory`
 * through the default exchange to the service queue, matching replies,
 * returns and nacks by correlation id. A reply whose broker-validated
 * `user_id` is not the service's expected user (when {@link ServerUsers}
 * names one) fails its call with UNAUTHENTICATED instead of being believed.
 */
export class RequestChannel {
  private readonly pending = new Map<string, Pending>();
  private readonly correlationIds = new CorrelationIds();
  private lateReplies = 0;
  private closedReason: RpcError | undefined;
  private readonly wrote: () => void;

  private constructor(
    private readonly channel: ConfirmChannel,
    private readonly userId: string | undefined,
    private readonly logger: Logger,
    private readonly replyQueue: string,
    private readonly serverUsers: ServerUsers | undefined,
  ) {
    this.wrote = batchWrites(channel);
  }

  /** Opens the channel, declares its reply queue (core/amqp/rpc/reply-queue.ts) and starts consuming replies. */
  static async open(
    channel: ConfirmChannel,
    userId: string | undefined,
    logger: Logger,
    serverUsers?: ServerUsers,
  ): Promise<RequestChannel> {
    const requests = new RequestChannel(channel, userId, logger, newReplyQueueName(), serverUsers);
    channel.on('return', (message: Message) => requests.onReturn(message));
    channel.on('error', (error: Error) => logger.warn({ err: error }, 'request channel error'));
    channel.on('close', () =>
      requests.fail(
        markConnectionLoss(
          new RpcError(
            Code.UNAVAILABLE,
            'connection to the broker was lost before the reply came; the request may or may not have been processed',
          ),
        ),
      ),
    );
    // exclusive: only this connection can consume it (or declare it again); auto-delete: gone with the connection
    await channel.assertQueue(requests.replyQueue, REPLY_QUEUE_OPTIONS);
    await channel.consume(requests.replyQueue, (message) => requests.onReply(message), { noAck: true });
    return requests;
  }

  stats(): RequestChannelStats {
    return { pending: this.pending.size, lateReplies: this.lateReplies };
  }

  /** Publishes one request and resolves its reply. */
  request(request: WireRequest, signal: AbortSignal): Promise<WireReply> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.closedReason) return Promise.reject(this.closedReason);
    const correlationId = this.correlationIds.next();
    return new Promise<WireReply>((resolve, reject) => {
      this.pending.set(
        correlationId,
        new Pending(request.service, correlationId, this.pending, signal, resolve, reject),
      );
      try {
        this.channel.publish(
          '',
          serviceQueue(request.service),
          Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength),
          requestProperties(request, correlationId, this.userId, this.replyQueue),
          (error: unknown) => {
            // A nack means the broker refused it (full queue); a channel closing also fails confirms, and
            // then `fail()` answers UNAVAILABLE first: look again once the close has been handled.
            if (error)
              setImmediate(() =>
                this.settle(
                  correlationId,
                  markRefused(
                    new RpcError(
                      Code.RESOURCE_EXHAUSTED,
                      `the broker refused the request to ${request.service} (queue full or broker overloaded)`,
                    ),
                  ),
                ),
              );
          },
        );
        this.wrote();
      } catch (error) {
        this.settle(
          correlationId,
          RpcError.from(error, Code.UNAVAILABLE, `could not publish the request to ${request.service}`),
        );
      }
    });
  }

  /** Rejects every pending call; later requests reject at once. */
  fail(reason: RpcError): void {
    this.closedReason ??= reason;
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      pending.reject(reason);
    }
  }

  /**
   * Stops taking new calls' publishes (the owner opens another channel) and
   * closes this one once the calls still waiting for replies on it are done.
   */
  retire(onClosed?: () => void): void {
    const timer = setInterval(() => {
      if (this.pending.size > 0 && !this.closedReason) return;
      clearInterval(timer);
      void this.close().then(onClosed);
    }, 250);
    timer.unref();
  }

  async close(): Promise<void> {
    this.fail(new RpcError(Code.UNAVAILABLE, 'client transport closed'));
    try {
      await this.channel.close();
    } catch {
      // already closed with its connection
    }
  }

  private settle(correlationId: string, error: RpcError): void {
    const pending = this.pending.get(correlationId);
    if (!pending) return;
    this.pending.delete(correlationId);
    pending.reject(error);
  }

  private onReturn(message: Message): void {
    const correlationId = message.properties.correlationId as string | undefined;
    const pending = correlationId === undefined ? undefined : this.pending.get(correlationId);
    if (!pending) return;
    this.settle(
      correlationId!,
      new RpcError(
        Code.UNAVAILABLE,
        `no queue is bound for service ${pending.service} (${(message.fields as { replyText?: string }).replyText ?? 'NO_ROUTE'}); is any server of it running?`,
      ),
    );
  }

  private onReply(message: ConsumeMessage | null): void {
    if (message === null) {
      this.fail(new RpcError(Code.UNAVAILABLE, 'the broker cancelled the reply consumer'));
      return;
    }
    const correlationId = message.properties.correlationId as string | undefined;
    const pending = correlationId === undefined ? undefined : this.pending.get(correlationId);
    if (!pending) {
      this.lateReplies++;
      this.logger.debug({ correlationId }, 'late reply dropped: its caller gave up');
      return;
    }
    this.pending.delete(correlationId!);
    const expected = this.serverUsers?.(pending.service);
    if (expected !== undefined && message.properties.userId !== expected) {
      const actual = message.properties.userId as string | undefined;
      this.logger.warn({ service: pending.service, expected, actual }, 'reply from an unexpected broker user refused');
      pending.reject(
        new RpcError(
          Code.UNAUTHENTICATED,
          `the reply from ${pending.service} did not come from broker user "${expected}" (${actual === undefined ? 'it carried no user_id' : `it came from "${actual}"`}); it was refused`,
        ),
      );
      return;
    }
    pending.resolve(readReply(message));
  }
}
