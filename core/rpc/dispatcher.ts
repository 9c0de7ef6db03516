import { Code } from '../protocol/code.js';
import { decodeMessage, encodeMessage, PROTOBUF } from '../protocol/content-type.js';
import { isIdempotent, type MethodInfo } from '../protocol/definition.js';
import { runInContext, type HandlerContext } from '../handler-context.js';
import { answerHealthCheck } from './health.js';
import { HEALTH_CHECK_PATH } from '../protocol/rpc-names.js';
import { isPast, remainingMs, startDeadlineTimer } from '../protocol/deadline.js';
import { chainInterceptors, type Interceptor, type UnaryCall, type UnaryResult } from '../interceptor.js';
import type { Logger } from '../observability/logger.js';
import { validateMetadata } from '../protocol/metadata.js';
import { errorToReply } from '../protocol/reply-error.js';
import { RpcError } from '../protocol/rpc-error.js';
import type { Delivery, WireReply, WireRequest } from '../transport.js';

/** A user handler, untyped. */
export type MethodHandler = (request: any, ctx: HandlerContext) => unknown;

/** What the dispatcher needs from its server. */
export interface DispatcherOptions {
  readonly instance: string;
  readonly logger: Logger;
  readonly interceptors: readonly Interceptor[];
  readonly requireIdentity: boolean;
  /** Per-method access control: the refusal of a call, or `undefined` to let it run (see core/security/access-policy.ts). */
  readonly authorize?: ((method: string, userId: string | undefined) => RpcError | undefined) | undefined;
  readonly lookup: (service: string, method: string) => { info: MethodInfo; handler: MethodHandler } | undefined;
  readonly methodsOf: (service: string) => string[];
  readonly isServing: () => boolean;
}

/** Turns deliveries into replies: checks, decode, interceptors, handler, encode. */
export interface Dispatcher {
  dispatch(service: string, delivery: Delivery): Promise<WireReply | null>;
  /** Aborts every running handler and stops waiting for them (shutdown). */
  abandonAll(reason: string): void;
}

/** Thrown into the transport to leave a request unacknowledged for redelivery. */
export class Abandoned extends Error {
  override readonly name = 'Abandoned';
}

/**
 * Creates the dispatcher shared by every transport. Order of checks:
 * expired → dropped unanswered; unsupported content type → INVALID_ARGUMENT;
 * unknown method → UNIMPLEMENTED; missing identity → UNAUTHENTICATED;
 * caller not allowed by the access policy → PERMISSION_DENIED (before the
 * body is decoded); non-idempotent redelivery → ABORTED (never run twice); bad body →
 * INVALID_ARGUMENT; then interceptors and the handler, bounded by the deadline.
 */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { logger } = options;
  const running = new Set<AsyncRun>();
  const intercepted = options.interceptors.length > 0;
  const invoke = chainInterceptors(options.interceptors, async (call: UnaryCall): Promise<UnaryResult> => {
    const entry = options.lookup(call.method.service, call.method.path)!;
    const response = await entry.handler(call.request, call.context!);
    return { response, metadata: call.context!.responseMetadata };
  });

  function dispatch(service: string, delivery: Delivery): Promise<WireReply | null> {
    try {
      return check(service, delivery);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  function check(service: string, delivery: Delivery): Promise<WireReply | null> {
    const { request } = delivery;
    const contentType = request.contentType;
    if (isPast(request.deadline)) {
      logger.info(
        { method: request.method, messageId: request.messageId, overdueMs: Date.now() - request.deadline },
        'request expired before it was handled; dropped unanswered',
      );
      return Promise.resolve(null);
    }
    if (delivery.malformed !== undefined) {
      return Promise.resolve(errorToReply(new RpcError(Code.INVALID_ARGUMENT, delivery.malformed), contentType));
    }
    if (delivery.unsupportedContentType !== undefined) {
      return Promise.resolve(
        errorToReply(
          new RpcError(
            Code.INVALID_ARGUMENT,
            `unsupported content type ${JSON.stringify(delivery.unsupportedContentType)}; use application/x-protobuf or application/json`,
          ),
          PROTOBUF,
        ),
      );
    }
    if (request.method === HEALTH_CHECK_PATH) {
      return Promise.resolve(
        answerHealthCheck(request, {
          service,
          instance: options.instance,
          methods: options.methodsOf(service),
          serving: options.isServing(),
        }),
      );
    }
    const entry = options.lookup(service, request.method);
    if (!entry) {
      return Promise.resolve(
        errorToReply(
          new RpcError(
            Code.UNIMPLEMENTED,
            `method ${JSON.stringify(request.method)} is not implemented by service ${service}`,
          ),
          contentType,
        ),
      );
    }
    if (options.requireIdentity && !delivery.userId) {
      return Promise.resolve(
        errorToReply(new RpcError(Code.UNAUTHENTICATED, 'request carries no broker-validated user_id'), contentType),
      );
    }
    const refused = options.authorize?.(request.method, delivery.userId);
    if (refused !== undefined) return Promise.resolve(errorToReply(refused, contentType));
    if (delivery.redelivered && !isIdempotent(entry.info.idempotency)) {
      logger.warn(
        { method: request.method, messageId: request.messageId },
        'redelivered request of a non-idempotent method refused; it may have run on an instance that died',
      );
      return Promise.resolve(
        errorToReply(
          new RpcError(
            Code.ABORTED,
            `${request.method} is not idempotent and was redelivered after a server failure; it may or may not have run, and was not run again`,
          ),
          contentType,
        ),
      );
    }
    let message: unknown;
    try {
      message = decodeMessage(entry.info.requestType, request.body, contentType, `request of ${request.method}`);
    } catch (error) {
      return Promise.resolve(errorToReply(RpcError.from(error, Code.INVALID_ARGUMENT), contentType));
    }
    return runHandler(entry.info, entry.handler, message, delivery);
  }

  /**
   * Runs the handler inside its context. Without interceptors the handler is
   * called directly and a synchronous answer is encoded at once (it cannot be
   * interrupted, so there is nothing for a deadline timer to do); anything
   * asynchronous gets the deadline timer and can be abandoned on shutdown.
   * The handler's AbortSignal is created only if someone reads it.
   */
  function runHandler(
    info: MethodInfo,
    handler: MethodHandler,
    message: unknown,
    delivery: Delivery,
  ): Promise<WireReply | null> {
    const { request } = delivery;
    const cancel = new LazyAbort();
    const ctx: HandlerContext = {
      method: info,
      metadata: request.metadata,
      deadline: request.deadline,
      get signal() {
        return cancel.signal();
      },
      caller: { userId: delivery.userId },
      messageId: request.messageId,
      redelivered: delivery.redelivered,
      instance: options.instance,
      timeRemaining: remainingUntil(request.deadline),
      responseMetadata: {},
    };
    let outcome: unknown;
    try {
      outcome = intercepted
        ? runInContext(ctx, () =>
            invoke({
              side: 'server',
              method: info,
              request: message,
              metadata: request.metadata,
              deadline: request.deadline,
              signal: cancel.signal(),
              context: ctx,
            }),
          )
        : runInContext(ctx, () => handler(message, ctx));
    } catch (error) {
      return Promise.resolve(failure(request, error));
    }
    if (!isThenable(outcome))
      return Promise.resolve(success(info, request, { response: outcome, metadata: ctx.responseMetadata }));
    const pending = outcome;
    return new Promise<WireReply | null>((resolve, reject) => {
      const run = new AsyncRun(request, cancel, resolve, reject, running, logger);
      pending.then(
        (result) => {
          if (run.finish())
            resolve(
              success(
                info,
                request,
                intercepted ? (result as UnaryResult) : { response: result, metadata: ctx.responseMetadata },
              ),
            );
        },
        (error: unknown) => {
          if (run.finish()) resolve(failure(request, error));
        },
      );
    });
  }

  /** Encodes a handler's answer; a bad answer (metadata, fields) becomes an error reply. */
  function success(info: MethodInfo, request: WireRequest, result: UnaryResult): WireReply {
    try {
      validateMetadata(result.metadata);
      const response = info.responseType.fromPartial(result.response ?? {});
      const body = encodeMessage(info.responseType, response, request.contentType);
      return { status: Code.OK, message: '', contentType: request.contentType, body, metadata: result.metadata };
    } catch (error) {
      return failure(request, error);
    }
  }

  function failure(request: WireRequest, error: unknown): WireReply {
    const rpcError = RpcError.from(error);
    if (!(error instanceof RpcError)) {
      const requestId = request.metadata['request-id'];
      logger.error(
        {
          method: request.method,
          messageId: request.messageId,
          ...(requestId === undefined ? {} : { requestId }),
          err: error,
        },
        'handler failed; INTERNAL sent to the caller',
      );
    }
    return errorToReply(rpcError, request.contentType);
  }

  return {
    dispatch,
    abandonAll(reason) {
      for (const run of [...running]) run.abandon(reason);
    },
  };
}

/**
 * A handler that answered with a promise: bounded by the deadline timer
 * (no reply after it) and abandoned on shutdown. Settles once.
 */
class AsyncRun {
  private settled = false;
  private timer: NodeJS.Timeout;

  constructor(
    private readonly request: WireRequest,
    private readonly cancel: LazyAbort,
    private readonly resolve: (reply: WireReply | null) => void,
    private readonly reject: (error: unknown) => void,
    private readonly running: Set<AsyncRun>,
    private readonly logger: Logger,
  ) {
    this.timer = deadlineTimer(this);
    running.add(this);
  }

  get deadline(): number {
    return this.request.deadline;
  }

  /** True the first time: the caller may answer. */
  finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    clearTimeout(this.timer);
    this.running.delete(this);
    return true;
  }

  expire(): void {
    if (this.settled) return;
    if (!isPast(this.request.deadline)) {
      // a deadline beyond the longest timer Node allows: wait another stretch
      this.timer = deadlineTimer(this);
      return;
    }
    if (!this.finish()) return;
    this.cancel.abort(new RpcError(Code.DEADLINE_EXCEEDED, 'deadline exceeded'));
    this.logger.warn(
      { method: this.request.method, messageId: this.request.messageId },
      'handler still running at the deadline; no reply will be sent',
    );
    this.resolve(null);
  }

  abandon(reason: string): void {
    if (!this.finish()) return;
    this.cancel.abort(new RpcError(Code.UNAVAILABLE, reason));
    this.reject(new Abandoned(reason));
  }
}

function deadlineTimer(run: AsyncRun): NodeJS.Timeout {
  return startDeadlineTimer(run.deadline, onDeadline, run);
}

function onDeadline(run: AsyncRun): void {
  run.expire();
}

/** `ctx.timeRemaining`: milliseconds left, never negative. */
function remainingUntil(deadline: number): () => number {
  return () => remainingMs(deadline);
}

/**
 * A handler's cancellation, with the AbortSignal made only when asked for:
 * most handlers never look at it, and creating one is the dearest part of a
 * call on Node 20. A signal asked for after the abort comes back aborted,
 * with the same reason.
 */
class LazyAbort {
  private controller: AbortController | undefined;
  private reason: RpcError | undefined;

  signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.reason !== undefined) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: RpcError): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
