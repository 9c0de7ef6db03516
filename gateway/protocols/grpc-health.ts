import { randomUUID } from 'node:crypto';
import type protobuf from 'protobufjs';
import { Code, PROTOBUF, RpcError, type Transport } from '../../core/index.js';
import { createDynamicMessageType, type DynamicMessageType } from '../../core/tooling.js';
import { HEALTH_CHECK_PATH, replyToError } from '../../core/protocol/index.js';
import { CheckRequest, CheckResponse, CheckResponse_ServingStatus } from '../../gen/warren/health/v1/health.js';
import { REQUEST_ID_METADATA } from '../call-headers.js';
import type { GatewayReply } from '../rpc-call.js';
import type { RequestState } from '../rpc-handler.js';
import { HEALTH_SERVICE } from './grpc-protos.js';

/** grpc.health.v1.HealthCheckResponse.ServingStatus numbers. */
const SERVING = 1;
const NOT_SERVING = 2;
const SERVICE_UNKNOWN = 3;
/** A service health check never waits longer than this, whatever the caller's deadline. */
const CHECK_TIMEOUT_MS = 5_000;

/** The gateway's grpc.health.v1.Health. */
export interface GrpcHealth {
  /** The codecs of `Check` when `methodPath` is it. */
  handles(
    methodPath: string,
  ): { readonly requestType: DynamicMessageType; readonly responseType: DynamicMessageType } | undefined;
  /** Answers one Check request. */
  check(request: unknown, timeoutMs: number, state: RequestState): Promise<GatewayReply>;
}

/**
 * grpc.health.v1.Health/Check answered from Warren's own health:
 *
 * - `service: ""` is the gateway itself: SERVING while it is ready (broker
 *   connected, not shutting down), else NOT_SERVING;
 * - an exposed service: the gateway sends warren.health.v1 `Check` to that
 *   service's queue, which one live instance answers; SERVING /
 *   NOT_SERVING / SERVICE_UNKNOWN as it says, NOT_SERVING when no instance
 *   answers in time (at most 5 s) or the broker is down;
 * - anything else: NOT_FOUND, as the gRPC health protocol asks.
 *
 * No breaker: a health check must see the service even while its breaker
 * is open. `Watch` is a stream: UNIMPLEMENTED.
 */
export function createGrpcHealth(
  root: protobuf.Root,
  services: ReadonlySet<string>,
  transport: Transport,
  isReady: () => boolean,
): GrpcHealth {
  const codecs = {
    requestType: createDynamicMessageType(root.lookupType('grpc.health.v1.HealthCheckRequest')),
    responseType: createDynamicMessageType(root.lookupType('grpc.health.v1.HealthCheckResponse')),
  };
  const answer = (status: number): GatewayReply => ({
    response: codecs.responseType.fromPartial({ status }),
    metadata: {},
  });

  const probe = async (service: string, timeoutMs: number, state: RequestState): Promise<number> => {
    const waitMs = Math.min(timeoutMs, CHECK_TIMEOUT_MS);
    try {
      const reply = await transport.request(
        {
          service,
          method: HEALTH_CHECK_PATH,
          contentType: PROTOBUF,
          body: CheckRequest.encode({ service }).finish(),
          metadata: { [REQUEST_ID_METADATA]: state.requestId },
          deadline: Date.now() + waitMs,
          messageId: randomUUID(),
        },
        AbortSignal.any([state.abort.signal, AbortSignal.timeout(waitMs)]),
      );
      if (reply.status !== Code.OK) throw replyToError(reply);
      const status = CheckResponse.decode(reply.body).status;
      return status === CheckResponse_ServingStatus.SERVING_STATUS_SERVING
        ? SERVING
        : status === CheckResponse_ServingStatus.SERVING_STATUS_SERVICE_UNKNOWN
          ? SERVICE_UNKNOWN
          : NOT_SERVING;
    } catch (error) {
      if (state.abort.signal.aborted) throw RpcError.from(error, Code.CANCELLED);
      return NOT_SERVING;
    }
  };

  return {
    handles: (methodPath) => (methodPath === `${HEALTH_SERVICE}/Check` ? codecs : undefined),
    async check(request, timeoutMs, state) {
      const service = String((request as { service?: unknown }).service ?? '');
      if (service === '') return answer(isReady() ? SERVING : NOT_SERVING);
      if (!services.has(service)) throw new RpcError(Code.NOT_FOUND, `unknown service ${service.slice(0, 200)}`);
      return answer(await probe(service, timeoutMs, state));
    },
  };
}
