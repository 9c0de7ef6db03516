import { randomUUID } from 'node:crypto';
import { openCallScope } from '../core/tooling.js';
import { decodeMessage, parseContentType } from '../core/protocol/index.js';
import {
  Code,
  codeName,
  type Metadata,
  RpcError,
  type Transport,
  type WireReply,
  type WireRequest,
} from '../core/index.js';
import { NOT_PROCESSED_CODES, replyToError } from '../core/protocol/index.js';
import { type ProtoRegistry } from '../core/tooling.js';
import { sendUnary } from '../core/tooling.js';
import { brokerUrl, cliLogger, openTransport } from './broker.js';
import { findMethod, letterView, needsForce, requestJson, withHeldDeadLetters, type ServiceTarget } from './dlq-rpc.js';
import { CliError, ExitCode, rpcExitCode } from './exit-codes.js';
import { formatDuration } from './flags.js';
import type { Output } from './output.js';
import { type RpcDeadLetter } from '../core/tooling.js';

/** Default deadline of each replayed request (`--timeout`). */
export const DEFAULT_REPLAY_TIMEOUT = '10s';
/** Without a terminal, progress is printed after this many requests (and after the last). */
export const PROGRESS_EVERY = 100;

/** What became of one replayed request. */
export interface ReplayOutcome {
  readonly messageId: string;
  readonly method: string;
  /** The reply's status, or why there was none (DEADLINE_EXCEEDED, UNAVAILABLE: no queue...). */
  readonly status: string;
  readonly code: Code;
  readonly message: string;
  /** An instance of the service took the request and replied. */
  readonly answered: boolean;
  /** Taken out of the dead-letter queue: answered, with a status other than UNAVAILABLE or RESOURCE_EXHAUSTED. */
  readonly removed: boolean;
  /** The reply (OK) decoded with the protos, or the error's metadata. */
  readonly response?: unknown;
  readonly metadata?: Metadata;
}

/** What `warren dlq replay <pkg.Service>` was asked to do. */
export interface RpcReplayOptions {
  readonly url: string | undefined;
  readonly out: Output;
  readonly signal: AbortSignal;
  readonly registry: ProtoRegistry;
  /** Replay these message ids; `undefined` means every one (`--all`), up to `limit`. */
  readonly ids: readonly string[] | undefined;
  readonly limit: number;
  /** Replay non-idempotent methods too (`--force`). */
  readonly force: boolean;
  readonly timeoutMs: number;
}

/**
 * Sends a dead letter again as a new call from this process: same method,
 * body, content type, metadata and `message_id` (it is still the same
 * logical call: handlers that de-duplicate by it recognise it), a fresh
 * deadline, the CLI's own reply address and broker user. Resolves whatever
 * happened; never rejects.
 */
export async function replayRequest(
  transport: Transport,
  service: string,
  letter: RpcDeadLetter,
  timeoutMs: number,
  registry: ProtoRegistry,
): Promise<Omit<ReplayOutcome, 'removed'>> {
  const base = { messageId: letter.messageId, method: letter.method };
  const contentType = parseContentType(letter.contentType);
  if (contentType === undefined) {
    return {
      ...base,
      status: codeName(Code.INVALID_ARGUMENT),
      code: Code.INVALID_ARGUMENT,
      message: `not sent: unsupported content type ${letter.contentType}`,
      answered: false,
    };
  }
  const deadline = Date.now() + timeoutMs;
  const request: WireRequest = {
    service,
    method: letter.method,
    contentType,
    body: letter.body,
    metadata: letter.metadata,
    deadline,
    messageId: letter.messageId || randomUUID(),
  };
  const scope = openCallScope(deadline, letter.method);
  let reply: WireReply;
  try {
    reply = await scope.race(sendUnary(transport, request, scope.signal));
  } catch (error) {
    const failure = RpcError.from(error, Code.UNAVAILABLE);
    const message =
      failure.code === Code.DEADLINE_EXCEEDED ? `no answer within ${formatDuration(timeoutMs)}` : failure.rawMessage;
    return { ...base, status: codeName(failure.code), code: failure.code, message, answered: false };
  } finally {
    scope.dispose();
  }
  if (reply.status !== Code.OK) {
    const error = replyToError(reply);
    return {
      ...base,
      status: codeName(error.code),
      code: error.code,
      message: error.rawMessage,
      answered: true,
      ...(Object.keys(error.metadata).length > 0 ? { metadata: error.metadata } : {}),
    };
  }
  const method = findMethod(registry, letter.method);
  let response: unknown;
  try {
    response = method
      ? method.responseType.toJSON(
          decodeMessage(method.responseType, reply.body, reply.contentType, `reply of ${letter.method}`),
        )
      : undefined;
  } catch {
    response = undefined; // answered OK all the same; the reply just does not decode with these protos
  }
  return {
    ...base,
    status: 'OK',
    code: Code.OK,
    message: '',
    answered: true,
    ...(response === undefined ? {} : { response }),
    ...(Object.keys(reply.metadata).length > 0 ? { metadata: reply.metadata } : {}),
  };
}

/** A dead letter leaves the queue once its replay was answered, unless the service said it did not process it. */
export function shouldRemove(outcome: Omit<ReplayOutcome, 'removed'>): boolean {
  return outcome.answered && !NOT_PROCESSED_CODES.has(outcome.code);
}

function outcomeLine(outcome: ReplayOutcome): string {
  const status = outcome.message === '' ? outcome.status : `${outcome.status}: ${outcome.message}`;
  return `${outcome.messageId || '(no id)'}  ${outcome.method}  ${status}  (${outcome.removed ? 'removed' : 'kept'})`;
}

function refusal(unsafe: readonly RpcDeadLetter[], total: number, registry: ProtoRegistry): string {
  const methods = [...new Set(unsafe.map((letter) => letter.method || '(no method)'))];
  const unknown = methods.filter((method) => findMethod(registry, method) === undefined);
  const which =
    unsafe.length === total
      ? total === 1
        ? 'the poison request'
        : `all ${total} poison requests`
      : `${unsafe.length} of the ${total} poison requests`;
  return (
    `not replayed: ${which} to replay ${unsafe.length === 1 ? 'is a call' : 'are calls'} of ${methods.join(', ')}, ` +
    `${unknown.length === methods.length ? 'not in the protos, so not known to be idempotent' : 'not idempotent'}. ` +
    'Each may have run partly before its instance died; running it again is your decision: add --force, or pick others with --id. Nothing was sent.'
  );
}

/**
 * `warren dlq replay <pkg.Service> (--id <message-id>... | --all)`: the
 * chosen poison requests are held (nobody else can take them meanwhile),
 * checked (non-idempotent ones need `--force`), then replayed one at a time,
 * gently, to a service that was just crashing on them; each outcome is
 * printed as it comes. Those answered are removed, the rest go back in place.
 * Ctrl-C stops after the request in flight (exit 130).
 *
 * Exit: 0 when every replay was answered OK; else 10 + the status code of
 * the first that was not (answered with an error, or no answer).
 */
export async function runRpcReplay(target: ServiceTarget, options: RpcReplayOptions): Promise<number> {
  const { out, signal, registry, ids } = options;
  const url = brokerUrl(options.url);
  const enough =
    ids === undefined
      ? undefined
      : (letters: readonly RpcDeadLetter[]): boolean =>
          ids.every((id) => letters.some((letter) => letter.messageId === id));
  const limit = ids === undefined ? options.limit : Number.POSITIVE_INFINITY;
  return withHeldDeadLetters(
    target,
    { url, out, signal, limit, ...(enough === undefined ? {} : { enough }) },
    async (held) => {
      const selected =
        ids === undefined ? held.letters : held.letters.filter((letter) => ids.includes(letter.messageId));
      const missing = (ids ?? []).filter((id) => !selected.some((letter) => letter.messageId === id));
      if (missing.length > 0) {
        throw new RpcError(
          Code.NOT_FOUND,
          `no poison request ${missing.join(', ')} in ${target.queue} (it holds ${held.letters.length}); nothing was replayed`,
        );
      }
      const unsafe = selected.filter((letter) => needsForce(registry, letter));
      if (unsafe.length > 0 && !options.force)
        throw new CliError(
          ExitCode.USAGE,
          Code.FAILED_PRECONDITION,
          refusal(unsafe, selected.length, registry),
          'dlq replay',
        );

      const outcomes: ReplayOutcome[] = [];
      const total = selected.length;
      if (total > 0) {
        const transport = await openTransport(url, cliLogger());
        try {
          const progress = (): void =>
            out.progress(
              `Replaying ${total} poison request${total === 1 ? '' : 's'} of ${target.service}: ${outcomes.length}/${total}`,
            );
          progress();
          for (const letter of selected) {
            if (signal.aborted) break;
            const sent = await replayRequest(transport, target.service, letter, options.timeoutMs, registry);
            const outcome: ReplayOutcome = { ...sent, removed: shouldRemove(sent) };
            if (outcome.removed) held.remove(letter);
            outcomes.push(outcome);
            if (!out.json) out.line(outcomeLine(outcome));
            if (out.interactive || outcomes.length % PROGRESS_EVERY === 0 || outcomes.length === total) progress();
          }
          out.endProgress();
        } finally {
          await transport.close();
        }
      }
      const removed = outcomes.filter((outcome) => outcome.removed).length;
      const interrupted = outcomes.length < total;
      if (out.json) {
        const requests = new Map(selected.map((letter) => [letter, requestJson(registry, letter)]));
        out.value({
          service: target.service,
          queue: target.queue,
          total,
          replayed: outcomes.length,
          removed,
          kept: total - removed,
          interrupted,
          outcomes: outcomes.map((outcome, index) => ({
            ...outcome,
            deadLetter: {
              ...letterView(selected[index]!),
              metadata: selected[index]!.metadata,
              ...requests.get(selected[index]!),
            },
          })),
        });
      } else if (total === 0) {
        out.line(`No poison requests of ${target.service} (${target.queue} is empty).`);
      } else {
        const kept = total - removed;
        out.line(
          `Replayed ${outcomes.length} of ${total} poison request${total === 1 ? '' : 's'} of ${target.service}: ${removed} answered and removed` +
            `${kept > 0 ? `, ${kept} kept in ${target.queue}` : ''}${interrupted ? ' (interrupted: the rest were not sent)' : ''}.`,
        );
      }
      if (interrupted) return ExitCode.INTERRUPTED;
      const failed = outcomes.find((outcome) => outcome.code !== Code.OK);
      return failed === undefined ? ExitCode.OK : rpcExitCode(failed.code);
    },
  );
}
