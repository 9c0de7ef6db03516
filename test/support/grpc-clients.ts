import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createFileRegistry, fromBinary, type FileRegistry } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

/** google/api and google/rpc protos the shop's contracts import. */
const GOOGLE_PROTOS = join(createRequire(import.meta.url).resolve('google-proto-files/package.json'), '..');

/** The buf binary from @bufbuild/buf. */
export const BUF = join(root, 'node_modules', '.bin', 'buf');

/** What `buf curl` printed and how it ended. */
export interface BufCurlResult {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
  /** The JSON it printed (the reply, or Connect-style `{code, message}` on failure). */
  readonly json: any;
}

/**
 * Runs `buf curl` with server reflection only (no local schema), HTTP/2 by
 * prior knowledge, in the given protocol.
 */
export async function bufCurl(
  base: string,
  protocol: 'connect' | 'grpc' | 'grpcweb',
  method: string,
  body: unknown,
  extra: string[] = [],
): Promise<BufCurlResult> {
  const args = [
    'curl',
    '--protocol',
    protocol,
    '--http2-prior-knowledge',
    ...extra,
    '-d',
    JSON.stringify(body),
    `${base}/${method}`,
  ];
  const { ok, stdout, stderr } = await run(BUF, args, { timeout: 60_000 }).then(
    (done) => ({ ok: true, stdout: done.stdout, stderr: done.stderr }),
    (error: { stdout?: string; stderr?: string }) => ({
      ok: false,
      stdout: error.stdout ?? '',
      stderr: error.stderr ?? '',
    }),
  );
  let json: unknown;
  try {
    json = JSON.parse(stdout.trim() === '' ? stderr : stdout);
  } catch {
    json = undefined;
  }
  return { ok, stdout, stderr, json };
}

/** A grpc-js client constructor for a service in proto/, loaded with @grpc/proto-loader. */
export function grpcJsClient(
  file: string,
  service: string,
  address: string,
  includeDirs: string[] = [join(root, 'proto'), GOOGLE_PROTOS],
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
): grpc.Client & Record<string, any> {
  const definition = protoLoader.loadSync(file, {
    includeDirs,
    longs: String,
    enums: String,
    defaults: true,
    keepCase: false,
  });
  const loaded = grpc.loadPackageDefinition(definition);
  const Constructor = service.split('.').reduce<any>((scope, part) => scope[part], loaded) as typeof grpc.Client;
  return new Constructor(address, credentials) as grpc.Client & Record<string, any>;
}

/** The gateway's own gRPC protos (grpc.health.v1), for grpc-js health checks. */
export const GATEWAY_GRPC_PROTOS = join(root, 'gateway', 'protocols', 'proto');

/** Promisified unary call of a grpc-js client; resolves the reply, the response headers and the status (trailers). */
export function grpcUnary(
  client: any,
  method: string,
  request: unknown,
  metadata = new grpc.Metadata(),
  options: grpc.CallOptions = {},
): Promise<{ reply: any; headers: grpc.Metadata; status: grpc.StatusObject }> {
  return new Promise((resolve, reject) => {
    let headers = new grpc.Metadata();
    let reply: unknown;
    let failed: grpc.ServiceError | undefined;
    const call = client[method](request, metadata, options, (error: grpc.ServiceError | null, value: unknown) => {
      if (error) failed = error;
      reply = value;
    });
    call.on('metadata', (value: grpc.Metadata) => (headers = value));
    call.on('status', (status: grpc.StatusObject) => {
      if (failed) reject(Object.assign(failed, { headers }));
      else setImmediate(() => resolve({ reply, headers, status }));
    });
  });
}

/**
 * Runtime descriptors for Connect-ES clients: `buf build` of proto/ (a
 * FileDescriptorSet image), read with @bufbuild/protobuf's registry. The
 * repo's generated code is ts-proto (Warren's own clients), which Connect-ES
 * cannot use, and a second code generator for tests only is not worth it.
 */
export async function protoRegistry(): Promise<FileRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'warren-image-'));
  try {
    const image = join(dir, 'image.binpb');
    await run(BUF, ['build', '-o', image], { cwd: root, timeout: 60_000 });
    return createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(image)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
