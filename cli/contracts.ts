import { resolve } from 'node:path';
import protobuf from 'protobufjs';
// Straight from the modules, not core/index.js: `describe` then loads no broker client (faster start).
import { Code } from '../core/index.js';
import { type MethodInfo } from '../core/index.js';
import { loadProtos, type ProtoRegistry } from '../core/tooling.js';
import { type DynamicMethod, type DynamicService } from '../core/tooling.js';
import { CliError, ExitCode, inputError } from './exit-codes.js';

/** Default directory of the contracts, relative to the working directory. */
export const DEFAULT_PROTO_DIR = 'proto';

/** A method picked by name, with what the runtime needs to call it. */
export interface ResolvedMethod {
  readonly service: DynamicService;
  readonly method: DynamicMethod;
  readonly info: MethodInfo;
}

/** What `warren describe <name>` found. */
export type Described =
  | { readonly kind: 'service'; readonly service: DynamicService }
  | { readonly kind: 'method'; readonly resolved: ResolvedMethod }
  | { readonly kind: 'message'; readonly type: protobuf.Type }
  | { readonly kind: 'enum'; readonly type: protobuf.Enum };

/** The loaded contracts and name lookups that fail with helpful usage errors. */
export interface Contracts {
  readonly dir: string;
  readonly registry: ProtoRegistry;
  /** Services to show and check: every loaded one but the built-in health service. */
  readonly services: readonly DynamicService[];
  service(name: string): DynamicService;
  /** `pkg.Service/Method`, `pkg.Service.Method` or `Service/Method` (short service name when unique). */
  method(name: string): ResolvedMethod;
  describe(name: string): Described;
}

/** Full name of the health service every server answers on its own queues (not a queue of its own). */
export const HEALTH_SERVICE = 'warren.health.v1.HealthService';

/**
 * Loads the `.proto` files under `dir` (default {@link DEFAULT_PROTO_DIR})
 * with the runtime's dynamic loader. A directory that does not load is a
 * usage error (exit 2) with the loader's message.
 */
export async function loadContracts(dir: string | undefined, command: string): Promise<Contracts> {
  const root = resolve(dir ?? DEFAULT_PROTO_DIR);
  let registry: ProtoRegistry;
  try {
    registry = await loadProtos({ root });
  } catch (error) {
    throw inputError(error, command);
  }
  const notFound = (message: string): CliError => new CliError(ExitCode.USAGE, Code.NOT_FOUND, message, command);
  const serviceNames = (): string => registry.services.map((service) => service.fullName).join(', ');

  const service = (name: string): DynamicService => {
    const found = registry.findService(name);
    if (!found) throw notFound(`no service ${JSON.stringify(name)} in ${root} (services: ${serviceNames()})`);
    return found;
  };

  const method = (name: string): ResolvedMethod => {
    const slash = name.lastIndexOf('/');
    const cut = slash >= 0 ? slash : name.lastIndexOf('.');
    if (cut <= 0 || cut === name.length - 1) {
      throw new CliError(
        ExitCode.USAGE,
        Code.INVALID_ARGUMENT,
        `expected a method as package.Service/Method, got ${JSON.stringify(name)}`,
        command,
      );
    }
    const owner = service(name.slice(0, cut));
    const wanted = name.slice(cut + 1);
    const entry = Object.entries(owner.methods).find(
      ([localName, candidate]) => candidate.name === wanted || localName === wanted,
    );
    if (!entry) {
      const names = Object.values(owner.methods)
        .map((candidate) => candidate.name)
        .join(', ');
      throw notFound(`no method ${JSON.stringify(wanted)} in ${owner.fullName} (methods: ${names})`);
    }
    const [localName, found] = entry;
    if (found.requestStream || found.responseStream) {
      throw new CliError(
        ExitCode.USAGE,
        Code.UNIMPLEMENTED,
        `${owner.fullName}/${found.name} streams; Warren calls are unary`,
        command,
      );
    }
    const info: MethodInfo = {
      service: owner.fullName,
      name: found.name,
      path: `${owner.fullName}/${found.name}`,
      localName,
      idempotency: found.options.idempotencyLevel,
      requestType: found.requestType,
      responseType: found.responseType,
    };
    return { service: owner, method: found, info };
  };

  const describe = (name: string): Described => {
    const wanted = name.replace(/^\./, '');
    const asService = registry.findService(wanted);
    if (asService) return { kind: 'service', service: asService };
    const type = lookupType(registry.root, wanted);
    if (type instanceof protobuf.Type) return { kind: 'message', type };
    if (type instanceof protobuf.Enum) return { kind: 'enum', type };
    try {
      return { kind: 'method', resolved: method(wanted) };
    } catch (error) {
      if (error instanceof CliError && error.code === Code.NOT_FOUND && /^no method/.test(error.message)) throw error;
      throw notFound(
        `nothing named ${JSON.stringify(name)} in ${root}: not a service, method, message or enum (services: ${serviceNames()})`,
      );
    }
  };

  return {
    dir: root,
    registry,
    services: registry.services.filter((candidate) => candidate.fullName !== HEALTH_SERVICE),
    service,
    method,
    describe,
  };
}

/** A message or enum by full name, else by a name unique among every loaded type. */
function lookupType(root: protobuf.Root, name: string): protobuf.Type | protobuf.Enum | undefined {
  const exact = root.lookup(name, [protobuf.Type, protobuf.Enum]);
  if ((exact instanceof protobuf.Type || exact instanceof protobuf.Enum) && exact.fullName === `.${name}`) return exact;
  const matches: (protobuf.Type | protobuf.Enum)[] = [];
  const visit = (namespace: protobuf.NamespaceBase): void => {
    for (const nested of namespace.nestedArray) {
      if (
        (nested instanceof protobuf.Type || nested instanceof protobuf.Enum) &&
        (nested.name === name || nested.fullName.endsWith(`.${name}`))
      )
        matches.push(nested);
      if (nested instanceof protobuf.Namespace) visit(nested); // messages are namespaces too (nested types)
    }
  };
  visit(root);
  return matches.length === 1 ? matches[0] : undefined;
}
