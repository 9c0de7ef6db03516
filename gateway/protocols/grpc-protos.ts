import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const DIR = fileURLToPath(new URL('./proto/', import.meta.url));

/**
 * The gRPC services the gateway answers itself (grpc.health.v1 and server
 * reflection v1 / v1alpha), loaded from gateway/protocols/proto at start-up
 * with the same loader as the contracts, so reflection describes them too.
 */
export function loadGrpcProtos(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => DIR + target;
  root.loadSync(
    ['grpc/health/v1/health.proto', 'grpc/reflection/v1/reflection.proto', 'grpc/reflection/v1alpha/reflection.proto'],
    { keepCase: true },
  );
  root.resolveAll();
  return root;
}

/** Full names of the reflection services. */
export const REFLECTION_SERVICES: readonly string[] = [
  'grpc.reflection.v1.ServerReflection',
  'grpc.reflection.v1alpha.ServerReflection',
];
/** Full name of the health service. */
export const HEALTH_SERVICE = 'grpc.health.v1.Health';
