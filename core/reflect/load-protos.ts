import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import protobuf from 'protobufjs';
import { Code } from '../protocol/code.js';
import { RpcError } from '../protocol/rpc-error.js';
import { createDynamicMessageType, type DynamicMessageType } from './message-type.js';
import { createDynamicService, type DynamicService } from './service-definition.js';

/** Options of {@link loadProtos}. */
export interface LoadProtosOptions {
  /** Directory holding the contracts; also the first import root. Default `proto`. */
  readonly root?: string;
  /** Files to load, relative to `root`. Default: every `.proto` under `root`. */
  readonly files?: readonly string[];
  /** More import roots, searched after `root`. google-proto-files is always searched last. */
  readonly includeDirs?: readonly string[];
}

/** What {@link loadProtos} found. */
export interface ProtoRegistry {
  /** Every service in the loaded files (not in imported google/* files), by full name. */
  readonly services: readonly DynamicService[];
  /** A service by full name (`warren.test.v1.TestService`) or, when unique, short name. */
  findService(name: string): DynamicService | undefined;
  /** A message codec by full name (`warren.test.v1.EchoRequest`, `google.protobuf.Timestamp`). */
  findMessage(name: string): DynamicMessageType | undefined;
  /** The protobufjs root, for tools that need more reflection than this API gives. */
  readonly root: protobuf.Root;
}

/**
 * Loads `.proto` files at run time and builds, for every service, a
 * definition with the shape of a ts-proto generated one
 * ({@link DynamicService}), so `createMethodCaller` and `createServer` take
 * it as they take generated code. Imports resolve against `root`, then
 * `includeDirs`, then the npm package google-proto-files (so
 * `google/api/annotations.proto` and `google/rpc/*.proto` work with no copy);
 * the common google/protobuf types come bundled with protobufjs.
 *
 * ```ts
 * const protos = await loadProtos({ root: 'proto' });
 * const echo = protos.findService('warren.test.v1.TestService')!.methods['echo']!;
 * const request = echo.requestType.fromJSON({ text: 'hi', number: '42' });
 * ```
 *
 * Rejects with INVALID_ARGUMENT naming the file when a file does not parse
 * or a type does not resolve.
 */
export async function loadProtos(options: LoadProtosOptions = {}): Promise<ProtoRegistry> {
  const root = resolve(options.root ?? 'proto');
  const importRoots = [root, ...(options.includeDirs ?? []).map((dir) => resolve(dir)), googleProtoFilesDir()];
  const files = (options.files ?? (await listProtoFiles(root))).map((file) =>
    isAbsolute(file) ? file : join(root, file),
  );
  if (files.length === 0) throw new RpcError(Code.INVALID_ARGUMENT, `no .proto files under ${root}`);

  const protoRoot = new protobuf.Root();
  protoRoot.resolvePath = (origin: string, target: string): string => {
    if (isAbsolute(target)) return target;
    for (const dir of importRoots) {
      const candidate = join(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    return protobuf.util.path.resolve(origin, target);
  };
  try {
    // loadSync: the async load throws resolution errors from a callback, out of reach of a catch.
    // google/rpc/error_details.proto always: error details (BadRequest, RetryInfo…) decode to JSON even when no
    // contract imports it, as grpc-gateway clients expect.
    protoRoot.loadSync([...files, join(googleProtoFilesDir(), ERROR_DETAILS_PROTO)], {
      keepCase: true,
      alternateCommentMode: true,
    });
    protoRoot.resolveAll();
  } catch (error) {
    throw new RpcError(Code.INVALID_ARGUMENT, `cannot load protos from ${root}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  fixFullNames(protoRoot);

  const ownFiles = new Set(files.map((file) => resolve(file)));
  const messages = new Map<string, DynamicMessageType>();
  const messageType = (type: protobuf.Type): DynamicMessageType => {
    const name = type.fullName.slice(1);
    let codec = messages.get(name);
    if (!codec) {
      codec = createDynamicMessageType(type);
      messages.set(name, codec);
    }
    return codec;
  };
  const services = collect(protoRoot, protobuf.Service)
    .filter((service) => service.filename === null || ownFiles.has(resolve(service.filename)))
    .map((service) => createDynamicService(service, messageType))
    .sort((a, b) => a.fullName.localeCompare(b.fullName));

  return {
    services,
    root: protoRoot,
    findService(name) {
      const wanted = name.replace(/^\./, '');
      const exact = services.find((service) => service.fullName === wanted);
      if (exact) return exact;
      const short = services.filter((service) => service.name === wanted);
      return short.length === 1 ? short[0] : undefined;
    },
    findMessage(name) {
      const wanted = name.replace(/^\./, '');
      const cached = messages.get(wanted);
      if (cached) return cached;
      const found = protoRoot.lookup(wanted, [protobuf.Type]);
      return found instanceof protobuf.Type && found.fullName === `.${wanted}` ? messageType(found) : undefined;
    },
  };
}

/**
 * protobufjs computes `fullName` on every read by walking up the parents,
 * and its ProtoJSON reader reads it several times per field: a third of the
 * JSON conversion time. The loaded tree never moves, so each name is
 * computed once and stored as an own property.
 */
function fixFullNames(object: protobuf.ReflectionObject): void {
  Object.defineProperty(object, 'fullName', { value: object.fullName, enumerable: false });
  if (object instanceof protobuf.Type) for (const field of object.fieldsArray) fixFullNames(field);
  if (object instanceof protobuf.Service) for (const method of object.methodsArray) fixFullNames(method);
  if (object instanceof protobuf.Namespace) for (const nested of object.nestedArray) fixFullNames(nested);
}

/** The standard error detail messages (google.rpc.*), loaded with every set of contracts. */
const ERROR_DETAILS_PROTO = 'google/rpc/error_details.proto';

/** Directory of the google-proto-files package (google/api, google/rpc, google/type…). */
function googleProtoFilesDir(): string {
  return dirname(createRequire(import.meta.url).resolve('google-proto-files/package.json'));
}

async function listProtoFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch((error: unknown) => {
    throw new RpcError(Code.INVALID_ARGUMENT, `cannot read the proto directory ${root}: ${(error as Error).message}`, {
      cause: error,
    });
  });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.proto'))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
}

function collect<T extends protobuf.ReflectionObject>(
  namespace: protobuf.NamespaceBase,
  kind: new (...args: any[]) => T,
): T[] {
  const found: T[] = [];
  for (const nested of namespace.nestedArray) {
    if (nested instanceof kind) found.push(nested);
    if (nested instanceof protobuf.Namespace) found.push(...collect(nested, kind));
  }
  return found;
}
