import { Code, type Interceptor, type Logger, type Metadata, RpcError, type Transport } from '../core/index.js';
import { startDeadlineTimer } from '../core/protocol/index.js';
import { type BreakerRegistry, type ProtoRegistry } from '../core/tooling.js';
import type { GatewayMetrics } from './metrics.js';
import type { MethodTarget } from './router.js';
import { createGatewayCaller, type GatewayReply } from './rpc-call.js';

/**
 * What every protocol's handler (the JSON routes, gRPC, gRPC-Web, Connect) needs to turn a request into a call:
 * one shape, so the limits and the call path cannot drift apart between protocols.
 */
export interface CallSettings {
  readonly registry: ProtoRegistry;
  /** The one call path shared by every protocol. */
  readonly invoke: UnaryInvoker;
  readonly logger: Logger;
  readonly defaultTimeoutMs: number;
  readonly maxTimeoutMs: number;
  readonly bodyLimitBytes: number;
  readonly forwardHeaders: readonly string[];
  /** Metadata key of the verified subject; `undefined` without authentication. */
  readonly subjectMetadataKey: string | undefined;
  /** True once shutdown started: answers ask clients to close their connections. */
  readonly draining: () => boolean;
}

/** One decoded call, whatever protocol it came in on. */
export interface DecodedCall {
  /** The exposed method (from the router: exposure and access already applied). */
  readonly target: MethodTarget;
  /** The request message, decoded by the protocol. */
  readonly request: unknown;
  /** Checked metadata: forwarded headers, `request-id`, the verified subject. */
  readonly metadata: Metadata;
  /** The timeout, already capped at the gateway's maximum. */
  readonly timeoutMs: number;
  /** The request's abort controller (client gone, shutdown). */
  readonly abort: AbortController;
}

/** Makes one decoded call; rejects with an RpcError. */
export type UnaryInvoker = (call: DecodedCall) => Promise<GatewayReply>;

/**
 * The gateway's single path from "a decoded call" to the RPC, used by the
 * JSON routes and by gRPC, gRPC-Web and Connect alike: the service's
 * breaker, the deadline timer (DEADLINE_EXCEEDED when it fires), the RPC
 * metrics, and the caller with its client interceptors (tracing, the
 * process's RPC metrics).
 */
export function createUnaryInvoker(
  targets: readonly MethodTarget[],
  transport: Transport,
  interceptors: readonly Interceptor[],
  breakers: BreakerRegistry,
  metrics: GatewayMetrics,
): UnaryInvoker {
  const callers = new Map<
    string,
    (call: Parameters<ReturnType<typeof createGatewayCaller>>[0]) => Promise<GatewayReply>
  >();
  for (const target of targets)
    callers.set(target.info.path, createGatewayCaller(target.info, target.method, transport, interceptors));
  return ({ target, request, metadata, timeoutMs, abort }) => {
    const { info } = target;
    const caller = callers.get(info.path);
    if (!caller) return Promise.reject(new RpcError(Code.UNIMPLEMENTED, `${info.path} is not served here`));
    const deadline = Date.now() + timeoutMs;
    return breakers.get(info.service).run(async () => {
      const timer = startDeadlineTimer(deadline, expire, { abort, timeoutMs, path: info.path });
      try {
        const reply = await caller({ request, metadata, deadline, signal: abort.signal });
        metrics.rpcCall(info.service, 'OK');
        return reply;
      } catch (error) {
        const rpcError = RpcError.from(error, Code.UNKNOWN);
        metrics.rpcCall(info.service, rpcError.codeName);
        throw rpcError;
      } finally {
        clearTimeout(timer);
      }
    });
  };
}

/** A call's deadline came: abort it with DEADLINE_EXCEEDED (one timer per call, no closure: core's startDeadlineTimer). */
function expire(call: { readonly abort: AbortController; readonly timeoutMs: number; readonly path: string }): void {
  call.abort.abort(
    new RpcError(Code.DEADLINE_EXCEEDED, `deadline of ${call.timeoutMs} ms exceeded calling ${call.path}`),
  );
}
