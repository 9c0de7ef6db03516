import type { ConfirmChannel, Message, Options } from 'amqplib';
import { once } from 'node:events';
import { Code } from '../code.js';
import { RpcError } from '../rpc-error.js';

interface Pending {
  returned: boolean;
  readonly done: Promise<void>;
}

/**
 * Publishes on a confirm channel and resolves each publish only once the
 * broker confirmed it, rejecting a `mandatory` one the broker returned
 * (FAILED_PRECONDITION), one it refused (RESOURCE_EXHAUSTED) and every one
 * pending when the channel closes (UNAVAILABLE: it may or may not have been
 * routed). RabbitMQ sends `basic.return` before the confirm of the same
 * message, so a return is matched to its publish by `message_id`; two
 * publishes with the same id wait for each other. Honours channel
 * back-pressure (`drain`).
 */
export class ConfirmPublisher {
  private readonly pending = new Map<string, Pending>();
  private drained: Promise<void> | undefined;
  private closed = false;

  constructor(readonly channel: ConfirmChannel) {
    channel.on('return', (message: Message) => {
      const entry = this.pending.get(String(message.properties.messageId ?? ''));
      if (entry) entry.returned = true;
    });
    channel.on('close', () => {
      this.closed = true;
    });
  }

  /** True once the channel closed: open a new one. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Publishes and resolves on the broker's confirm. `what` names the target in errors. */
  async publish(exchange: string, routingKey: string, body: Uint8Array, options: Options.Publish, what: string): Promise<void> {
    const key = String(options.messageId ?? '');
    for (;;) {
      const earlier = this.pending.get(key);
      if (earlier) await earlier.done.catch(() => undefined);
      else if (this.drained) await this.drained;
      else break;
    }
    if (this.closed) throw lost(what);
    let settle!: (error: RpcError | null) => void;
    const entry: Pending = {
      returned: false,
      done: new Promise<void>((resolve, reject) => {
        settle = (error) => {
          if (this.pending.get(key) === entry) this.pending.delete(key);
          if (error) reject(error);
          else resolve();
        };
      }),
    };
    this.pending.set(key, entry);
    try {
      const content = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      const ok = this.channel.publish(exchange, routingKey, content, options, (error: unknown) => {
        if (error) {
          settle(error instanceof Error && error.message === 'message nacked'
            ? new RpcError(Code.RESOURCE_EXHAUSTED, `the broker refused ${what} (queue full or broker overloaded)`)
            : lost(what));
        } else if (entry.returned) {
          settle(new RpcError(Code.FAILED_PRECONDITION, `no queue is bound for ${what} (NO_ROUTE): nothing would receive it`));
        } else {
          settle(null);
        }
      });
      if (!ok && !this.drained) {
        const stop = new AbortController();
        const reset = (): void => {
          stop.abort(); // removes the losing listener
          this.drained = undefined;
        };
        // events.once rejects on 'error', which comes before 'close': either way stop waiting.
        this.drained = Promise.race([once(this.channel, 'drain', { signal: stop.signal }), once(this.channel, 'close', { signal: stop.signal })]).then(reset, reset);
      }
    } catch (error) {
      settle(RpcError.from(error, Code.UNAVAILABLE, `could not publish ${what}: the channel is closed`));
    }
    return entry.done;
  }

  /** Waits for pending confirms (bounded by the channel), then closes the channel. */
  async close(): Promise<void> {
    await Promise.all([...this.pending.values()].map((entry) => entry.done.catch(() => undefined)));
    if (this.closed) return;
    this.closed = true;
    await this.channel.close().catch(() => undefined);
  }
}

function lost(what: string): RpcError {
  return new RpcError(Code.UNAVAILABLE, `the connection to the broker was lost before it confirmed ${what}; it may or may not have been delivered (publish again with the same messageId)`);
}
