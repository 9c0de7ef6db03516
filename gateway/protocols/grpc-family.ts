import { type DynamicService } from '../../core/tooling.js';
import { type Transport } from '../../core/index.js';
import type { Router } from '../router.js';
import { createDescriptorPool } from './descriptor-pool.js';
import { createGrpcHealth } from './grpc-health.js';
import { HEALTH_SERVICE, loadGrpcProtos } from './grpc-protos.js';
import { createReflection } from './reflection.js';
import { createWireHandler, type WireHandler, type WireHandlerContext } from './wire-handler.js';

/** What {@link createGrpcFamily} needs beyond the handler's own context. */
export interface GrpcFamilyOptions extends Omit<WireHandlerContext, 'targets' | 'streaming' | 'health' | 'reflection'> {
  readonly router: Router;
  /** The exposed services (streaming methods included, so they answer UNIMPLEMENTED rather than "unknown"). */
  readonly exposedServices: readonly DynamicService[];
  /** Health checks go straight to the transport (no breaker). */
  readonly transport: Transport;
  /** The gateway's own readiness, for `Check({service: ""})`. */
  readonly ready: () => boolean;
  /** Serve server reflection. */
  readonly reflection: boolean;
}

/**
 * Wires the gRPC-family side of a gateway: the router's exposed unary
 * methods as targets, grpc.health.v1 and (unless turned off) server
 * reflection over the loaded contracts plus the gateway's own gRPC protos.
 */
export function createGrpcFamily(options: GrpcFamilyOptions): WireHandler {
  const grpcRoot = loadGrpcProtos();
  const streaming = new Set([`${HEALTH_SERVICE}/Watch`]);
  for (const service of options.exposedServices) {
    for (const method of Object.values(service.methods))
      if (method.requestStream || method.responseStream) streaming.add(`${service.fullName}/${method.name}`);
  }
  const exposedNames = [...new Set(options.router.rpcRoutes.map((route) => route.target.info.service))];
  return createWireHandler({
    ...options,
    targets: new Map(options.router.rpcRoutes.map((route) => [route.target.info.path, route.target])),
    streaming,
    health: createGrpcHealth(grpcRoot, new Set(exposedNames), options.transport, options.ready),
    reflection: options.reflection
      ? createReflection(
          grpcRoot,
          () => createDescriptorPool([options.registry.root, grpcRoot]),
          exposedNames,
          options.bodyLimitBytes,
        )
      : undefined,
  });
}
