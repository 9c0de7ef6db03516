import protobuf from 'protobufjs';
import { Code } from '../protocol/code.js';
import type { MessageType } from '../protocol/definition.js';
import type { Registry } from '@bufbuild/protobuf';
import type { WithProtoJson } from '../protocol/json/json-codec-of.js';
import { createProtoJsonCodec, type ProtoJsonCodec } from '../protocol/json/proto-json.js';
import { RpcError } from '../protocol/rpc-error.js';
import { registryOfRoot } from './root-descriptors.js';

/**
 * A message codec built at run time from a reflected protobufjs type: the
 * same {@link MessageType} surface as ts-proto's generated codecs, so
 * dynamic callers (gateway, CLI) and the runtime share one contract.
 *
 * - `fromJSON` / `toJSON` speak the proto3 canonical JSON mapping with the
 *   same spec implementation as generated types (core/protocol/json): int64 read
 *   exactly from numbers or decimal strings (give `fromJSON` a tree from
 *   `parseJsonText` so big numbers keep their digits) and written as
 *   strings; enums by name; bytes base64; Timestamp, Duration, FieldMask,
 *   wrappers, Struct and Any in their JSON forms. A wrong type, a value out
 *   of range, an unknown field or enum name or a non-object throws an
 *   INVALID_ARGUMENT `RpcError` naming the field (unknown fields are refused,
 *   the spec's default for parsers: a typo at the front door is reported).
 * - Messages in memory are protobufjs message objects keyed by the proto
 *   field names (`weight_grams`), 64-bit integers as `Long`.
 */
export interface DynamicMessageType extends MessageType<protobuf.Message>, WithProtoJson<protobuf.Message> {
  /** Full name without a leading dot, e.g. `warren.test.v1.Thing`. */
  readonly fullName: string;
  /** The reflected type, for walking fields (routes, schemas, forms). */
  readonly type: protobuf.Type;
}

const rootRegistries = new WeakMap<protobuf.Root, Registry>();

/**
 * Wraps a resolved protobufjs type as a {@link DynamicMessageType}. The
 * descriptors JSON needs are built once per root, on first use.
 */
export function createDynamicMessageType(type: protobuf.Type): DynamicMessageType {
  const fullName = type.fullName.replace(/^\./, '');
  let codec: ProtoJsonCodec<protobuf.Message> | undefined;
  const protoJson = (): ProtoJsonCodec<protobuf.Message> => {
    if (codec) return codec;
    const root = type.root;
    let registry = rootRegistries.get(root);
    if (!registry) {
      registry = registryOfRoot(root);
      rootRegistries.set(root, registry);
    }
    const desc = registry.getMessage(fullName);
    if (!desc) throw new RpcError(Code.INTERNAL, `no descriptor for ${fullName}`);
    codec = createProtoJsonCodec(
      desc,
      registry,
      { encode: (message) => type.encode(message).finish(), decode: (bytes) => type.decode(bytes) },
      'reject',
    );
    return codec;
  };
  return {
    fullName,
    type,
    get protoJson() {
      return protoJson();
    },
    encode: (message) => type.encode(message),
    decode: (input) => type.decode(input),
    fromJSON(object: unknown) {
      try {
        return protoJson().read(object);
      } catch (error) {
        throw invalidJson(fullName, error);
      }
    },
    toJSON: (message) => protoJson().write(message),
    fromPartial(object: unknown) {
      if (object instanceof type.ctor) return object as protobuf.Message;
      if (object === null || typeof object !== 'object' || Array.isArray(object)) {
        throw new RpcError(Code.INVALID_ARGUMENT, `${fullName}: expected an object, got ${describe(object)}`);
      }
      const problem = type.verify(object as Record<string, unknown>);
      if (problem !== null) throw new RpcError(Code.INVALID_ARGUMENT, `${fullName}: ${problem}`);
      return type.fromObject(object as Record<string, unknown>);
    },
  };
}

function invalidJson(fullName: string, error: unknown): RpcError {
  const text = error instanceof RpcError ? error.rawMessage : error instanceof Error ? error.message : String(error);
  const code = error instanceof RpcError ? error.code : Code.INVALID_ARGUMENT;
  return new RpcError(code, `invalid JSON for ${fullName}: ${text}`, { cause: error });
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}
