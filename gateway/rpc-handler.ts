import type { IncomingMessage, ServerResponse } from 'node:http';
import { Code, codeName, PROTOBUF, RpcError } from '../core/index.js';
import { metadataOf, timeoutOf } from './call-headers.js';
import { gatewayError } from './http-status.js';
import { PathDecodeError } from './path-template.js';
import { bodyKindOf, parseJsonBody, readBody } from './request-body.js';
import { buildRequestJson, pickResponseBody } from './request-mapping.js';
import { JSON_UTF8, send, sendError } from './respond.js';
import type { RouteMatch, Router } from './router.js';
import type { CallSettings } from './unary-invoke.js';

/** What the RPC handler needs from its gateway. */
export interface RpcHandlerContext extends CallSettings {
  readonly router: Router;
}

/** One request's bookkeeping, shared with the server for drain and metrics. */
export interface RequestState {
  readonly requestId: string;
  readonly abort: AbortController;
  /** Route label once matched (`unmatched` otherwise). */
  route: string;
  /** The authenticated caller, if the gateway authenticates. */
  readonly subject?: string | undefined;
}

/**
 * Handles every request that is not an operations endpoint: match, read
 * and map the body, call through the service's breaker, answer. Resolves
 * the HTTP status sent (499 when the client left first).
 */
export function createRpcHandler(
  context: RpcHandlerContext,
): (request: IncomingMessage, response: ServerResponse, state: RequestState) => Promise<number> {
  const { router, registry, logger, invoke } = context;

  return async function handle(request, response, state) {
    const url = request.url ?? '/';
    const mark = url.indexOf('?');
    const rawPath = mark < 0 ? url : url.slice(0, mark);
    const query = mark < 0 ? '' : url.slice(mark + 1);
    const method = request.method ?? 'GET';
    try {
      const match = matchRoute(router, method, rawPath);
      state.route = match.route.label;
      const { info, method: definition } = match.route.target;
      const timeoutMs = timeoutOf(request.headers, context.defaultTimeoutMs, context.maxTimeoutMs);
      const metadata = metadataOf(request.headers, context.forwardHeaders, state.requestId);
      if (context.subjectMetadataKey !== undefined && state.subject !== undefined)
        metadata[context.subjectMetadataKey] = state.subject;
      const body = await readBody(request, context.bodyLimitBytes);

      let message: unknown;
      let replyProtobuf = false;
      if (match.route.kind === 'rpc') {
        replyProtobuf = bodyKindOf(request.headers['content-type'], body.length, true) === 'protobuf';
        message = replyProtobuf
          ? decodeProtobuf(definition.requestType, body)
          : definition.requestType.fromJSON(parseJsonBody(body));
      } else {
        const { binding } = match.route;
        const parsed =
          binding.rule.body === ''
            ? undefined
            : (bodyKindOf(request.headers['content-type'], body.length, false), parseJsonBody(body));
        message = definition.requestType.fromJSON(buildRequestJson(binding, match.pathValues!, query, parsed));
      }

      const { response: reply } = await invoke({
        target: match.route.target,
        request: message,
        metadata,
        timeoutMs,
        abort: state.abort,
      });

      if (replyProtobuf) {
        send(
          response,
          200,
          PROTOBUF,
          definition.responseType.encode(reply).finish(),
          state.requestId,
          context.draining(),
        );
      } else {
        let json: unknown;
        try {
          json = definition.responseType.toJSON(reply);
          if (match.route.kind === 'rest')
            json = pickResponseBody(match.route.binding, json as Record<string, unknown>);
        } catch (error) {
          throw new RpcError(Code.INTERNAL, `the reply of ${info.path} cannot be written as JSON`, { cause: error });
        }
        send(response, 200, JSON_UTF8, JSON.stringify(json), state.requestId, context.draining());
      }
      return 200;
    } catch (caught) {
      const error = toRpcError(caught);
      if (response.destroyed || (state.abort.signal.aborted && error.code === Code.CANCELLED)) {
        logger.debug({ requestId: state.requestId, route: state.route }, 'client went away before the answer');
        return 499;
      }
      const status = sendError(response, error, state.requestId, context.draining(), registry);
      if (status >= 500) {
        const cause = error.cause;
        const unexpected = cause !== undefined && !(cause instanceof RpcError) && error.code === Code.INTERNAL;
        logger[unexpected ? 'error' : 'warn'](
          {
            requestId: state.requestId,
            route: state.route,
            status,
            code: codeName(error.code),
            message: error.rawMessage,
            err: cause,
          },
          'request failed',
        );
      }
      return status;
    }
  };
}

function matchRoute(router: Router, method: string, rawPath: string): RouteMatch {
  let match: ReturnType<Router['match']>;
  try {
    match = router.match(method, rawPath);
  } catch (error) {
    if (error instanceof PathDecodeError) throw gatewayError(Code.INVALID_ARGUMENT, error.message);
    throw error;
  }
  if (match === undefined) throw gatewayError(Code.NOT_FOUND, `no route for ${method} ${rawPath}`, 404);
  if ('allowed' in match) {
    throw gatewayError(
      Code.UNIMPLEMENTED,
      `${method} is not allowed on ${rawPath}; allowed: ${match.allowed.join(', ')}`,
      405,
      { allow: match.allowed.join(', ') },
    );
  }
  return match;
}

function decodeProtobuf(type: { decode(input: Uint8Array): unknown; fullName: string }, body: Buffer): unknown {
  try {
    return type.decode(body);
  } catch (error) {
    throw gatewayError(
      Code.INVALID_ARGUMENT,
      `request body is not a valid ${type.fullName} protobuf message: ${(error as Error).message}`,
    );
  }
}

function toRpcError(caught: unknown): RpcError {
  return caught instanceof RpcError ? caught : RpcError.from(caught, Code.INTERNAL);
}
