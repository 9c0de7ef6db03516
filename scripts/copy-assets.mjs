// `npm run build`, after tsc: copies the files the compiled code reads next to itself (the mesh page, the gateway's
// grpc.health.v1 and server reflection protos).
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

const ASSETS = [
  'gateway/mesh/mesh-page.html',
  'gateway/protocols/proto/grpc/health/v1/health.proto',
  'gateway/protocols/proto/grpc/reflection/v1/reflection.proto',
  'gateway/protocols/proto/grpc/reflection/v1alpha/reflection.proto',
];
for (const asset of ASSETS) {
  mkdirSync(dirname(`dist/${asset}`), { recursive: true });
  copyFileSync(asset, `dist/${asset}`);
}
