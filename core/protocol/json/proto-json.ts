import {
  fromBinary,
  fromJson,
  toBinary,
  toJson,
  type DescMessage,
  type JsonValue,
  type Registry,
} from '@bufbuild/protobuf';
import { Code } from '../code.js';
import { RpcError } from '../rpc-error.js';
import { diagnoseMessage, JsonFieldError, normalizeMessage } from './normalize-json.js';

/**
 * One message type's proto3 JSON codec: the canonical mapping of the
 * protobuf spec, driven by the message's descriptor, for messages held in
 * any in-memory form (ts-proto objects, protobufjs messages) that has a
 * binary codec.
 *
 * Reading: number checks by descriptor (normalize-json.ts), then
 * @bufbuild/protobuf's spec implementation (field names, enums, bytes, maps,
 * well-known types), then the binary codec turns the result into the
 * caller's form. Writing is the reverse: int64 as decimal strings, enums by
 * name, fields at their default left out, Timestamp/Duration/… in their
 * string forms. The binary hop costs a little on the JSON path only; the
 * protobuf path never touches this.
 */
export interface ProtoJsonCodec<T> {
  /** The message's full proto name. */
  readonly typeName: string;
  /** Reads a JSON tree (numbers may be `LosslessNumber`s); throws INVALID_ARGUMENT naming the field. */
  read(json: unknown): T;
  /** Writes the message as a canonical proto3 JSON tree. */
  write(message: T): JsonValue;
}

/** The binary codec of the in-memory form. */
export interface BinaryCodec<T> {
  encode(message: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

/**
 * Builds the codec of `desc`; `registry` resolves `Any` type URLs (and must hold `desc`'s imports).
 * `unknownFields`: `ignore` (default: the RPC wire, so an older server serves a newer caller) or
 * `reject` (the spec's default for parsers: the gateway and CLI, where a typo should not pass unseen).
 */
export function createProtoJsonCodec<T>(
  desc: DescMessage,
  registry: Registry,
  binary: BinaryCodec<T>,
  unknownFields: 'ignore' | 'reject' = 'ignore',
): ProtoJsonCodec<T> {
  // unknown fields never get here (normalize-json.ts drops them), so an unknown enum name is refused, not ignored
  const options = { registry, ignoreUnknownFields: false } as const;
  return {
    typeName: desc.typeName,
    read(json) {
      if (json === null || typeof json !== 'object' || Array.isArray(json)) {
        throw new RpcError(
          Code.INVALID_ARGUMENT,
          `must be a JSON object, got ${json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json}`,
        );
      }
      let message;
      try {
        message = fromJson(desc, normalizeMessage(desc, json, registry, '', unknownFields === 'reject'), options);
      } catch (error) {
        if (!(error instanceof JsonFieldError)) {
          try {
            diagnoseMessage(desc, json, registry, unknownFields === 'reject'); // names the field of a bad Timestamp…
          } catch (named) {
            throw invalidJson(named);
          }
        }
        throw invalidJson(error);
      }
      return binary.decode(toBinary(desc, message));
    },
    write(message) {
      return toJson(desc, fromBinary(desc, binary.encode(message)), { registry });
    },
  };
}

/** @bufbuild/protobuf says "cannot decode field pkg.Msg.field from JSON: why": kept, as it names the field. */
function invalidJson(error: unknown): RpcError {
  if (error instanceof JsonFieldError) return new RpcError(Code.INVALID_ARGUMENT, error.message, { cause: error });
  const text = error instanceof Error ? error.message : String(error);
  const named = /^cannot decode (?:field )?([\w.]+) from JSON: (.*)$/s.exec(text);
  return new RpcError(Code.INVALID_ARGUMENT, named ? `${named[1]}: ${named[2]}` : text, { cause: error });
}
