import protobuf from 'protobufjs';
import type { IdempotencyLevel, MethodDefinition, ServiceDefinition } from '../protocol/definition.js';
import { readHttpRules, type HttpRule } from './http-rule.js';
import type { DynamicMessageType } from './message-type.js';

/** A method of a {@link DynamicService}: a ts-proto `MethodDefinition` plus its HTTP rules. */
export interface DynamicMethod extends MethodDefinition {
  readonly requestType: DynamicMessageType;
  readonly responseType: DynamicMessageType;
  readonly options: { readonly idempotencyLevel: IdempotencyLevel };
  /** The `google.api.http` bindings, main one first; empty when the method has none. */
  readonly httpRules: readonly HttpRule[];
}

/**
 * A service loaded at run time. Same shape as a generated
 * `FooServiceDefinition`: `methods` is keyed by the lower-camel method name
 * (`createThing`), as ts-proto does, and each method's `name` is the proto
 * name (`CreateThing`).
 */
export interface DynamicService extends ServiceDefinition {
  readonly methods: { readonly [localName: string]: DynamicMethod };
}

const LEVELS: ReadonlySet<string> = new Set<IdempotencyLevel>(['IDEMPOTENCY_UNKNOWN', 'NO_SIDE_EFFECTS', 'IDEMPOTENT']);

/** Builds the definition of one reflected service. */
export function createDynamicService(
  service: protobuf.Service,
  messageType: (type: protobuf.Type) => DynamicMessageType,
): DynamicService {
  const fullName = service.fullName.slice(1);
  const methods: Record<string, DynamicMethod> = {};
  for (const method of service.methodsArray) {
    method.resolve();
    const where = `${fullName}/${method.name}`;
    const level = method.options?.['idempotency_level'];
    methods[lowerFirst(method.name)] = {
      name: method.name,
      requestType: messageType(method.resolvedRequestType!),
      responseType: messageType(method.resolvedResponseType!),
      requestStream: method.requestStream === true,
      responseStream: method.responseStream === true,
      options: {
        idempotencyLevel:
          typeof level === 'string' && LEVELS.has(level) ? (level as IdempotencyLevel) : 'IDEMPOTENCY_UNKNOWN',
      },
      httpRules: readHttpRules(where, method.parsedOptions as Record<string, unknown>[] | undefined),
    };
  }
  return { name: service.name, fullName, methods };
}

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}
