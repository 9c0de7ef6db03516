import protobuf from 'protobufjs';
import { isPlainMessage, isScalarLike } from './field-path.js';
import { createSchemaBuilder, SCHEMA_REF, type Schema, type SchemaBuilder } from './openapi-schema.js';
import { REQUEST_ID_HEADER, TIMEOUT_HEADER } from './call-headers.js';
import { RPC_PREFIX, type RestRoute, type Router, type RpcRoute } from './router.js';

/** Options of {@link createOpenApiDocument}. */
export interface OpenApiOptions {
  /** `info.title`. Default `Warren HTTP gateway`. */
  readonly title?: string;
  /** `info.version`. Default `1`. */
  readonly version?: string;
  /** The largest timeout the gateway allows, shown in the header's description. */
  readonly maxTimeoutMs: number;
  /** How callers authenticate, when the gateway requires it: bearer JWTs and/or an API key header. */
  readonly security?: { readonly bearer: boolean; readonly apiKeyHeader: string | undefined };
}

const ERROR_SCHEMA = 'warren.gateway.Error';
const QUERY_DEPTH = 3;

/**
 * The OpenAPI 3.0 document of every route the gateway serves, generated
 * from the loaded protos: the `google.api.http` routes with their path and
 * query parameters and bodies, and the generic `POST /rpc/...` routes (JSON
 * or protobuf). Only exposed methods are in the router, so methods the
 * gateway does not serve are not named here either. Schemas describe the
 * proto3 JSON mapping; descriptions come from proto comments; with
 * `security`, the schemes callers authenticate with (any one of them).
 */
export function createOpenApiDocument(router: Router, options: OpenApiOptions): Record<string, unknown> {
  const schemas = createSchemaBuilder();
  const paths: Record<string, Record<string, unknown>> = {};
  const shapes = new Map<string, { key: string; names: string[] }>();

  for (const route of router.restRoutes) {
    const { key, rename } = pathKeyOf(route, shapes);
    (paths[key] ??= {})[route.httpMethod.toLowerCase()] = restOperation(route, rename, schemas);
  }
  for (const route of router.rpcRoutes) {
    paths[`${RPC_PREFIX}${route.target.info.path}`] = { post: rpcOperation(route, schemas) };
  }
  const securitySchemes: Record<string, unknown> = {};
  if (options.security?.bearer) securitySchemes['bearer'] = { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' };
  if (options.security?.apiKeyHeader !== undefined)
    securitySchemes['apiKey'] = { type: 'apiKey', in: 'header', name: options.security.apiKeyHeader };
  const secured = Object.keys(securitySchemes).length > 0;
  return {
    openapi: '3.0.3',
    info: {
      title: options.title ?? 'Warren HTTP gateway',
      version: options.version ?? '1',
      description: 'HTTP/JSON front of Warren services (typed RPC over RabbitMQ). Errors are google.rpc.Status JSON.',
    },
    paths,
    ...(secured ? { security: Object.keys(securitySchemes).map((name) => ({ [name]: [] })) } : {}),
    components: {
      ...(secured ? { securitySchemes } : {}),
      schemas: {
        ...schemas.components(),
        [ERROR_SCHEMA]: {
          type: 'object',
          required: ['code', 'message', 'details'],
          properties: {
            code: { type: 'integer', format: 'int32', description: 'RPC status code (gRPC numbering)' },
            message: { type: 'string' },
            details: {
              type: 'array',
              items: {
                type: 'object',
                required: ['@type'],
                properties: { '@type': { type: 'string' } },
                additionalProperties: true,
              },
            },
          },
        },
      },
      parameters: {
        Timeout: {
          in: 'header',
          name: TIMEOUT_HEADER,
          required: false,
          description: `RPC deadline in milliseconds from arrival (capped at ${options.maxTimeoutMs}).`,
          schema: { type: 'integer', minimum: 1 },
        },
        RequestId: {
          in: 'header',
          name: REQUEST_ID_HEADER,
          required: false,
          description: 'Request id, echoed in the response; generated when absent.',
          schema: { type: 'string', maxLength: 128 },
        },
      },
    },
  };
}

/** The OpenAPI path of a route; templates equal up to variable names share one key (OpenAPI forbids twins). */
function pathKeyOf(
  route: RestRoute,
  shapes: Map<string, { key: string; names: string[] }>,
): { key: string; rename: Map<string, string> } {
  const names: string[] = [];
  let wildcard = 0;
  const withVariables = route.binding.template.source.replace(/\{([^}=]+)(=[^}]*)?\}/g, (_match, name: string) => {
    names.push(name);
    return `{${name}}`;
  });
  const key = withVariables
    .split('/')
    .map((segment) => (segment === '*' || segment === '**' ? `{_wildcard${++wildcard}}` : segment))
    .join('/');
  names.push(...Array.from({ length: wildcard }, (_, i) => `_wildcard${i + 1}`));
  const shape = key.replace(/\{[^}]+\}/g, '{}');
  const existing = shapes.get(shape);
  if (!existing) {
    shapes.set(shape, { key, names });
    return { key, rename: new Map(names.map((name) => [name, name])) };
  }
  return { key: existing.key, rename: new Map(names.map((name, i) => [name, existing.names[i] ?? name])) };
}

function restOperation(route: RestRoute, rename: Map<string, string>, schemas: SchemaBuilder): Record<string, unknown> {
  const { target, binding } = route;
  const requestType = target.method.requestType.type;
  const index = target.method.httpRules.indexOf(binding.rule);
  const parameters: unknown[] = [];
  for (const [dotted, chain] of binding.pathFields) {
    const name = rename.get(dotted) ?? dotted;
    parameters.push({
      in: 'path',
      name,
      required: true,
      description: `Sets request field ${dotted}${binding.template.variables.find((v) => v.fieldPath.join('.') === dotted)?.multi ? ' (several path segments)' : ''}.`,
      schema: schemas.fieldSchema(chain[chain.length - 1]!),
    });
  }
  for (const [name, wildcard] of rename)
    if (name.startsWith('_wildcard'))
      parameters.push({
        in: 'path',
        name: wildcard,
        required: true,
        description: 'Any path segment(s).',
        schema: { type: 'string' },
      });
  if (binding.rule.body !== '*') {
    const excluded = new Set<string>([
      ...binding.pathFields.keys(),
      ...(binding.bodyField ? [binding.bodyField.name] : []),
    ]);
    for (const [name, field] of queryFields(requestType, '', excluded, 0, new Set())) {
      const schema = schemas.fieldSchema(field);
      parameters.push({
        in: 'query',
        name,
        required: false,
        schema,
        ...(field.repeated ? { style: 'form', explode: true } : {}),
      });
    }
  }
  parameters.push({ $ref: '#/components/parameters/Timeout' }, { $ref: '#/components/parameters/RequestId' });
  const operation: Record<string, unknown> = {
    operationId: `${target.service.name}_${target.method.name}${index > 0 ? `_${index}` : ''}`,
    tags: [target.service.fullName],
    summary: `${target.info.path}`,
    ...descriptionOf(target.service.fullName, target.method.name, requestType),
    parameters,
    responses: responses(
      binding.responseField
        ? schemas.fieldSchema(binding.responseField)
        : schemas.messageSchema(target.method.responseType.type),
      false,
    ),
  };
  if (binding.rule.body !== '') {
    const schema = binding.bodyField ? schemas.fieldSchema(binding.bodyField) : schemas.messageSchema(requestType);
    operation['requestBody'] = { required: true, content: { 'application/json': { schema } } };
  }
  return operation;
}

function rpcOperation(route: RpcRoute, schemas: SchemaBuilder): Record<string, unknown> {
  const { target } = route;
  return {
    operationId: `rpc_${target.service.fullName.replace(/\./g, '_')}_${target.method.name}`,
    tags: [target.service.fullName],
    summary: `${target.info.path} (generic route)`,
    ...descriptionOf(target.service.fullName, target.method.name, target.method.requestType.type),
    parameters: [{ $ref: '#/components/parameters/Timeout' }, { $ref: '#/components/parameters/RequestId' }],
    requestBody: {
      required: true,
      content: {
        'application/json': { schema: schemas.messageSchema(target.method.requestType.type) },
        'application/x-protobuf': { schema: { type: 'string', format: 'binary' } },
      },
    },
    responses: responses(schemas.messageSchema(target.method.responseType.type), true),
  };
}

function responses(schema: Schema, protobufToo: boolean): Record<string, unknown> {
  return {
    '200': {
      description: 'The RPC succeeded.',
      content: {
        'application/json': { schema },
        ...(protobufToo ? { 'application/x-protobuf': { schema: { type: 'string', format: 'binary' } } } : {}),
      },
    },
    default: {
      description: 'The RPC failed; see the status table in gateway/README.md.',
      content: { 'application/json': { schema: { $ref: SCHEMA_REF + ERROR_SCHEMA } } },
    },
  };
}

function descriptionOf(serviceName: string, methodName: string, requestType: protobuf.Type): { description?: string } {
  const service = requestType.root.lookup(serviceName);
  const comment = service instanceof protobuf.Service ? service.methods[methodName]?.comment : undefined;
  return comment ? { description: comment } : {};
}

/** Query-settable fields, dotted: scalars and repeated scalars, nested singular messages up to a depth. */
function queryFields(
  type: protobuf.Type,
  prefix: string,
  excluded: ReadonlySet<string>,
  depth: number,
  seen: Set<protobuf.Type>,
): [string, protobuf.Field][] {
  const found: [string, protobuf.Field][] = [];
  for (const field of type.fieldsArray) {
    field.resolve();
    const name = prefix + field.name;
    if (excluded.has(name)) continue;
    if (isScalarLike(field)) found.push([name, field]);
    else if (
      isPlainMessage(field) &&
      !field.repeated &&
      depth < QUERY_DEPTH &&
      !seen.has(field.resolvedType as protobuf.Type)
    ) {
      seen.add(field.resolvedType as protobuf.Type);
      found.push(...queryFields(field.resolvedType as protobuf.Type, `${name}.`, excluded, depth + 1, seen));
      seen.delete(field.resolvedType as protobuf.Type);
    }
  }
  return found;
}
