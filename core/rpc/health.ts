import { CheckRequest, CheckResponse, CheckResponse_ServingStatus } from '../../gen/warren/health/v1/health.js';
import { Code } from '../protocol/code.js';
import { decodeMessage, encodeMessage } from '../protocol/content-type.js';
import { errorToReply } from '../protocol/reply-error.js';
import { RpcError } from '../protocol/rpc-error.js';
import type { WireReply, WireRequest } from '../transport.js';

/** What the server knows when asked. */
export interface HealthState {
  readonly service: string;
  readonly instance: string;
  readonly methods: readonly string[];
  readonly serving: boolean;
}

/** Answers a health check arriving on `state.service`'s queue. */
export function answerHealthCheck(request: WireRequest, state: HealthState): WireReply {
  let asked: CheckRequest;
  try {
    asked = decodeMessage(CheckRequest, request.body, request.contentType, 'health check request');
  } catch (error) {
    return errorToReply(RpcError.from(error, Code.INVALID_ARGUMENT), request.contentType);
  }
  const known = asked.service === '' || asked.service === state.service;
  const status = !known
    ? CheckResponse_ServingStatus.SERVING_STATUS_SERVICE_UNKNOWN
    : state.serving
      ? CheckResponse_ServingStatus.SERVING_STATUS_SERVING
      : CheckResponse_ServingStatus.SERVING_STATUS_NOT_SERVING;
  const response = CheckResponse.fromPartial({
    status,
    instance: state.instance,
    methods: known ? [...state.methods] : [],
  });
  return {
    status: Code.OK,
    message: '',
    contentType: request.contentType,
    body: encodeMessage(CheckResponse, response, request.contentType),
    metadata: {},
  };
}
