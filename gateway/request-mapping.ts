import protobuf from 'protobufjs';
import { Code, RpcError } from '../core/index.js';
import { type DynamicMethod, type HttpRule } from '../core/tooling.js';
import { findField, isScalarLike, jsonFromString, presentKey, resolveFieldPath, setOwn } from './field-path.js';
import type { PathTemplate } from './path-template.js';

/**
 * How one `google.api.http` binding fills the request message, as
 * grpc-gateway does it:
 *
 * - path variables set the fields they name (`{thing.id}` sets `thing.id`);
 *   they win over the same field in the body;
 * - `body: "*"`: the JSON body is the whole request; no query parameters;
 * - `body: "field"`: the JSON body is that field; query parameters may set
 *   any other field;
 * - no body: query parameters set fields: `?page_size=10&tags=a&tags=b&filter.kind=THING_KIND_BOOK`
 *   (proto or JSON names, dots for nesting, repeated fields by repetition).
 *
 * Unknown query parameters, parameters naming path- or body-bound fields,
 * maps and messages in the query are INVALID_ARGUMENT: a typo never goes
 * silently unnoticed.
 */
export interface CompiledBinding {
  readonly rule: HttpRule;
  readonly template: PathTemplate;
  readonly requestType: protobuf.Type;
  /** Dotted path → field chain, for every path variable. */
  readonly pathFields: ReadonlyMap<string, readonly protobuf.Field[]>;
  /** The body field, for `body: "field"`. */
  readonly bodyField: protobuf.Field | undefined;
  /** The response field sent as the body, for `response_body: "field"`. */
  readonly responseField: protobuf.Field | undefined;
}

/** Checks a binding against the method's messages; throws a `TypeError` naming the method. */
export function compileBinding(
  method: DynamicMethod,
  where: string,
  rule: HttpRule,
  template: PathTemplate,
): CompiledBinding {
  const requestType = method.requestType.type;
  const fail = (problem: string): never => {
    throw new TypeError(`${where} (${rule.method} ${rule.path}): ${problem}`);
  };
  const pathFields = new Map<string, readonly protobuf.Field[]>();
  for (const variable of template.variables) {
    const chain = resolveFieldPath(requestType, variable.fieldPath);
    if (typeof chain === 'string') fail(chain);
    const leaf = (chain as protobuf.Field[])[(chain as protobuf.Field[]).length - 1]!;
    if (!isScalarLike(leaf) || leaf.repeated)
      fail(
        `path variable ${variable.fieldPath.join('.')} must be a singular scalar, enum or scalar-like well-known type`,
      );
    pathFields.set(variable.fieldPath.join('.'), chain as protobuf.Field[]);
  }
  let bodyField: protobuf.Field | undefined;
  if (rule.body !== '' && rule.body !== '*') {
    bodyField = findField(requestType, rule.body);
    if (!bodyField) fail(`body field ${JSON.stringify(rule.body)} is not a field of ${method.requestType.fullName}`);
  }
  let responseField: protobuf.Field | undefined;
  if (rule.responseBody !== '') {
    responseField = findField(method.responseType.type, rule.responseBody);
    if (!responseField)
      fail(`response_body ${JSON.stringify(rule.responseBody)} is not a field of ${method.responseType.fullName}`);
  }
  return { rule, template, requestType, pathFields, bodyField, responseField };
}

/**
 * Builds the request's proto3 JSON from the three HTTP sources. `body` is
 * the parsed JSON body (`undefined` when the binding takes none). Throws
 * INVALID_ARGUMENT naming the offending parameter.
 */
export function buildRequestJson(
  binding: CompiledBinding,
  pathValues: ReadonlyMap<string, string>,
  query: string,
  body: unknown,
): Record<string, unknown> {
  let json: Record<string, unknown>;
  if (binding.rule.body === '*') {
    if (!isObject(body)) throw new RpcError(Code.INVALID_ARGUMENT, 'request body must be a JSON object');
    json = body;
  } else {
    json = Object.create(null) as Record<string, unknown>;
    if (binding.bodyField) setOwn(json, binding.bodyField.name, body);
  }
  for (const [dotted, chain] of binding.pathFields) {
    const text = pathValues.get(dotted)!;
    const leaf = chain[chain.length - 1]!;
    const value = jsonFromString(leaf, text);
    if (value === undefined)
      throw new RpcError(
        Code.INVALID_ARGUMENT,
        `path parameter ${dotted}: ${JSON.stringify(text)} is not true or false`,
      );
    place(json, chain, value, `path parameter ${dotted}`);
  }
  if (query !== '') applyQuery(binding, json, query);
  return json;
}

function applyQuery(binding: CompiledBinding, json: Record<string, unknown>, query: string): void {
  const params = new URLSearchParams(query);
  if (binding.rule.body === '*') {
    const first = params.keys().next();
    if (!first.done)
      throw new RpcError(
        Code.INVALID_ARGUMENT,
        `query parameter ${JSON.stringify(first.value)} not allowed: this route takes every field from the body`,
      );
    return;
  }
  const seen = new Set<string>();
  for (const [key, text] of params) {
    const what = `query parameter ${JSON.stringify(key)}`;
    const chain = resolveFieldPath(binding.requestType, key.split('.'));
    if (typeof chain === 'string') throw new RpcError(Code.INVALID_ARGUMENT, `${what}: ${chain}`);
    const canonical = chain.map((field) => field.name).join('.');
    if (binding.pathFields.has(canonical))
      throw new RpcError(Code.INVALID_ARGUMENT, `${what}: ${canonical} is set by the path`);
    if (binding.bodyField && chain[0] === binding.bodyField)
      throw new RpcError(Code.INVALID_ARGUMENT, `${what}: ${binding.bodyField.name} is set by the body`);
    const leaf = chain[chain.length - 1]!;
    if (!isScalarLike(leaf))
      throw new RpcError(
        Code.INVALID_ARGUMENT,
        `${what}: ${canonical} is a ${leaf.map ? 'map' : 'message'}; set its fields one by one (${canonical}.<field>=…)`,
      );
    if (!leaf.repeated && seen.has(canonical))
      throw new RpcError(Code.INVALID_ARGUMENT, `${what}: ${canonical} is not repeated but was given more than once`);
    seen.add(canonical);
    const value = jsonFromString(leaf, text);
    if (value === undefined)
      throw new RpcError(Code.INVALID_ARGUMENT, `${what}: ${JSON.stringify(text)} is not true or false`);
    place(json, chain, value, what);
  }
}

/** Sets `value` at a field chain, creating objects on the way; repeated leaves append. */
function place(json: Record<string, unknown>, chain: readonly protobuf.Field[], value: unknown, what: string): void {
  let target = json;
  for (let i = 0; i < chain.length - 1; i++) {
    const field = chain[i]!;
    const key = presentKey(target, field);
    const existing = key === undefined ? undefined : target[key];
    if (isObject(existing)) {
      target = existing;
    } else if (existing === undefined || existing === null) {
      if (key !== undefined) delete target[key];
      const created = Object.create(null) as Record<string, unknown>;
      setOwn(target, field.name, created);
      target = created;
    } else {
      throw new RpcError(Code.INVALID_ARGUMENT, `${what}: ${field.name} in the body is not an object`);
    }
  }
  const leaf = chain[chain.length - 1]!;
  const key = presentKey(target, leaf);
  if (leaf.repeated) {
    const existing = key === undefined ? undefined : target[key];
    if (Array.isArray(existing)) existing.push(value);
    else setOwn(target, leaf.name, [value]);
    return;
  }
  if (key !== undefined) delete target[key];
  if (leaf.name !== leaf.jsonName) delete target[leaf.jsonName];
  setOwn(target, leaf.name, value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The response JSON to send: the whole message, or its `response_body` field (defaults included). */
export function pickResponseBody(binding: CompiledBinding, json: Record<string, unknown>): unknown {
  const field = binding.responseField;
  if (!field) return json;
  const value = json[field.jsonName];
  if (value !== undefined) return value;
  return defaultJson(field);
}

function defaultJson(field: protobuf.Field): unknown {
  if (field.map) return {};
  if (field.repeated) return [];
  const type = field.resolvedType;
  if (type instanceof protobuf.Enum) return type.valuesById[0] ?? 0;
  if (type instanceof protobuf.Type) return null;
  switch (field.type) {
    case 'string':
    case 'bytes':
      return '';
    case 'bool':
      return false;
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      return '0';
    default:
      return 0;
  }
}
