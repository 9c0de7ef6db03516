import { createHash } from 'node:crypto';
import { Code } from '../core/index.js';
import { RpcError } from '../core/index.js';
import type { QueueInspector } from './broker.js';

/** How long a `dlq` command waits for another `warren` process done with the same dead-letter queue. */
export const LOCK_WAIT_MS = 30_000;
/** Pause between attempts to take a lock. */
export const LOCK_RETRY_MS = 100;

/** AMQP queue names are short strings: at most 255 bytes. */
const MAX_QUEUE_NAME_BYTES = 255;

/**
 * `warren.cli.lock.<queue>`: the exclusive queue that is the lock of `queue`
 * (`warren.cli.lock.<sha256 of queue>` when that would be too long a name).
 */
export function lockQueueName(queue: string): string {
  const name = `warren.cli.lock.${queue}`;
  return Buffer.byteLength(name) <= MAX_QUEUE_NAME_BYTES
    ? name
    : `warren.cli.lock.${createHash('sha256').update(queue).digest('hex')}`;
}

/** A lock held by this process's broker connection. */
export interface QueueLock {
  /** Lets the next `warren` process in (closing the connection does too). */
  release(): Promise<void>;
}

/** Options of {@link lockQueue}. */
export interface LockOptions {
  /** Give up after this long with ABORTED. Default {@link LOCK_WAIT_MS}. */
  readonly waitMs?: number;
  /** Stops waiting (the signal's reason is thrown). */
  readonly signal?: AbortSignal;
  /** Called once, when the lock is found taken (say on stderr that we wait). */
  readonly onWait?: () => void;
}

/**
 * Takes the lock of a dead-letter queue, so `warren` processes read it one
 * at a time: a reader holds the dead letters unacknowledged while it reads
 * them (that is how they are read without being removed), and a second
 * reader at the same moment would see only the ones not held.
 *
 * The lock is an exclusive queue, {@link lockQueueName}: RabbitMQ lets only
 * one connection declare it (another gets 405 RESOURCE_LOCKED) and deletes it
 * when that connection closes, so a CLI that dies or is killed releases it.
 * It coordinates `warren` processes only: an application reading the same
 * queue with `basic.get` is not held back.
 */
export async function lockQueue(
  inspector: QueueInspector,
  queue: string,
  options: LockOptions = {},
): Promise<QueueLock> {
  const name = lockQueueName(queue);
  const giveUpAt = Date.now() + (options.waitMs ?? LOCK_WAIT_MS);
  let waited = false;
  for (;;) {
    if (options.signal?.aborted) throw options.signal.reason;
    const channel = await inspector.openChannel();
    try {
      await channel.assertQueue(name, { exclusive: true, durable: false, autoDelete: false });
      return { release: () => release(inspector, name) };
    } catch (error) {
      if ((error as { code?: unknown }).code !== 405)
        throw RpcError.from(error, Code.UNAVAILABLE, `cannot take the lock ${name}: ${(error as Error).message}`);
    } finally {
      await channel.close().catch(() => undefined);
    }
    if (Date.now() >= giveUpAt) {
      throw new RpcError(
        Code.ABORTED,
        `another warren process has been working on ${queue} for over ${Math.round((options.waitMs ?? LOCK_WAIT_MS) / 1000)}s (a long replay?); try again later`,
      );
    }
    if (!waited) options.onWait?.();
    waited = true;
    await pause(LOCK_RETRY_MS, options.signal);
  }
}

async function release(inspector: QueueInspector, name: string): Promise<void> {
  const channel = await inspector.openChannel().catch(() => undefined);
  if (!channel) return; // connection gone: the broker has deleted the lock with it
  await channel.deleteQueue(name).catch(() => undefined);
  await channel.close().catch(() => undefined);
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
