import type { IncomingMessage, ServerResponse } from 'node:http';
import { Code, codeName, type Metadata, RpcError } from '../../core/index.js';
import { metadataOf } from '../call-headers.js';
import { gatewayError } from '../http-status.js';
import { readBody } from '../request-body.js';
import type { RequestState } from '../rpc-handler.js';
import type { MethodTarget } from '../router.js';
import type { CallSettings } from '../unary-invoke.js';
import { connectCodec, connectGetCodec, connectStreamCodec } from './connect.js';
import { detectWire, methodPathOf } from './detect.js';
import { grpcCodec, responseGone } from './grpc.js';
import { grpcWebBinaryCodec, grpcWebTextCodec } from './grpc-web.js';
import type { GrpcHealth } from './grpc-health.js';
import type { Reflection } from './reflection.js';
import type { WireCodec, WireKind, WriteContext } from './wire-codec.js';

const CODECS: Readonly<Record<WireKind, WireCodec>> = {
  grpc: grpcCodec,
  'grpc-web': grpcWebBinaryCodec,
  'grpc-web-text': grpcWebTextCodec,
  connect: connectCodec,
  'connect-get': connectGetCodec,
  'connect-stream': connectStreamCodec,
};

/** What the gRPC-family handler needs from its gateway. */
export interface WireHandlerContext extends CallSettings {
  /** Every exposed unary method (the router's RPC routes), by `pkg.Service/Method`. */
  readonly targets: ReadonlyMap<string, MethodTarget>;
  /** Streaming methods of exposed services: answered UNIMPLEMENTED rather than "unknown". */
  readonly streaming: ReadonlySet<string>;
  readonly health: GrpcHealth;
  /** `undefined` when reflection is off. */
  readonly reflection: Reflection | undefined;
}

/** The gRPC-family side of the gateway. */
export interface WireHandler {
  /** The protocol of a request, or `undefined` for the JSON routes. */
  detect(request: IncomingMessage, path: string): WireKind | undefined;
  /** Serves a detected request; resolves the HTTP-equivalent status (499: the client left). */
  handle(
    kind: WireKind,
    request: IncomingMessage,
    response: ServerResponse,
    state: RequestState,
    path: string,
  ): Promise<number>;
  /** Writes an error the gateway raised before routing (auth, rate limit, shutdown) in the protocol's shape. */
  answerError(kind: WireKind, response: ServerResponse, error: RpcError, requestId: string, close: boolean): number;
}

/**
 * Serves gRPC, gRPC-Web and Connect unary calls: the protocol's codec
 * decodes the call, then the same path as the JSON routes (exposure via the
 * router's targets, metadata allow-list, deadline caps, `invoke`: breaker,
 * metrics, interceptors), then the codec writes the answer. Requests went
 * through the front door (auth, CORS, rate limits) before.
 */
export function createWireHandler(context: WireHandlerContext): WireHandler {
  const { targets, logger } = context;

  const handle = async (
    kind: WireKind,
    request: IncomingMessage,
    response: ServerResponse,
    state: RequestState,
    path: string,
  ): Promise<number> => {
    const codec = CODECS[kind];
    const write = (): WriteContext => ({
      requestId: state.requestId,
      close: context.draining(),
      registry: context.registry,
    });
    const url = request.url ?? '/';
    const mark = url.indexOf('?');
    const methodPath = methodPathOf(path);
    try {
      if (methodPath === undefined) throw gatewayError(Code.UNIMPLEMENTED, `no method at ${path.slice(0, 200)}`);
      if (kind !== 'connect-get' && request.method !== 'POST')
        throw gatewayError(Code.UNIMPLEMENTED, `${request.method} is not allowed; gRPC-family calls are POST`, 405, {
          allow: 'POST',
        });
      if (context.reflection?.handles(methodPath)) {
        state.route = `POST /${methodPath} (${kind})`;
        if (!context.reflection.speaks(kind, request))
          throw gatewayError(
            Code.UNIMPLEMENTED,
            'server reflection is a bidirectional stream: call it over gRPC, gRPC-Web or a Connect stream of protobuf',
          );
        return await context.reflection.serve(kind, request, response, state.requestId);
      }
      if (kind === 'connect-stream')
        throw gatewayError(Code.UNIMPLEMENTED, 'streaming calls are not supported by the gateway; call unary methods');
      const health = context.health.handles(methodPath);
      const target = health ? undefined : targets.get(methodPath);
      if (!health && !target) {
        throw gatewayError(
          Code.UNIMPLEMENTED,
          context.streaming.has(methodPath)
            ? `${methodPath} is a streaming method; the gateway serves unary calls only`
            : `unknown method ${methodPath.slice(0, 200)}`,
        );
      }
      state.route = `${kind === 'connect-get' ? 'GET' : 'POST'} /${methodPath} (${kind})`;
      if (kind === 'connect-get' && target && target.method.options.idempotencyLevel !== 'NO_SIDE_EFFECTS') {
        throw gatewayError(
          Code.UNIMPLEMENTED,
          `${methodPath} has side effects: call it with POST (GET is for idempotency_level = NO_SIDE_EFFECTS)`,
        );
      }
      const asked = codec.timeoutMs(request.headers);
      const timeoutMs = Math.min(asked ?? context.defaultTimeoutMs, context.maxTimeoutMs);
      const metadata: Metadata = metadataOf(request.headers, context.forwardHeaders, state.requestId);
      if (context.subjectMetadataKey !== undefined && state.subject !== undefined)
        metadata[context.subjectMetadataKey] = state.subject;
      const body = kind === 'connect-get' ? Buffer.alloc(0) : await readBody(request, context.bodyLimitBytes);
      const query = new URLSearchParams(mark < 0 ? '' : url.slice(mark + 1));
      if (health) {
        const type = health.requestType;
        const message = codec.decodeRequest(request, body, type, query);
        const reply = await context.health.check(message, timeoutMs, state);
        codec.writeReply(response, health.responseType, reply, write());
        return 200;
      }
      const message = codec.decodeRequest(request, body, target!.method.requestType, query);
      const reply = await context.invoke({
        target: target!,
        request: message,
        metadata,
        timeoutMs,
        abort: state.abort,
      });
      codec.writeReply(response, target!.method.responseType, reply, write());
      return 200;
    } catch (caught) {
      const error = caught instanceof RpcError ? caught : RpcError.from(caught, Code.INTERNAL);
      if (responseGone(response) || (state.abort.signal.aborted && error.code === Code.CANCELLED)) {
        logger.debug({ requestId: state.requestId, route: state.route }, 'client went away before the answer');
        return 499;
      }
      const status = codec.writeError(response, error, write());
      if (status >= 500 && error.code !== Code.UNIMPLEMENTED) {
        const cause = error.cause;
        const unexpected = cause !== undefined && !(cause instanceof RpcError) && error.code === Code.INTERNAL;
        logger[unexpected ? 'error' : 'warn'](
          {
            requestId: state.requestId,
            route: state.route,
            protocol: kind,
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

  return {
    detect(request, path) {
      const url = request.url ?? '/';
      const mark = url.indexOf('?');
      return detectWire(request.method ?? 'GET', path, mark < 0 ? '' : url.slice(mark + 1), request.headers);
    },
    handle,
    answerError(kind, response, error, requestId, close) {
      return CODECS[kind].writeError(response, error, { requestId, close, registry: undefined });
    },
  };
}
