import { Code } from '../code.js';
import type { MessageType } from '../definition.js';
import { RpcError } from '../rpc-error.js';
import { descriptorRegistry } from './descriptor-registry.js';
import { createProtoJsonCodec, type ProtoJsonCodec } from './proto-json.js';

/** A message type that brings its own proto3 JSON codec (the dynamic types of the gateway and CLI). */
export interface WithProtoJson<T> {
  readonly protoJson: ProtoJsonCodec<T>;
}

const codecs = new WeakMap<object, ProtoJsonCodec<unknown>>();

/**
 * The proto3 JSON codec of a message type: its own when it has one, else
 * the registered descriptor of its `$type` (ts-proto's static annotation).
 * A type without either cannot speak JSON: UNIMPLEMENTED, saying how to
 * register it (the protobuf content type still works).
 */
export function jsonCodecOf<T>(type: MessageType<T>): ProtoJsonCodec<T> {
  const own = (type as Partial<WithProtoJson<T>>).protoJson;
  if (own) return own;
  let codec = codecs.get(type) as ProtoJsonCodec<T> | undefined;
  if (codec) return codec;
  const typeName = (type as { $type?: unknown }).$type;
  const registry = descriptorRegistry();
  const desc = typeof typeName === 'string' ? registry.getMessage(typeName) : undefined;
  if (!desc) {
    throw new RpcError(
      Code.UNIMPLEMENTED,
      `application/json is not available for ${typeof typeName === 'string' ? typeName : 'this message type'}: its descriptor is not registered (registerFileDescriptorSet with the generated descriptor-set.ts; ts-proto needs outputTypeAnnotations)`,
    );
  }
  codec = createProtoJsonCodec(desc, registry, {
    encode: (message: T) => type.encode(message).finish(),
    decode: (bytes) => type.decode(bytes),
  });
  codecs.set(type, codec as ProtoJsonCodec<unknown>);
  return codec;
}
