import { decodeMessage, parseContentType } from '../core/protocol/index.js';
import { isIdempotent } from '../core/protocol/index.js';
import { type IdempotencyLevel } from '../core/index.js';
import { Code, RpcError } from '../core/index.js';
import { type DynamicMethod, type ProtoRegistry } from '../core/tooling.js';
import { openInspector } from './broker.js';
import { idempotencyLabel } from './contract-view.js';
import type { DlqTarget } from './dlq-target.js';
import { ExitCode } from './exit-codes.js';
import { formatTable, printRecords, type Output } from './output.js';
import { lockQueue } from './queue-lock.js';
import { type HeldDeadLetters, holdRpcDeadLetters, type RpcDeadLetter } from '../core/tooling.js';

/** A service's dead-letter target. */
export type ServiceTarget = Extract<DlqTarget, { kind: 'service' }>;

/** Options of {@link withHeldDeadLetters}. */
export interface HeldOptions {
  readonly url: string;
  readonly out: Output;
  readonly signal: AbortSignal;
  /** Most dead letters to fetch. */
  readonly limit: number;
  readonly enough?: (letters: readonly RpcDeadLetter[]) => boolean;
}

/**
 * Runs `use` with a service's dead letters held (fetched unacknowledged):
 * NOT_FOUND when the service has no dead-letter queue; the queue's lock is
 * taken first, so `warren` processes read it one at a time, each seeing all
 * of it (see cli/queue-lock.ts). Everything not removed goes back in place,
 * in order, when `use` is done (or fails, or the process dies).
 */
export async function withHeldDeadLetters<T>(
  target: ServiceTarget,
  options: HeldOptions,
  use: (held: HeldDeadLetters) => Promise<T>,
): Promise<T> {
  const { queue, service } = target;
  const inspector = await openInspector(options.url);
  try {
    if ((await inspector.check(queue)) === undefined) {
      throw new RpcError(
        Code.NOT_FOUND,
        `no dead-letter queue ${queue}: no server of ${service} has declared it (is the name right? warren list shows the services)`,
      );
    }
    const lock = await lockQueue(inspector, queue, {
      signal: options.signal,
      onWait: () => options.out.note(`Waiting for another warren process working on ${queue}...`),
    });
    try {
      const state = await inspector.check(queue);
      const held = await holdRpcDeadLetters(await inspector.openChannel(), queue, {
        count: state?.messages ?? 0,
        limit: options.limit,
        ...(options.enough === undefined ? {} : { enough: options.enough }),
      });
      try {
        return await use(held);
      } finally {
        await held.release();
      }
    } finally {
      await lock.release();
    }
  } finally {
    await inspector.close();
  }
}

/** The method of a dead letter in the protos, if they have it. */
export function findMethod(registry: ProtoRegistry, path: string): DynamicMethod | undefined {
  const slash = path.lastIndexOf('/');
  if (slash <= 0) return undefined;
  const service = registry.findService(path.slice(0, slash));
  const name = path.slice(slash + 1);
  return service === undefined ? undefined : Object.values(service.methods).find((method) => method.name === name);
}

/** What a dead letter's method allows: its level, or `undefined` when the protos do not have the method. */
export function idempotencyOf(registry: ProtoRegistry, letter: RpcDeadLetter): IdempotencyLevel | undefined {
  return findMethod(registry, letter.method)?.options.idempotencyLevel;
}

/** True when replaying `letter` needs `--force`: its method is not idempotent, or unknown to the protos. */
export function needsForce(registry: ProtoRegistry, letter: RpcDeadLetter): boolean {
  const level = idempotencyOf(registry, letter);
  return level === undefined || !isIdempotent(level);
}

/** The request decoded with the protos, or its raw body and why it could not be. */
export function requestJson(
  registry: ProtoRegistry | undefined,
  letter: RpcDeadLetter,
): { request?: unknown; undecoded?: string; bodyBase64?: string } {
  const raw = (undecoded: string): { undecoded: string; bodyBase64: string } => ({
    undecoded,
    bodyBase64: letter.body.toString('base64'),
  });
  const method = registry === undefined ? undefined : findMethod(registry, letter.method);
  if (!method) return raw(`no method ${letter.method || '(none)'} in the protos`);
  const contentType = parseContentType(letter.contentType);
  if (contentType === undefined) return raw(`unsupported content type ${letter.contentType}`);
  try {
    return {
      request: method.requestType.toJSON(
        decodeMessage(method.requestType, letter.body, contentType, `request of ${letter.method}`),
      ),
    };
  } catch (error) {
    return raw((error as Error).message);
  }
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

/** What every view of a poison request shows (times as ISO 8601, null when not recorded). */
export interface LetterView {
  readonly messageId: string;
  readonly method: string;
  readonly reason: string;
  readonly deliveries: number | null;
  readonly caller: string | null;
  readonly sentAt: string | null;
  readonly deadline: string | null;
  readonly deadAt: string | null;
}

/** The {@link LetterView} of a dead letter. */
export function letterView(letter: RpcDeadLetter): LetterView {
  return {
    messageId: letter.messageId,
    method: letter.method,
    reason: letter.reason,
    deliveries: letter.deliveries ?? null,
    caller: letter.caller ?? null,
    sentAt: iso(letter.sentAt),
    deadline: iso(letter.deadline),
    deadAt: iso(letter.deadAt),
  };
}

function noneLine(out: Output, target: ServiceTarget): void {
  out.line(`No poison requests of ${target.service} (${target.queue} is empty).`);
}

/** `warren dlq list <pkg.Service>`: one line per poison request, oldest first; nothing is removed. */
export async function listRpc(target: ServiceTarget, options: HeldOptions): Promise<number> {
  const letters = await withHeldDeadLetters(target, options, async (held) => held.letters);
  const { out } = options;
  if (out.json) {
    out.value({
      service: target.service,
      queue: target.queue,
      deadLetters: letters.map((letter) => ({ ...letterView(letter), metadata: letter.metadata })),
    });
  } else if (letters.length === 0) {
    noneLine(out, target);
  } else {
    const rows = letters.map((letter) => [
      letter.messageId,
      letter.method,
      String(letter.deliveries ?? '?'),
      letter.caller ?? '?',
      iso(letter.deadAt) ?? '?',
      letter.reason,
    ]);
    for (const line of formatTable([['MESSAGE ID', 'METHOD', 'DELIVERIES', 'CALLER', 'DEAD AT', 'REASON'], ...rows]))
      out.line(line);
  }
  return ExitCode.OK;
}

/** `warren dlq show <pkg.Service> [id]`: poison requests in full, the request decoded with the protos. */
export async function showRpc(
  target: ServiceTarget,
  wanted: string | undefined,
  registry: ProtoRegistry,
  options: HeldOptions,
): Promise<number> {
  const enough =
    wanted === undefined
      ? undefined
      : (letters: readonly RpcDeadLetter[]): boolean => letters.some((letter) => letter.messageId === wanted);
  const letters = await withHeldDeadLetters(
    target,
    { ...options, ...(enough === undefined ? {} : { enough }) },
    async (held) => held.letters,
  );
  const shown = wanted === undefined ? letters : letters.filter((letter) => letter.messageId === wanted);
  if (wanted !== undefined && shown.length === 0) {
    throw new RpcError(
      Code.NOT_FOUND,
      `no poison request ${wanted} among the first ${letters.length} in ${target.queue}`,
    );
  }
  const { out } = options;
  const details = shown.map((letter) => ({
    ...letterView(letter),
    idempotency: idempotencyOf(registry, letter) ?? null,
    contentType: letter.contentType ?? 'application/x-protobuf',
    metadata: letter.metadata,
    ...requestJson(registry, letter),
  }));
  printRecords(
    out,
    details,
    () => noneLine(out, target),
    (detail, index) => {
      const field = (key: string, value: string | number | null): void =>
        out.line(`${`${key}:`.padEnd(11)} ${value ?? '?'}`);
      const level = detail.idempotency;
      const replay = level !== null && isIdempotent(level) ? '' : ': replay needs --force';
      field('messageId', detail.messageId);
      field('method', `${detail.method} (${level === null ? 'not in the protos' : idempotencyLabel(level)}${replay})`);
      field('reason', detail.reason);
      field('deliveries', detail.deliveries);
      field('caller', detail.caller);
      field('sentAt', detail.sentAt);
      const deadline = shown[index]!.deadline;
      field(
        'deadline',
        detail.deadline === null
          ? null
          : `${detail.deadline}${deadline !== undefined && deadline < Date.now() ? ' (passed)' : ''}`,
      );
      field('deadAt', detail.deadAt);
      if (Object.keys(detail.metadata).length > 0) field('metadata', JSON.stringify(detail.metadata));
      if (detail.request !== undefined) out.line(`request:\n${JSON.stringify(detail.request, null, 2)}`);
      else field('body', `${detail.bodyBase64 ?? ''} (base64; ${detail.undecoded ?? 'not decoded'})`);
    },
  );
  return ExitCode.OK;
}
