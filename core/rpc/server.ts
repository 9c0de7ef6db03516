import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import {
  describeService,
  type MethodInfo,
  type RequestOf,
  type ResponseInit,
  type ServiceDefinition,
} from '../protocol/definition.js';
import { serviceQueue } from '../protocol/rpc-names.js';
import { createDispatcher, type MethodHandler } from './dispatcher.js';
import type { HandlerContext } from '../handler-context.js';
import type { Interceptor } from '../interceptor.js';
import type { AccessPolicy } from '../security/access-policy.js';
import { defaultLogger, type Logger } from '../observability/logger.js';
import { metricsFrom } from '../observability/metrics.js';
import { isQueueInspector, startQueueSampler, type QueueSampler } from '../observability/queue-sampler.js';
import type { ObservabilityOptions } from '../observability/observability-options.js';
import { observeDispatch } from '../observability/server-observer.js';
import type { Consumer, ServeOptions, Transport } from '../transport.js';

/** Default prefetch: requests one instance works on at once, per service. */
export const DEFAULT_PREFETCH = 64;
/** Default time `close()` waits for in-flight handlers. */
export const DEFAULT_DRAIN_MS = 10_000;

/** A handler for every method of a service, typed from its definition. */
export type ServiceImplementation<D extends ServiceDefinition> = {
  readonly [K in keyof D['methods']]: (
    request: RequestOf<D['methods'][K]>,
    ctx: HandlerContext,
  ) => Promise<ResponseInit<D['methods'][K]>> | ResponseInit<D['methods'][K]>;
};

/**
 * Options of {@link createServer}. `metrics` and `tracing` (from
 * {@link ObservabilityOptions}) are on by default: Prometheus metrics into the
 * process's default registry (with the service queues' depth sampled on AMQP),
 * and SERVER spans whenever an OpenTelemetry SDK is registered.
 */
export interface ServerOptions extends ObservabilityOptions {
  readonly transport: Transport;
  /** Concurrency per service queue (AMQP prefetch). Default {@link DEFAULT_PREFETCH}. */
  readonly prefetch?: number;
  /** Server interceptors, outermost first. Default none. */
  readonly interceptors?: readonly Interceptor[];
  /** Instance id in logs, health answers and replies. Default `<host>-<pid>-<random>`. */
  readonly instance?: string;
  /** Default: the process logger (pino, `WARREN_LOG_LEVEL`). */
  readonly logger?: Logger;
  /** Refuse requests without a broker-validated `user_id` (UNAUTHENTICATED). Default false. */
  readonly requireIdentity?: boolean;
  /**
   * Who may call which method (`createAccessPolicy`: proto options plus rules):
   * others get PERMISSION_DENIED before their request is decoded. Health
   * checks stay open. Default none: every caller may call every method.
   */
  readonly access?: AccessPolicy;
  /** How long `close()` waits for in-flight handlers. Default {@link DEFAULT_DRAIN_MS}. */
  readonly drainMs?: number;
  /** Service queue type: `classic` (default) or `quorum`. */
  readonly queueType?: 'classic' | 'quorum';
  /** Longest a service queue may grow; beyond it calls get RESOURCE_EXHAUSTED. Default unlimited. */
  readonly maxQueueLength?: number;
  /**
   * A request delivered more often than this (every instance that took it died) is
   * dead-lettered to `rpc.<service>.dead` and its caller gets INTERNAL. Default 5.
   */
  readonly maxDeliveries?: number;
}

/** A Warren server: add services, start, close. */
export interface Server {
  /** Registers a service implementation; call before `start()`. */
  add<D extends ServiceDefinition>(definition: D, implementation: ServiceImplementation<D>): Server;
  /** Declares and consumes every service queue. */
  start(): Promise<void>;
  /** Stops taking requests, lets in-flight ones finish (bounded), closes. */
  close(): Promise<void>;
  readonly instance: string;
  /** `starting` before start, `serving`, `draining` during close, `closed`. */
  readonly state: 'starting' | 'serving' | 'draining' | 'closed';
}

/**
 * Creates a server. Every service it serves also answers
 * `warren.health.v1.HealthService/Check` on its own queue.
 *
 * ```ts
 * const server = createServer({ transport }).add(OrderServiceDefinition, {
 *   async getOrder(request, ctx) { return { id: request.id }; },
 * });
 * await server.start();
 * ```
 */
export function createServer(options: ServerOptions): Server {
  const instance = options.instance ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const logger = (options.logger ?? defaultLogger()).child({ instance });
  const services = new Map<string, Map<string, { info: MethodInfo; handler: MethodHandler }>>();
  const consumers: Consumer[] = [];
  const metrics = metricsFrom(options.metrics);
  metrics?.watchTransport(options.transport);
  let sampler: QueueSampler | undefined;
  let state: Server['state'] = 'starting';
  const dispatcher = createDispatcher({
    instance,
    logger,
    interceptors: options.interceptors ?? [],
    requireIdentity: options.requireIdentity ?? false,
    authorize: options.access === undefined ? undefined : (method, userId) => options.access!.check(method, userId),
    lookup: (service, method) => services.get(service)?.get(method),
    methodsOf: (service) => [...(services.get(service)?.keys() ?? [])],
    isServing: () => state === 'serving',
  });

  const server: Server = {
    instance,
    get state() {
      return state;
    },
    add(definition, implementation) {
      if (state !== 'starting') throw new Error('add() services before start()');
      if (services.has(definition.fullName)) throw new Error(`service ${definition.fullName} added twice`);
      const methods = new Map<string, { info: MethodInfo; handler: MethodHandler }>();
      for (const info of describeService(definition)) {
        const handler = (implementation as Record<string, MethodHandler | undefined>)[info.localName];
        if (typeof handler !== 'function')
          throw new TypeError(`${info.path}: implementation has no function ${info.localName}()`);
        methods.set(info.path, { info, handler: handler.bind(implementation) });
      }
      options.access?.register(definition);
      services.set(definition.fullName, methods);
      return server;
    },
    async start() {
      if (state !== 'starting') throw new Error(`server is ${state}`);
      if (services.size === 0) throw new Error('add at least one service before start()');
      const prefetch = options.prefetch ?? DEFAULT_PREFETCH;
      const serveOptions: ServeOptions = {
        prefetch,
        ...(options.queueType === undefined ? {} : { queueType: options.queueType }),
        ...(options.maxQueueLength === undefined ? {} : { maxLength: options.maxQueueLength }),
        ...(options.maxDeliveries === undefined ? {} : { maxDeliveries: options.maxDeliveries }),
      };
      for (const [service, methods] of services) {
        const observed = observeDispatch(service, (delivery) => dispatcher.dispatch(service, delivery), {
          metrics,
          tracing: options.tracing ?? true,
          isKnown: (method) => methods.has(method),
          instance,
        });
        consumers.push(await options.transport.serve(service, serveOptions, observed));
      }
      if (metrics && isQueueInspector(options.transport)) {
        sampler = startQueueSampler(options.transport, [...services.keys()].map(serviceQueue), metrics, logger);
      }
      state = 'serving';
      logger.info({ services: [...services.keys()], prefetch, transport: options.transport.kind }, 'server started');
    },
    async close() {
      if (state === 'closed' || state === 'draining') return;
      state = 'draining';
      sampler?.stop();
      const drainMs = options.drainMs ?? DEFAULT_DRAIN_MS;
      const timer = setTimeout(
        () => dispatcher.abandonAll(`server ${instance} did not finish within ${drainMs} ms of close()`),
        drainMs,
      );
      try {
        await Promise.all(consumers.map((consumer) => consumer.close()));
      } finally {
        clearTimeout(timer);
      }
      state = 'closed';
      logger.info({}, 'server closed');
    },
  };
  return server;
}
