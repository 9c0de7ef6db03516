import { Code, createEventBus, type DeadLetter, type EventBus, RpcError } from '../core/index.js';
import { brokerUrl, cliLogger, openInspector, openTransport } from './broker.js';
import type { DlqListInput, DlqReplayInput, DlqShowInput } from './commands.js';
import { loadContracts } from './contracts.js';
import { listRpc, showRpc } from './dlq-rpc.js';
import { DEFAULT_REPLAY_TIMEOUT, runRpcReplay } from './dlq-rpc-replay.js';
import { parseDlqTarget, type DlqTarget } from './dlq-target.js';
import { eventJson } from './event-json.js';
import { CliError, ExitCode } from './exit-codes.js';
import { parseCount, parseDuration } from './flags.js';
import { formatTable, printRecords, type Output } from './output.js';
import { lockQueue } from './queue-lock.js';

/** Default number of dead letters `dlq list` and `dlq show` read. */
export const DEFAULT_DLQ_LIMIT = 100;
/** Dead letters replayed per round trip of `dlq replay` of a group; progress is shown after each. */
export const REPLAY_BATCH = 100;

type GroupTarget = Extract<DlqTarget, { kind: 'group' }>;

/**
 * Runs `use` with an event bus on a fresh connection, closed afterwards,
 * while holding the lock of the group's dead-letter queue (so `warren`
 * processes read it one at a time: see cli/queue-lock.ts).
 */
async function withBus<T>(
  url: string,
  target: GroupTarget,
  out: Output,
  signal: AbortSignal,
  use: (bus: EventBus) => Promise<T>,
): Promise<T> {
  const inspector = await openInspector(url);
  try {
    const lock = await lockQueue(inspector, target.queue, {
      signal,
      onWait: () => out.note(`Waiting for another warren process working on ${target.queue}...`),
    });
    try {
      const logger = cliLogger();
      const transport = await openTransport(url, logger);
      const bus = createEventBus({ transport, service: 'warren-cli', logger });
      try {
        return await use(bus);
      } finally {
        await bus.close();
        await transport.close();
      }
    } finally {
      await lock.release();
    }
  } finally {
    await inspector.close();
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

function noneLine(out: Output, target: GroupTarget): void {
  out.line(`No dead letters in group ${target.group} (${target.queue} is empty).`);
}

function limitOf(flag: string | undefined, fallback: number): number {
  return flag === undefined ? fallback : parseCount(flag, '--limit');
}

/** `warren dlq list <group | pkg.Service>`: one line per dead letter, oldest first; nothing is removed. */
export async function runList({ positionals, values, out, signal }: DlqListInput): Promise<number> {
  const target = parseDlqTarget(positionals[0]!, 'dlq list');
  const limit = limitOf(values.limit, DEFAULT_DLQ_LIMIT);
  const url = brokerUrl(values.url);
  if (target.kind === 'service') return listRpc(target, { url, out, signal, limit });
  const letters = await withBus(url, target, out, signal, (bus) => bus.deadLetters(target.group, { limit }));
  if (out.json) {
    out.value({ group: target.group, queue: target.queue, deadLetters: letters.map(summary) });
  } else if (letters.length === 0) {
    noneLine(out, target);
  } else {
    const rows = letters.map((letter) => {
      const row = summary(letter);
      return [
        String(row['messageId']),
        String(row['type']),
        String(row['attempts']),
        String(row['deadAt'] ?? '?'),
        String(row['reason']),
      ];
    });
    for (const line of formatTable([['MESSAGE ID', 'TYPE', 'ATTEMPTS', 'DEAD AT', 'REASON'], ...rows])) out.line(line);
  }
  return ExitCode.OK;
}

/** `warren dlq show <group | pkg.Service> [message-id]`: dead letters in full, the event or request decoded with the protos. */
export async function runShow({ positionals, values, out, signal }: DlqShowInput): Promise<number> {
  const target = parseDlqTarget(positionals[0]!, 'dlq show');
  const wanted = positionals[1];
  const limit = limitOf(values.limit, DEFAULT_DLQ_LIMIT);
  const contracts = await loadContracts(values.proto, 'dlq show');
  const url = brokerUrl(values.url);
  if (target.kind === 'service') return showRpc(target, wanted, contracts.registry, { url, out, signal, limit });
  const letters = await withBus(url, target, out, signal, (bus) => bus.deadLetters(target.group, { limit }));
  const shown = wanted === undefined ? letters : letters.filter((letter) => letter.event.messageId === wanted);
  if (wanted !== undefined && shown.length === 0) {
    throw new RpcError(
      Code.NOT_FOUND,
      `no dead letter ${wanted} among the first ${letters.length} of group ${target.group}`,
    );
  }
  const details = shown.map((letter) => ({ ...summary(letter), event: eventJson(letter.event, contracts.registry) }));
  printRecords(
    out,
    details,
    () => noneLine(out, target),
    (detail) => {
      const { event, ...rest } = detail;
      for (const [key, value] of Object.entries(rest)) out.line(`${`${key}:`.padEnd(11)} ${String(value)}`);
      out.line(`${'published:'.padEnd(11)} ${event.publishedAt ?? '?'} by ${event.publisher || '?'}`);
      if (Object.keys(event.metadata).length > 0)
        out.line(`${'metadata:'.padEnd(11)} ${JSON.stringify(event.metadata)}`);
      if (event.message !== undefined) out.line(`message:\n${JSON.stringify(event.message, null, 2)}`);
      else out.line(`body:       ${event.bodyBase64 ?? ''} (base64; ${event.undecoded ?? 'not decoded'})`);
    },
  );
  return ExitCode.OK;
}

function usage(message: string): CliError {
  return new CliError(ExitCode.USAGE, Code.INVALID_ARGUMENT, message, 'dlq replay');
}

/**
 * `warren dlq replay <group | pkg.Service>`. A group's dead letters go back
 * to their queues (see {@link replayGroup}); a service's poison requests are
 * sent again as new calls, each only when asked for by `--id` or `--all`
 * (see cli/dlq-rpc-replay.ts).
 */
export async function runReplay({ positionals, values, out, signal }: DlqReplayInput): Promise<number> {
  const target = parseDlqTarget(positionals[0]!, 'dlq replay');
  if (target.kind === 'group') {
    const misplaced = (['id', 'force', 'timeout'] as const)
      .filter((flag) => values[flag] !== undefined)
      .map((flag) => `--${flag}`);
    if (misplaced.length > 0)
      throw usage(
        `${misplaced.join(', ')} ${misplaced.length === 1 ? 'applies' : 'apply'} to poison requests of a service (pkg.Service), not to the event group ${target.group}`,
      );
    return replayGroup(target, limitOf(values.limit, Number.POSITIVE_INFINITY), brokerUrl(values.url), out, signal);
  }
  const ids = values.id;
  if (ids === undefined && values.all !== true) {
    throw usage(
      `say which poison requests of ${target.service} to replay: --id <message-id> (repeatable) or --all; 'warren dlq list ${target.service}' lists them`,
    );
  }
  if (ids !== undefined && values.all === true) throw usage('--id and --all exclude each other');
  if (ids !== undefined && values.limit !== undefined) throw usage('--limit goes with --all, not with --id');
  const timeoutMs = parseDuration(values.timeout ?? DEFAULT_REPLAY_TIMEOUT, '--timeout');
  const limit = limitOf(values.limit, Number.POSITIVE_INFINITY);
  const contracts = await loadContracts(values.proto, 'dlq replay');
  contracts.service(target.service); // exit 2 before connecting when the protos do not have it: idempotency comes from them
  return runRpcReplay(target, {
    url: values.url,
    out,
    signal,
    registry: contracts.registry,
    ids,
    limit,
    force: values.force === true,
    timeoutMs,
  });
}

/**
 * A group's replay: counts the dead letters first (passive declare), then
 * replays them in batches of {@link REPLAY_BATCH} through the bus, showing
 * progress after each. Ctrl-C stops between batches (exit 130); what was not
 * replayed stays dead.
 */
async function replayGroup(
  target: GroupTarget,
  limit: number,
  url: string,
  out: Output,
  signal: AbortSignal,
): Promise<number> {
  const { group, queue } = target;
  const inspector = await openInspector(url);
  let waiting: number;
  try {
    const state = await inspector.check(queue);
    if (!state)
      throw new RpcError(
        Code.NOT_FOUND,
        `no dead-letter queue ${queue}: no subscriber of group ${group} has declared it`,
      );
    waiting = state.messages;
  } finally {
    await inspector.close();
  }
  const total = Math.min(waiting, limit);
  let replayed = 0;
  let kept = 0;
  if (total > 0) {
    await withBus(url, target, out, signal, async (bus) => {
      out.progress(`Replaying ${total} dead letters of group ${group}: 0/${total}`);
      while (replayed + kept < total && !signal.aborted) {
        const batch = await bus.replay(group, { limit: Math.min(REPLAY_BATCH, total - replayed - kept) });
        replayed += batch.replayed;
        kept += batch.kept;
        out.progress(
          `Replaying ${total} dead letters of group ${group}: ${replayed + kept}/${total}${kept > 0 ? ` (${kept} kept: queue gone)` : ''}`,
        );
        if (batch.replayed + batch.kept === 0) break; // emptied meanwhile (another replay)
      }
      out.endProgress();
    });
  }
  const interrupted = signal.aborted && replayed + kept < total;
  if (out.json) out.value({ group, total, replayed, kept, interrupted });
  else if (total === 0) noneLine(out, target);
  else
    out.line(
      `Replayed ${replayed} of ${total} dead letters of group ${group} to their queues${kept > 0 ? `; ${kept} kept (their queue no longer exists)` : ''}${interrupted ? '; interrupted, the rest are still dead' : ''}.`,
    );
  return interrupted ? ExitCode.INTERRUPTED : ExitCode.OK;
}
