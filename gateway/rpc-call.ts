import { randomUUID } from 'node:crypto';
import type protobuf from 'protobufjs';
import { chainInterceptors, type DynamicMethod } from '../core/tooling.js';
import {
  Code,
  type Interceptor,
  JSON_TYPE,
  type Metadata,
  type MethodInfo,
  PROTOBUF,
  RpcError,
  type Transport,
  type UnaryCall,
  type UnaryNext,
} from '../core/index.js';
import { okReply, type ReplyCheck, sendUnary, unaryRequest } from '../core/tooling.js';
import { isConnectionLoss } from '../core/tooling.js';
import { isIdempotent } from '../core/protocol/index.js';
import { parseJsonText } from '../core/protocol/index.js';

/** One RPC as the gateway makes it. */
export interface GatewayCall {
  /** The decoded request message. */
  readonly request: unknown;
  /** Already checked with `validateMetadata`. */
  readonly metadata: Metadata;
  /** Absolute deadline, ms since the epoch. */
  readonly deadline: number;
  /**
   * Aborts the call. The gateway aborts it with DEADLINE_EXCEEDED at the
   * deadline, CANCELLED when the client leaves, UNAVAILABLE on shutdown; the
   * call rejects with that reason.
   */
  readonly signal: AbortSignal;
}

/** What a call answered: the reply message and the reply's metadata (response headers). */
export interface GatewayReply {
  readonly response: protobuf.Message;
  readonly metadata: Metadata;
}

/**
 * Builds the gateway's caller of one method on core's one unary call path
 * (`sendUnary`: the same reply checks as the typed client) rather than
 * through `createMethodCaller`: the gateway already
 * owns a per-request AbortController, deadline timer and checked metadata,
 * and the generic client's per-call extras (a captured caller stack, a
 * second AbortController with listeners, a signal race, metadata checked
 * again, retries) made one call 2–2.5× as costly in a micro-benchmark
 * (see gateway/README.md, "Design notes"). Semantics kept: protobuf on the
 * wire, one message id per call, errors from the reply's google.rpc.Status,
 * client interceptors around the send. Not kept: retries (the HTTP client
 * decides, and the breaker sees one outcome per request), except one: an
 * idempotent call whose broker connection dropped under it (a broker node
 * died) is sent again on the next connection within its deadline, as the
 * generic client does, so a node loss costs HTTP clients nothing.
 */
export function createGatewayCaller(
  info: MethodInfo,
  method: DynamicMethod,
  transport: Transport,
  interceptors: readonly Interceptor[],
  check: ReplyCheck = {},
): (call: GatewayCall) => Promise<GatewayReply> {
  const { requestType, responseType } = method;
  const idempotent = isIdempotent(info.idempotency);
  const request = async (call: UnaryCall, messageId: string) => {
    try {
      return await sendOnce(call, messageId);
    } catch (error) {
      // a connection lost under the call (a cluster node went): resend an idempotent call once, same message id
      if (!idempotent || !isConnectionLoss(error) || call.signal.aborted || Date.now() >= call.deadline) throw error;
      return sendOnce(call, messageId);
    }
  };
  const sendOnce = (call: UnaryCall, messageId: string) =>
    sendUnary(
      transport,
      unaryRequest(
        info,
        PROTOBUF,
        requestType.encode(call.request as never).finish(),
        call.metadata,
        call.deadline,
        messageId,
      ),
      call.signal,
      check,
    );
  const send: UnaryNext = async (call: UnaryCall) => {
    const reply = okReply(await request(call, randomUUID()));
    try {
      const response =
        reply.contentType === JSON_TYPE
          ? responseType.fromJSON(parseJsonText(reply.body, `the reply of ${info.path}`))
          : responseType.decode(reply.body);
      return { response, metadata: reply.metadata };
    } catch (error) {
      throw new RpcError(Code.INTERNAL, `the reply of ${info.path} could not be decoded`, { cause: error });
    }
  };
  const chain = interceptors.length === 0 ? send : chainInterceptors(interceptors, send);
  return async (call) => {
    try {
      const result = await chain({
        side: 'client',
        method: info,
        request: call.request,
        metadata: call.metadata,
        deadline: call.deadline,
        signal: call.signal,
      });
      return { response: result.response as protobuf.Message, metadata: result.metadata ?? {} };
    } catch (error) {
      throw RpcError.from(error, Code.UNKNOWN, 'client interceptor failed');
    }
  };
}
