import { Code } from './code.js';
import { decodeMessage, encodeMessage, PROTOBUF } from './content-type.js';
import { isIdempotent, type MethodInfo } from './definition.js';
import { runInContext, type HandlerContext } from './handler-context.js';
import { answerHealthCheck, HEALTH_CHECK_PATH } from './health.js';
import { chainInterceptors, type Interceptor, type UnaryCall, type UnaryResult } from './interceptor.js';
import type { Logger } from './logger.js';
import { validateMetadata, type Metadata } from './metadata.js';
import { errorToReply } from './reply-error.js';
import { RpcError } from './rpc-error.js';
import type { Delivery, WireReply } from './transport.js';

/** A user handler, untyped. */
export type MethodHandler = (request: any, ctx: HandlerContext) => unknown;

/** What the dispatcher needs from its server. */
export interface DispatcherOptions {
  readonly instance: string;
  readonly logger: Logger;
  readonly interceptors: readonly Interceptor[];
  readonly requireIdentity: boolean;
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
 * non-idempotent redelivery → ABORTED (never run twice); bad body →
 * INVALID_ARGUMENT; then interceptors and the handler, bounded by the deadline.
 */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { logger } = options;
  const running = new Set<(reason: string) => void>();
  const invoke = chainInterceptors(options.interceptors, async (call: UnaryCall): Promise<UnaryResult> => {
    const entry = options.lookup(call.method.service, call.method.path)!;
    const response = await entry.handler(call.request, call.context!);
    return { response, metadata: call.context!.responseMetadata };
  });

  async function dispatch(service: string, delivery: Delivery): Promise<WireReply | null> {
    const { request } = delivery;
    const contentType = request.contentType;
    const log = (level: 'warn' | 'info' | 'error', obj: object, msg: string): void =>
      logger[level]({ method: request.method, messageId: request.messageId, ...obj }, msg);

    if (request.deadline <= Date.now()) {
      log('info', { overdueMs: Date.now() - request.deadline }, 'request expired before it was handled; dropped unanswered');
      return null;
    }
    if (delivery.unsupportedContentType !== undefined) {
      return errorToReply(new RpcError(Code.INVALID_ARGUMENT, `unsupported content type ${JSON.stringify(delivery.unsupportedContentType)}; use application/x-protobuf or application/json`), PROTOBUF);
    }
    if (request.method === HEALTH_CHECK_PATH) {
      return answerHealthCheck(request, { service, instance: options.instance, methods: options.methodsOf(service), serving: options.isServing() });
    }
    const entry = options.lookup(service, request.method);
    if (!entry) {
      return errorToReply(new RpcError(Code.UNIMPLEMENTED, `method ${JSON.stringify(request.method)} is not implemented by service ${service}`), contentType);
    }
    if (options.requireIdentity && !delivery.userId) {
      return errorToReply(new RpcError(Code.UNAUTHENTICATED, 'request carries no broker-validated user_id'), contentType);
    }
    if (delivery.redelivered && !isIdempotent(entry.info.idempotency)) {
      log('warn', {}, 'redelivered request of a non-idempotent method refused; it may have run on an instance that died');
      return errorToReply(new RpcError(Code.ABORTED, `${request.method} is not idempotent and was redelivered after a server failure; it may or may not have run, and was not run again`), contentType);
    }
    let message: unknown;
    try {
      message = decodeMessage(entry.info.requestType, request.body, contentType, `request of ${request.method}`);
    } catch (error) {
      return errorToReply(RpcError.from(error, Code.INVALID_ARGUMENT), contentType);
    }
    return runHandler(entry.info, message, delivery);
  }

  function runHandler(info: MethodInfo, message: unknown, delivery: Delivery): Promise<WireReply | null> {
    const { request } = delivery;
    const controller = new AbortController();
    const responseMetadata: Metadata = {};
    const ctx: HandlerContext = {
      method: info,
      metadata: request.metadata,
      deadline: request.deadline,
      signal: controller.signal,
      caller: { userId: delivery.userId },
      messageId: request.messageId,
      redelivered: delivery.redelivered,
      instance: options.instance,
      timeRemaining: () => Math.max(0, request.deadline - Date.now()),
      responseMetadata,
    };
    return new Promise<WireReply | null>((resolve, reject) => {
      let settled = false;
      const finish = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        running.delete(abandon);
        return true;
      };
      const abandon = (reason: string): void => {
        if (!finish()) return;
        controller.abort(new RpcError(Code.UNAVAILABLE, reason));
        reject(new Abandoned(reason));
      };
      const timer = setTimeout(() => {
        if (!finish()) return;
        controller.abort(new RpcError(Code.DEADLINE_EXCEEDED, 'deadline exceeded'));
        logger.warn({ method: request.method, messageId: request.messageId }, 'handler still running at the deadline; no reply will be sent');
        resolve(null);
      }, Math.max(0, request.deadline - Date.now()));
      running.add(abandon);
      runInContext(ctx, () =>
        invoke({ side: 'server', method: info, request: message, metadata: request.metadata, deadline: request.deadline, signal: controller.signal, context: ctx }),
      ).then(
        (result) => {
          if (!finish()) return;
          try {
            validateMetadata(result.metadata);
            const response = info.responseType.fromPartial(result.response ?? {});
            const body = encodeMessage(info.responseType, response, request.contentType);
            resolve({ status: Code.OK, message: '', contentType: request.contentType, body, metadata: result.metadata });
          } catch (error) {
            resolve(failure(error));
          }
        },
        (error: unknown) => {
          if (finish()) resolve(failure(error));
        },
      );
    });

    function failure(error: unknown): WireReply {
      const rpcError = RpcError.from(error);
      if (!(error instanceof RpcError)) {
        logger.error({ method: request.method, messageId: request.messageId, err: error }, 'handler failed; INTERNAL sent to the caller');
      }
      return errorToReply(rpcError, request.contentType);
    }
  }

  return {
    dispatch,
    abandonAll(reason) {
      for (const abandon of [...running]) abandon(reason);
    },
  };
}
