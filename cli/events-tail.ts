import { randomBytes } from 'node:crypto';
import { groupDeadLetterQueue, validatePattern } from '../core/protocol/index.js';
import { createEventBus } from '../core/index.js';
import { brokerUrl, cliLogger, openInspector, openTransport } from './broker.js';
import type { EventsTailInput } from './commands.js';
import { loadContracts } from './contracts.js';
import { eventJson, eventLine } from './event-json.js';
import { ExitCode, inputError } from './exit-codes.js';
import { parseCount } from './flags.js';

/** How often the tail looks at its broker connection, to report losing and regaining it. */
const CONNECTION_CHECK_MS = 500;

/**
 * `warren events tail [pattern]`: a broadcast subscription of the event bus
 * under a one-off group, so its queue is exclusive and auto-delete (see
 * core/protocol/event-names.ts):
 *
 * ```text
 *  exchange "warren.events" (topic) ──binding <pattern>──▶ queue "events.warren-cli-tail-<hex>.bcast.<instance>"
 *                                                          (exclusive, auto-delete) ──▶ this process: print, ack
 * ```
 *
 * The bus also declares the group's durable dead-letter queue; the tail
 * deletes it on the way out when it is empty (a tail never fails an event).
 * Runs until Ctrl-C or `--count` events (exit 0); a lost connection is
 * reported and the transport reconnects (events published meanwhile are
 * missed: the queue is gone with the connection).
 */
export async function run({ positionals, values, out, signal }: EventsTailInput): Promise<number> {
  const pattern = positionals[0] ?? '#';
  try {
    validatePattern(pattern);
  } catch (error) {
    throw inputError(error, 'events tail');
  }
  const count = values.count === undefined ? undefined : parseCount(values.count, '--count');
  const contracts = await loadContracts(values.proto, 'events tail');
  const url = brokerUrl(values.url);
  const logger = cliLogger();
  const transport = await openTransport(url, logger);
  const group = `warren-cli-tail-${randomBytes(4).toString('hex')}`;
  const bus = createEventBus({ transport, service: 'warren-cli', logger });

  let printed = 0;
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  signal.addEventListener('abort', () => stop(), { once: true });
  // The transport reconnects by itself and the bus declares the queue again; say so, since events are missed meanwhile.
  let connected = true;
  const watchdog = setInterval(() => {
    if (transport.connected === connected) return;
    connected = transport.connected;
    out.note(
      connected
        ? 'Reconnected; tailing again.'
        : 'Lost the connection to the broker; reconnecting. Events published until then are missed.',
    );
  }, CONNECTION_CHECK_MS);
  try {
    await bus.subscribe(
      pattern,
      (event, ctx) => {
        if (count !== undefined && printed >= count) return;
        const json = eventJson(
          { ...ctx, type: event.type, contentType: event.contentType, body: event.body },
          contracts.registry,
        );
        if (out.json) out.value(json);
        else out.line(eventLine(json));
        printed++;
        if (count !== undefined && printed >= count) stop();
      },
      { group, broadcast: true },
    );
    if (!signal.aborted) out.note(`Tailing events matching ${pattern} on ${transport.url}; Ctrl-C to stop.`);
    await stopped;
  } finally {
    clearInterval(watchdog);
    await bus.close().catch(() => undefined);
    await transport.close();
    await removeDeadLetterQueue(url, group);
  }
  return ExitCode.OK;
}

/** Best effort: the one-off group's dead-letter queue goes if it is empty. */
async function removeDeadLetterQueue(url: string, group: string): Promise<void> {
  const inspector = await openInspector(url).catch(() => undefined);
  if (!inspector) return;
  try {
    await inspector.deleteIfIdle(groupDeadLetterQueue(group)).catch(() => false);
  } finally {
    await inspector.close();
  }
}
