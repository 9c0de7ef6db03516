import { randomUUID } from 'node:crypto';
import { openCallScope } from './call-scope.js';
import { Code } from '../protocol/code.js';
import { decodeMessage, encodeMessage, PROTOBUF, type ContentType } from '../protocol/content-type.js';
import {
  describeService,
  type MethodInfo,
  type RequestInit,
  type ResponseOf,
  type ServiceDefinition,
} from '../protocol/definition.js';
import { currentEvent } from '../event-context.js';
import { currentContext, type HandlerContext } from '../handler-context.js';
import {
  chainInterceptors,
  type Interceptor,
  type UnaryCall,
  type UnaryNext,
  type UnaryResult,
} from '../interceptor.js';
import { validateMetadata, type Metadata } from '../protocol/metadata.js';
import { metricsFrom } from '../observability/metrics.js';
import type { ObservabilityOptions } from '../observability/observability-options.js';
import { clientObservability, observeRetries } from '../observability/client-observer.js';
import { replyToError } from '../protocol/reply-error.js';
import {
  DEFAULT_RETRY_POLICY,
  RetryThrottle,
  withRetries,
  type RetryBudget,
  type RetryPolicy,
} from './retry-policy.js';
import { RpcError } from '../protocol/rpc-error.js';
import { explainDeadline, okReply, sendUnary, unaryRequest } from './unary-call.js';
import type { Transport } from '../transport.js';

/** Default time a call may take when neither it nor its parent sets one. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Options of {@link createClient}. `metrics` and `tracing` (from
 * {@link ObservabilityOptions}) are on by default: Prometheus metrics into the
 * process's default registry, and CLIENT spans whenever an OpenTelemetry SDK
 * is registered (a no-op without one).
 */
export interface ClientOptions extends ObservabilityOptions {
  /** Timeout of calls that set none. Default {@link DEFAULT_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /** Body encoding of requests. Default protobuf. */
  readonly contentType?: ContentType;
  /** Client interceptors, outermost first. Default none. */
  readonly interceptors?: readonly Interceptor[];
  /** Metadata sent with every call (a call's own keys win). Default none. */
  readonly metadata?: Metadata;
  /**
   * Retries of idempotent methods on codes meaning "not processed". Default
   * {@link DEFAULT_RETRY_POLICY} (3 attempts, UNAVAILABLE only); `false` turns them off.
   */
  readonly retry?: RetryPolicy | false;
  /** Per-method overrides of `retry`, by the method's local (camelCase) name. */
  readonly methodRetry?: Readonly<Record<string, RetryPolicy | false>>;
  /** The retry budget shared by the client's methods. Default 10 tokens, 0.1 per success. */
  readonly retryBudget?: RetryBudget;
  /** Shares one budget between several clients (e.g. every client of a process). Default: one per client. */
  readonly retryThrottle?: RetryThrottle;
  /** Told of every retry, for metrics and logs. */
  readonly onRetry?: (method: MethodInfo, attempt: number, error: RpcError) => void;
  /**
   * The broker user the service's servers connect as. When set, a reply that
   * does not carry it as its broker-validated `user_id` fails the call with
   * UNAUTHENTICATED instead of being believed (someone else answered: see
   * SECURITY.md, "reply_to"). AMQP transport only. Default: replies are not checked.
   */
  readonly serverUser?: string;
}

/** Options of one call. */
export interface CallOptions {
  /** Time the call may take, from now. Default: the client's `timeoutMs`. */
  readonly timeoutMs?: number;
  /** Absolute deadline (Date or ms since the epoch); the earlier of this and `timeoutMs` wins. */
  readonly deadline?: Date | number;
  /** Aborting it rejects the call with CANCELLED at once. */
  readonly signal?: AbortSignal;
  /** Metadata for this call. */
  readonly metadata?: Metadata;
  /**
   * The handler context this call is made from: its deadline, cancellation
   * and metadata are inherited. Default: the handler running now, if any;
   * pass `null` to start a fresh call tree.
   */
  readonly parent?: HandlerContext | null;
  /** Body encoding for this call. Default: the client's. */
  readonly contentType?: ContentType;
}

/** A typed client: one promise-returning method per service method. */
export type Client<D extends ServiceDefinition> = {
  readonly [K in keyof D['methods']]: (
    request: RequestInit<D['methods'][K]>,
    options?: CallOptions,
  ) => Promise<ResponseOf<D['methods'][K]>>;
};

/**
 * Creates a typed client for a service over a transport (AMQP or memory).
 *
 * ```ts
 * const orders = createClient(OrderServiceDefinition, transport);
 * const order = await orders.getOrder({ id }, { timeoutMs: 2000 });
 * ```
 */
export function createClient<D extends ServiceDefinition>(
  definition: D,
  transport: Transport,
  options: ClientOptions = {},
): Client<D> {
  const client: Record<string, unknown> = {};
  const shared = { ...options, retryThrottle: options.retryThrottle ?? new RetryThrottle(options.retryBudget) };
  for (const method of describeService(definition)) {
    client[method.localName] = createMethodCaller(method, transport, shared);
  }
  return Object.freeze(client) as Client<D>;
}

/**
 * Creates the caller of one method. Exported for dynamic clients (gateway,
 * CLI) that build {@link MethodInfo} at run time.
 */
export function createMethodCaller(
  method: MethodInfo,
  transport: Transport,
  clientOptions: ClientOptions = {},
): (request: unknown, options?: CallOptions) => Promise<any> {
  const defaultTimeout = clientOptions.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const defaultContentType = clientOptions.contentType ?? PROTOBUF;
  const baseMetadata = clientOptions.metadata ?? {};
  validateMetadata(baseMetadata);
  const override = clientOptions.methodRetry?.[method.localName];
  const chosen = override !== undefined ? override : clientOptions.retry;
  const retryPolicy =
    chosen === false ? { ...DEFAULT_RETRY_POLICY, maxAttempts: 1 } : { ...DEFAULT_RETRY_POLICY, ...chosen };
  const throttle = clientOptions.retryThrottle ?? new RetryThrottle(clientOptions.retryBudget);
  const metrics = metricsFrom(clientOptions.metrics);
  metrics?.watchTransport(transport);
  const onRetry = observeRetries(metrics, clientOptions.onRetry);
  const interceptors = [
    ...clientObservability(metrics, clientOptions.tracing ?? true),
    ...(clientOptions.interceptors ?? []),
  ];

  const replyCheck = { serverUser: clientOptions.serverUser };
  const send =
    (contentType: ContentType): UnaryNext =>
    async (call: UnaryCall): Promise<UnaryResult> => {
      validateMetadata(call.metadata);
      const body = encodeMessage(method.requestType, method.requestType.fromPartial(call.request), contentType);
      const request = unaryRequest(method, contentType, body, call.metadata, call.deadline, randomUUID());
      const reply = await withRetries(
        method,
        retryPolicy,
        throttle,
        call.deadline,
        call.signal,
        async () => {
          const answer = await sendUnary(transport, request, call.signal, replyCheck);
          if (answer.status !== Code.OK && retryPolicy.retryableCodes.includes(answer.status))
            throw replyToError(answer);
          return answer;
        },
        onRetry && ((attempt, error) => onRetry(method, attempt, error)),
      );
      okReply(reply);
      const response = decodeMessage(method.responseType, reply.body, reply.contentType, `reply of ${method.path}`);
      return { response, metadata: reply.metadata };
    };
  const protobufChain = chainInterceptors(interceptors, send(PROTOBUF));
  const jsonChain = chainInterceptors(interceptors, send('application/json'));

  return async function call(request: unknown, options: CallOptions = {}): Promise<unknown> {
    const callSite: { stack?: string } = {};
    Error.captureStackTrace(callSite, call);
    const parent = options.parent === undefined ? currentContext() : (options.parent ?? undefined);
    const deadline = resolveDeadline(options, parent, defaultTimeout);
    // inside an event handler (and no RPC parent) the event's metadata, traceparent included, carries on
    const inherited = parent ? parent.metadata : options.parent === null ? undefined : currentEvent()?.metadata;
    const metadata: Metadata = { ...inherited, ...baseMetadata, ...options.metadata };
    const scope = openCallScope(deadline, method.path, options.signal, parent?.signal);
    const contentType = options.contentType ?? defaultContentType;
    const chain = contentType === PROTOBUF ? protobufChain : jsonChain;
    try {
      if (scope.signal.aborted) throw scope.signal.reason;
      const result = await scope.race(
        chain({ side: 'client', method, request, metadata, deadline, signal: scope.signal }),
      );
      return result.response;
    } catch (error) {
      throw withCallerStack(
        await explainDeadline(
          transport,
          method.service,
          RpcError.from(error, Code.UNKNOWN, 'client interceptor failed'),
        ),
        callSite.stack,
      );
    } finally {
      scope.dispose();
    }
  };
}

function resolveDeadline(options: CallOptions, parent: HandlerContext | undefined, defaultTimeout: number): number {
  const now = Date.now();
  let deadline = options.deadline === undefined ? Infinity : Number(options.deadline);
  if (options.timeoutMs !== undefined || options.deadline === undefined) {
    deadline = Math.min(deadline, now + (options.timeoutMs ?? defaultTimeout));
  }
  if (parent) deadline = Math.min(deadline, parent.deadline);
  if (!Number.isFinite(deadline)) {
    throw new RpcError(Code.INVALID_ARGUMENT, 'call deadline must be a finite time');
  }
  return deadline;
}

/** Gives the rejection the caller's stack rather than a socket callback's. */
function withCallerStack(error: RpcError, stack: string | undefined): RpcError {
  if (stack !== undefined) {
    const frames = stack.slice(stack.indexOf('\n') + 1);
    error.stack = `${error.name}: ${error.message}\n${frames}`;
  }
  return error;
}
