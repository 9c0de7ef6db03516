import { deadLetterQueue, validateGroup } from '../core/events/events-topology.js';
import { Code, createEventBus, RpcError, type DeadLetter, type EventBus } from '../core/index.js';
import { brokerUrl, cliLogger, openInspector, openTransport } from './broker.js';
import type { DlqListInput, DlqReplayInput, DlqShowInput } from './commands.js';
import { loadContracts } from './contracts.js';
import { eventJson } from './event-json.js';
import { ExitCode, inputError } from './exit-codes.js';
import { parseCount } from './flags.js';
import { formatTable, type Output } from './output.js';

/** Default number of dead letters `dlq list` and `dlq show` read. */
export const DEFAULT_DLQ_LIMIT = 100;
/** Dead letters replayed per round trip of `dlq replay`; progress is shown after each. */
export const REPLAY_BATCH = 100;

function checkedGroup(group: string | undefined, command: string): string {
  try {
    validateGroup(group ?? '');
  } catch (error) {
    throw inputError(error, command);
  }
  return group!;
}

/** Runs `use` with an event bus on a fresh connection, closed afterwards. */
async function withBus<T>(url: string | undefined, use: (bus: EventBus) => Promise<T>): Promise<T> {
  const logger = cliLogger();
  const transport = await openTransport(brokerUrl(url), logger);
  const bus = createEventBus({ transport, service: 'warren-cli', logger });
  try {
    return await use(bus);
  } finally {
    await bus.close();
    await transport.close();
  }
}

function summary(letter: DeadLetter): Record<string, unknown> {
  return {
    messageId: letter.event.messageId,
    type: letter.event.type,
    publisher: letter.event.publisher,
    attempts: letter.attempts,
    reason: letter.reason,
    deadAt: letter.deadAt > 0 ? new Date(letter.deadAt).toISOString() : null,
    queue: letter.queue,
  };
}

function noneLine(out: Output, group: string): void {
  out.line(`No dead letters in group ${group} (${deadLetterQueue(group)} is empty).`);
}

/** `warren dlq list <group>`: one line per dead letter, oldest first; nothing is removed. */
export async function runList({ positionals, values, out }: DlqListInput): Promise<number> {
  const group = checkedGroup(positionals[0], 'dlq list');
  const limit = values.limit === undefined ? DEFAULT_DLQ_LIMIT : parseCount(values.limit, '--limit');
  const letters = await withBus(values.url, (bus) => bus.deadLetters(group, { limit }));
  if (out.json) {
    out.value({ group, queue: deadLetterQueue(group), deadLetters: letters.map(summary) });
  } else if (letters.length === 0) {
    noneLine(out, group);
  } else {
    const rows = letters.map((letter) => {
      const row = summary(letter);
      return [String(row['messageId']), String(row['type']), String(row['attempts']), String(row['deadAt'] ?? '?'), String(row['reason'])];
    });
    for (const line of formatTable([['MESSAGE ID', 'TYPE', 'ATTEMPTS', 'DEAD AT', 'REASON'], ...rows])) out.line(line);
  }
  return ExitCode.OK;
}

/** `warren dlq show <group> [message-id]`: dead letters in full, the event decoded with the protos. */
export async function runShow({ positionals, values, out }: DlqShowInput): Promise<number> {
  const group = checkedGroup(positionals[0], 'dlq show');
  const wanted = positionals[1];
  const limit = values.limit === undefined ? DEFAULT_DLQ_LIMIT : parseCount(values.limit, '--limit');
  const contracts = await loadContracts(values.proto, 'dlq show');
  const letters = await withBus(values.url, (bus) => bus.deadLetters(group, { limit }));
  const shown = wanted === undefined ? letters : letters.filter((letter) => letter.event.messageId === wanted);
  if (wanted !== undefined && shown.length === 0) {
    throw new RpcError(Code.NOT_FOUND, `no dead letter ${wanted} among the first ${letters.length} of group ${group}`);
  }
  const details = shown.map((letter) => ({ ...summary(letter), event: eventJson(letter.event, contracts.registry) }));
  if (out.json) {
    for (const detail of details) out.value(detail);
    return ExitCode.OK;
  }
  if (details.length === 0) noneLine(out, group);
  details.forEach((detail, index) => {
    if (index > 0) out.line();
    const { event, ...rest } = detail;
    for (const [key, value] of Object.entries(rest)) out.line(`${`${key}:`.padEnd(11)} ${String(value)}`);
    out.line(`${'published:'.padEnd(11)} ${event.publishedAt ?? '?'} by ${event.publisher || '?'}`);
    if (Object.keys(event.metadata).length > 0) out.line(`${'metadata:'.padEnd(11)} ${JSON.stringify(event.metadata)}`);
    if (event.message !== undefined) out.line(`message:\n${JSON.stringify(event.message, null, 2)}`);
    else out.line(`body:       ${event.bodyBase64 ?? ''} (base64; ${event.undecoded ?? 'not decoded'})`);
  });
  return ExitCode.OK;
}

/**
 * `warren dlq replay <group>`: counts the dead letters first (passive
 * declare), then replays them in batches of {@link REPLAY_BATCH} through the
 * bus, showing progress after each. Ctrl-C stops between batches (exit
 * 130); what was not replayed stays dead.
 */
export async function runReplay({ positionals, values, out, signal }: DlqReplayInput): Promise<number> {
  const group = checkedGroup(positionals[0], 'dlq replay');
  const limit = values.limit === undefined ? Number.POSITIVE_INFINITY : parseCount(values.limit, '--limit');
  const url = brokerUrl(values.url);
  const inspector = await openInspector(url);
  let waiting: number;
  try {
    const state = await inspector.check(deadLetterQueue(group));
    if (!state) throw new RpcError(Code.NOT_FOUND, `no dead-letter queue ${deadLetterQueue(group)}: no subscriber of group ${group} has declared it`);
    waiting = state.messages;
  } finally {
    await inspector.close();
  }
  const total = Math.min(waiting, limit);
  let replayed = 0;
  let kept = 0;
  if (total > 0) {
    await withBus(url, async (bus) => {
      out.progress(`Replaying ${total} dead letters of group ${group}: 0/${total}`);
      while (replayed + kept < total && !signal.aborted) {
        const batch = await bus.replay(group, { limit: Math.min(REPLAY_BATCH, total - replayed - kept) });
        replayed += batch.replayed;
        kept += batch.kept;
        out.progress(`Replaying ${total} dead letters of group ${group}: ${replayed + kept}/${total}${kept > 0 ? ` (${kept} kept: queue gone)` : ''}`);
        if (batch.replayed + batch.kept === 0) break; // emptied meanwhile (another replay)
      }
      out.endProgress();
    });
  }
  const interrupted = signal.aborted && replayed + kept < total;
  if (out.json) out.value({ group, total, replayed, kept, interrupted });
  else if (total === 0) noneLine(out, group);
  else out.line(`Replayed ${replayed} of ${total} dead letters of group ${group} to their queues${kept > 0 ? `; ${kept} kept (their queue no longer exists)` : ''}${interrupted ? '; interrupted, the rest are still dead' : ''}.`);
  return interrupted ? ExitCode.INTERRUPTED : ExitCode.OK;
}
