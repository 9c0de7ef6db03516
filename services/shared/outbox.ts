/**
 * The transactional outbox: a service that changes its state and must tell
 * others (orders → OrderPaid) writes the event into an `outbox` table in the
 * same SQLite transaction as the change, and a relay publishes it after the
 * commit. So a crash between the two can delay an event but never lose it,
 * nor publish one for a change that was rolled back.
 *
 * ```text
 *  handler ──one transaction──▶ orders row + outbox row (message id, type, body, metadata)
 *                                      │
 *  relay (after each commit, and every retryIntervalMs)
 *    publish with the row's message id ──▶ exchange "warren.events" (topic) ──▶ every group queue
 *    broker confirmed ──▶ row deleted
 *    refused (no queue bound yet, broker down) ──▶ row kept, published on a later pass
 * ```
 *
 * Delivery is at least once (a crash after the confirm, before the delete,
 * publishes the row again with the same message id); subscribers
 * de-duplicate by message id.
 */
import { randomUUID } from 'node:crypto';
import {
  Code,
  currentContext,
  currentEvent,
  type EventBus,
  type EventInit,
  type EventType,
  type Logger,
  type Metadata,
  RpcError,
} from 'warren';
import { runInTraceContextOf, withActiveTraceContext } from 'warren/tooling';
import type { ServiceDatabase } from './database.js';

/** The migration that creates the outbox table; append it to the service's migrations. */
export const OUTBOX_MIGRATION = `
  CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    body BLOB NOT NULL,
    metadata TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
`;

/** Options of {@link createOutbox}. */
export interface OutboxOptions {
  readonly db: ServiceDatabase;
  readonly events: EventBus;
  /** Every event type the service adds (the relay decodes rows by type name). */
  readonly types: readonly EventType[];
  readonly logger: Logger;
  /** Pause between passes while rows are left. Default 1 000 ms. */
  readonly retryIntervalMs?: number;
  /** Rows published at once per pass. Default 100. */
  readonly batchSize?: number;
}

/** A service's outbox and its relay. */
export interface Outbox {
  /**
   * Adds an event. Call it inside the transaction that makes the change, then
   * {@link kick} after the commit. Metadata (trace context) is taken from the
   * RPC or event handler running now. Returns the event's message id.
   */
  add<E extends EventType>(type: E, message: EventInit<E>): string;
  /** Publishes what is waiting, soon. */
  kick(): void;
  /** Starts the relay (a first pass at once). */
  start(): void;
  /** Stops the relay after its current pass. */
  stop(): Promise<void>;
  /** Rows not yet confirmed by the broker. */
  pending(): number;
}

interface OutboxRow {
  seq: number;
  message_id: string;
  type: string;
  body: Buffer;
  metadata: string;
}

/** Creates the outbox of a service whose database ran {@link OUTBOX_MIGRATION}. */
export function createOutbox(options: OutboxOptions): Outbox {
  const { db, events, logger } = options;
  const types = new Map(options.types.map((type) => [type.$type, type]));
  const retryIntervalMs = options.retryIntervalMs ?? 1_000;
  const insert = db.prepare('INSERT INTO outbox (message_id, type, body, metadata, created_at) VALUES (?, ?, ?, ?, ?)');
  const select = db.prepare('SELECT seq, message_id, type, body, metadata FROM outbox ORDER BY seq LIMIT ?');
  const remove = db.prepare('DELETE FROM outbox WHERE seq = ?');
  const count = db.prepare('SELECT COUNT(*) AS n FROM outbox');
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = true;
  let failingSince: number | undefined;
  let lastWarning = 0;

  async function publishRow(row: OutboxRow): Promise<void> {
    const type = types.get(row.type);
    if (!type)
      throw new RpcError(
        Code.INTERNAL,
        `outbox row ${row.seq} has type ${row.type}, which this service does not publish`,
      );
    const metadata = JSON.parse(row.metadata) as Metadata;
    // the publish continues the trace of the handler that added the row, not whatever runs the relay
    await runInTraceContextOf(metadata, () =>
      events.publish(type, type.decode(row.body), { messageId: row.message_id, metadata, parent: null }),
    );
  }

  async function pass(): Promise<void> {
    for (;;) {
      const rows = select.all(options.batchSize ?? 100) as OutboxRow[];
      if (rows.length === 0) break;
      const results = await Promise.allSettled(rows.map(publishRow));
      const deleteConfirmed = db.transaction(() => {
        rows.forEach((row, index) => {
          if (results[index]!.status === 'fulfilled') remove.run(row.seq);
        });
      });
      deleteConfirmed();
      const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed) {
        failingSince ??= Date.now();
        if (Date.now() - lastWarning > 30_000) {
          lastWarning = Date.now();
          const reason = RpcError.from(failed.reason, Code.UNAVAILABLE);
          logger.warn(
            { pending: pending(), code: reason.codeName, reason: reason.rawMessage },
            'outbox: events not published yet; kept and retried (is every subscriber group declared and the broker up?)',
          );
        }
        return;
      }
      if (failingSince !== undefined) {
        logger.info({ afterMs: Date.now() - failingSince }, 'outbox: publishing again');
        failingSince = undefined;
      }
      if (stopped) return;
    }
  }

  function run(): void {
    if (running) {
      again = true;
      return;
    }
    running = pass()
      .catch((error: unknown) => logger.error({ err: error }, 'outbox relay pass failed'))
      .finally(() => {
        running = undefined;
        if (again && !stopped) {
          again = false;
          run();
        }
      });
  }

  function pending(): number {
    return (count.get() as { n: number }).n;
  }

  return {
    add(type, message) {
      const messageId = randomUUID();
      // with tracing on, the active span's context is saved with the row (replacing the caller's traceparent)
      const metadata = withActiveTraceContext(currentContext()?.metadata ?? currentEvent()?.metadata ?? {});
      insert.run(
        messageId,
        type.$type,
        Buffer.from(type.encode(type.fromPartial(message ?? {})).finish()),
        JSON.stringify(metadata),
        Date.now(),
      );
      return messageId;
    },
    kick() {
      if (!stopped) setImmediate(run);
    },
    start() {
      if (!stopped) return;
      stopped = false;
      timer = setInterval(run, retryIntervalMs);
      timer.unref();
      run();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await running;
    },
    pending,
  };
}
