import type { ConfirmChannel, Message, Options } from 'amqplib';
import { once } from 'node:events';
import { Code } from '../../protocol/code.js';
import { RpcError } from '../../protocol/rpc-error.js';
import { markRefused } from '../refused-publish.js';

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
 *
 * A publish may be bounded by a signal (the publish timeout): aborted before
 * anything was written it rejects UNAVAILABLE and {@link wasNotSent} is true
 * (safe to publish again); aborted while waiting for the confirm it rejects
 * DEADLINE_EXCEEDED (it may or may not have been routed).
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

  /** Publishes waiting for their confirm now (diagnostic). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Publishes and resolves on the broker's confirm. `what` names the target
   * in errors; `signal` (optional) bounds the whole publish, see the class.
   */
  async publish(
    exchange: string,
    routingKey: string,
    body: Uint8Array,
    options: Options.Publish,
    what: string,
    signal?: AbortSignal,
  ): Promise<void> {
    const key = String(options.messageId ?? '');
    for (;;) {
      const earlier = this.pending.get(key);
      if (earlier)
        await bounded(
          earlier.done.catch(() => undefined),
          signal,
          () => notSent(what, 'the broker did not confirm an earlier publish with the same id in time'),
        );
      else if (this.drained)
        await bounded(this.drained, signal, () =>
          notSent(what, 'the channel stayed full (back-pressure) until the publish timeout'),
        );
      else break;
    }
    if (this.closed) throw notSent(what, 'its channel closed with the connection to the broker');
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
          settle(
            error instanceof Error && error.message === 'message nacked'
              ? markRefused(
                  new RpcError(Code.RESOURCE_EXHAUSTED, `the broker refused ${what} (queue full or broker overloaded)`),
                )
              : lost(what),
          );
        } else if (entry.returned) {
          settle(
            new RpcError(
              Code.FAILED_PRECONDITION,
              `no queue is bound for ${what} (NO_ROUTE): nothing would receive it`,
            ),
          );
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
        this.drained = Promise.race([
          once(this.channel, 'drain', { signal: stop.signal }),
          once(this.channel, 'close', { signal: stop.signal }),
        ]).then(reset, reset);
      }
    } catch (error) {
      settle(markNotSent(RpcError.from(error, Code.UNAVAILABLE, `could not publish ${what}: the channel is closed`)));
    }
    // the entry stays until the confirm (or the channel's close) settles it; the caller stops waiting at the timeout
    return bounded(
      entry.done,
      signal,
      () =>
        new RpcError(
          Code.DEADLINE_EXCEEDED,
          `the broker did not confirm ${what} before the publish timeout; it may or may not have been delivered (publish again with the same messageId)`,
        ),
    );
  }

  /** Waits for pending confirms (bounded by the channel), then closes the channel. */
  async close(): Promise<void> {
    await Promise.all([...this.pending.values()].map((entry) => entry.done.catch(() => undefined)));
    if (this.closed) return;
    this.closed = true;
    await this.channel.close().catch(() => undefined);
  }
}

const unsent = new WeakSet<RpcError>();

function markNotSent(error: RpcError): RpcError {
  unsent.add(error);
  return error;
}

/** True for a publish failure that happened before anything was written: publishing again cannot duplicate it. */
export function wasNotSent(error: unknown): boolean {
  return error instanceof RpcError && unsent.has(error);
}

function notSent(what: string, why: string): RpcError {
  return markNotSent(new RpcError(Code.UNAVAILABLE, `${what} was not published: ${why}`));
}

/** Settles like `promise`, or rejects with `onAbort()` once `signal` aborts; leaves no listener behind. */
function bounded<T>(promise: Promise<T>, signal: AbortSignal | undefined, onAbort: () => RpcError): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(onAbort());
  }
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => reject(onAbort());
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error);
      },
    );
  });
}

function lost(what: string): RpcError {
  return new RpcError(
    Code.UNAVAILABLE,
    `the connection to the broker was lost before it confirmed ${what}; it may or may not have been delivered (publish again with the same messageId)`,
  );
}
