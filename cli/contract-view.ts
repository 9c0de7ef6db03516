import protobuf from 'protobufjs';
import { type DynamicMethod, type DynamicService, type HttpRule } from '../core/tooling.js';
import { type IdempotencyLevel } from '../core/index.js';

/**
 * How `describe` and `list` show contracts: proto-like text for people and
 * plain JSON objects for `--json`, both from the protobufjs reflection the
 * runtime loaded (comments included).
 */

const IDEMPOTENCY_LABELS: Record<IdempotencyLevel, string> = {
  NO_SIDE_EFFECTS: 'no side effects',
  IDEMPOTENT: 'idempotent',
  IDEMPOTENCY_UNKNOWN: 'side effects',
};

/** `no side effects` / `idempotent` / `side effects` (never retried, redelivery refused). */
export function idempotencyLabel(level: IdempotencyLevel): string {
  return IDEMPOTENCY_LABELS[level];
}

/** `POST /v1/things/{id}:cancel (body *)`. */
export function routeText(rule: HttpRule): string {
  const extras = [
    rule.body === '' ? '' : `body ${rule.body}`,
    rule.responseBody === '' ? '' : `response body ${rule.responseBody}`,
  ].filter((text) => text !== '');
  return `${rule.method} ${rule.path}${extras.length > 0 ? ` (${extras.join(', ')})` : ''}`;
}

/** Full name without the leading dot. */
function nameOf(reflected: protobuf.ReflectionObject): string {
  return reflected.fullName.replace(/^\./, '');
}

function reflectedMethod(
  service: DynamicService,
  method: DynamicMethod,
  root: protobuf.Root,
): protobuf.Method | undefined {
  return root.lookupService(service.fullName).methods[method.name];
}

/** A method as JSON. */
export function methodJson(
  service: DynamicService,
  method: DynamicMethod,
  root: protobuf.Root,
): Record<string, unknown> {
  return {
    name: method.name,
    path: `${service.fullName}/${method.name}`,
    requestType: method.requestType.fullName,
    responseType: method.responseType.fullName,
    idempotency: method.options.idempotencyLevel,
    http: method.httpRules.map((rule) => ({ ...rule })),
    ...commentField(reflectedMethod(service, method, root)?.comment),
  };
}

/** A service as JSON. */
export function serviceJson(service: DynamicService, root: protobuf.Root): Record<string, unknown> {
  return {
    kind: 'service',
    name: service.fullName,
    queue: `rpc.${service.fullName}`,
    ...commentField(root.lookupService(service.fullName).comment),
    methods: Object.values(service.methods).map((method) => methodJson(service, method, root)),
  };
}

/** A message as JSON: every field with its type, label, number and JSON name. */
export function messageJson(type: protobuf.Type): Record<string, unknown> {
  return {
    kind: 'message',
    name: nameOf(type),
    ...commentField(type.comment),
    fields: type.fieldsArray.map((field) => {
      field.resolve();
      const oneof = field.partOf && !isSyntheticOneof(field.partOf) ? { oneof: field.partOf.name } : {};
      return {
        name: field.name,
        jsonName: field.jsonName,
        number: field.id,
        type: fieldTypeName(field),
        label: field.map ? 'map' : field.repeated ? 'repeated' : isProto3Optional(field) ? 'optional' : 'singular',
        ...(field instanceof protobuf.MapField ? { keyType: field.keyType } : {}),
        ...oneof,
        ...commentField(field.comment),
      };
    }),
  };
}

/** An enum as JSON. */
export function enumJson(type: protobuf.Enum): Record<string, unknown> {
  return {
    kind: 'enum',
    name: nameOf(type),
    ...commentField(type.comment),
    values: Object.entries(type.values).map(([name, number]) => ({
      name,
      number,
      ...commentField(type.comments[name]),
    })),
  };
}

/** A service as text: its comment, then one `rpc` line per method with idempotency and routes. */
export function serviceText(service: DynamicService, root: protobuf.Root): string[] {
  const lines = [
    ...commentLines(root.lookupService(service.fullName).comment, ''),
    `service ${service.fullName} {  // queue rpc.${service.fullName}`,
  ];
  for (const method of Object.values(service.methods)) {
    lines.push(...commentLines(reflectedMethod(service, method, root)?.comment, '  '), `  ${rpcLine(method)}`);
    for (const rule of method.httpRules) lines.push(`    // HTTP ${routeText(rule)}`);
  }
  lines.push('}');
  return lines;
}

/** `rpc Echo(warren.test.v1.EchoRequest) returns (warren.test.v1.EchoResponse);  // no side effects` */
export function rpcLine(method: DynamicMethod): string {
  return `rpc ${method.name}(${method.requestType.fullName}) returns (${method.responseType.fullName});  // ${idempotencyLabel(method.options.idempotencyLevel)}`;
}

/** A message as proto-like text, JSON names noted where they differ from the field names. */
export function messageText(type: protobuf.Type): string[] {
  const lines = [...commentLines(type.comment, ''), `message ${nameOf(type)} {`];
  for (const field of type.fieldsArray) {
    field.resolve();
    const label = field.map ? '' : field.repeated ? 'repeated ' : isProto3Optional(field) ? 'optional ' : '';
    const typeName =
      field instanceof protobuf.MapField ? `map<${field.keyType}, ${fieldTypeName(field)}>` : fieldTypeName(field);
    const notes = [
      field.jsonName === field.name ? '' : `JSON ${field.jsonName}`,
      field.partOf && !isSyntheticOneof(field.partOf) ? `oneof ${field.partOf.name}` : '',
    ].filter((note) => note !== '');
    lines.push(
      ...commentLines(field.comment, '  '),
      `  ${label}${typeName} ${field.name} = ${field.id};${notes.length > 0 ? `  // ${notes.join(', ')}` : ''}`,
    );
  }
  lines.push('}');
  return lines;
}

/** An enum as proto-like text. */
export function enumText(type: protobuf.Enum): string[] {
  const lines = [...commentLines(type.comment, ''), `enum ${nameOf(type)} {`];
  for (const [name, number] of Object.entries(type.values))
    lines.push(...commentLines(type.comments[name], '  '), `  ${name} = ${number};`);
  lines.push('}');
  return lines;
}

/**
 * The messages and enums a message refers to, transitively, in first-seen
 * order; google.protobuf well-known types are left out (their JSON forms are
 * standard).
 */
export function referencedTypes(roots: readonly protobuf.Type[]): (protobuf.Type | protobuf.Enum)[] {
  const seen = new Set<protobuf.ReflectionObject>(roots);
  const found: (protobuf.Type | protobuf.Enum)[] = [];
  const visit = (type: protobuf.Type): void => {
    for (const field of type.fieldsArray) {
      field.resolve();
      const target = field.resolvedType;
      if (!target || seen.has(target) || nameOf(target).startsWith('google.protobuf.')) continue;
      seen.add(target);
      found.push(target);
      if (target instanceof protobuf.Type) visit(target);
    }
  };
  roots.forEach(visit);
  return found;
}

function fieldTypeName(field: protobuf.Field): string {
  return field.resolvedType ? nameOf(field.resolvedType) : field.type;
}

function isProto3Optional(field: protobuf.Field): boolean {
  return (
    field.options?.['proto3_optional'] === true ||
    (field.partOf !== null && field.partOf !== undefined && isSyntheticOneof(field.partOf))
  );
}

/** proto3 `optional` fields sit in a synthetic oneof named `_<field>`. */
function isSyntheticOneof(oneof: protobuf.OneOf): boolean {
  return oneof.fieldsArray.length === 1 && oneof.name === `_${oneof.fieldsArray[0]!.name}`;
}

function commentField(comment: string | null | undefined): { comment?: string } {
  return comment ? { comment } : {};
}

function commentLines(comment: string | null | undefined, indent: string): string[] {
  return comment ? comment.split('\n').map((line) => `${indent}// ${line}`.trimEnd()) : [];
}
