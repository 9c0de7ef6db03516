/**
 * The shape of a ts-proto `outputServices=generic-definitions` service, which
 * is all the runtime needs: names, message codecs and the idempotency option.
 * Dynamic definitions (the gateway, the CLI) build the same shape at run time.
 */

/** A message codec: the subset of ts-proto's `MessageFns<T>` Warren uses. */
export interface MessageType<T = any> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
  fromJSON(object: any): T;
  toJSON(message: T): unknown;
  fromPartial(object: any): T;
}

/** The proto `idempotency_level` method option. */
export type IdempotencyLevel = 'IDEMPOTENCY_UNKNOWN' | 'NO_SIDE_EFFECTS' | 'IDEMPOTENT';

/** One method of a generic service definition. */
export interface MethodDefinition {
  readonly name: string;
  readonly requestType: MessageType;
  readonly responseType: MessageType;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly options: { readonly idempotencyLevel?: IdempotencyLevel | undefined; readonly [key: string]: unknown };
}

/** A generic service definition (`FooServiceDefinition` in `gen/`). */
export interface ServiceDefinition {
  readonly name: string;
  readonly fullName: string;
  readonly methods: { readonly [key: string]: MethodDefinition };
}

/** What the runtime knows of a method, computed once per service. */
export interface MethodInfo {
  /** `package.Service`: the routing key and the service queue's suffix. */
  readonly service: string;
  /** The proto method name, e.g. `CreateOrder`. */
  readonly name: string;
  /** The wire name `package.Service/Method`, in the AMQP `type` property. */
  readonly path: string;
  /** The key in the definition's `methods` (camelCase, e.g. `createOrder`). */
  readonly localName: string;
  readonly idempotency: IdempotencyLevel;
  readonly requestType: MessageType;
  readonly responseType: MessageType;
}

/** Request message type of a method definition. */
export type RequestOf<M extends MethodDefinition> = ReturnType<M['requestType']['decode']>;
/** Response message type of a method definition. */
export type ResponseOf<M extends MethodDefinition> = ReturnType<M['responseType']['decode']>;
/** What a caller may pass: ts-proto's deep-partial request. */
export type RequestInit<M extends MethodDefinition> = Parameters<M['requestType']['fromPartial']>[0];
/** What a handler may return: ts-proto's deep-partial response. */
export type ResponseInit<M extends MethodDefinition> = Parameters<M['responseType']['fromPartial']>[0];

/** True when a method may safely run more than once (retries, redeliveries). */
export function isIdempotent(level: IdempotencyLevel): boolean {
  return level === 'IDEMPOTENT' || level === 'NO_SIDE_EFFECTS';
}

/**
 * Lists a definition's methods as {@link MethodInfo}. Streaming methods are
 * refused: Warren is unary request-reply.
 */
export function describeService(definition: ServiceDefinition): MethodInfo[] {
  return Object.entries(definition.methods).map(([localName, method]) => {
    if (method.requestStream || method.responseStream) {
      throw new TypeError(`${definition.fullName}/${method.name}: streaming methods are not supported by Warren`);
    }
    return {
      service: definition.fullName,
      name: method.name,
      path: `${definition.fullName}/${method.name}`,
      localName,
      idempotency: method.options.idempotencyLevel ?? 'IDEMPOTENCY_UNKNOWN',
      requestType: method.requestType,
      responseType: method.responseType,
    };
  });
}
