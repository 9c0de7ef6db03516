import { Code } from './code.js';
import type { MessageType } from './definition.js';
import { jsonCodecOf } from './json/json-codec-of.js';
import { parseJsonText } from './json/parse-json.js';
import { RpcError } from './rpc-error.js';

/** Body encodings every method accepts and answers in. */
export type ContentType = 'application/x-protobuf' | 'application/json';

/** Protobuf binary: the default, smallest and fastest. */
export const PROTOBUF: ContentType = 'application/x-protobuf';
/** proto3 JSON mapping: for peers without protobuf code. */
export const JSON_TYPE: ContentType = 'application/json';

/**
 * Normalises an AMQP `content_type` (parameters such as `; charset=utf-8` and
 * letter case ignored). An absent content type means protobuf; an unknown
 * one is `undefined`.
 */
export function parseContentType(value: string | undefined): ContentType | undefined {
  if (value === undefined || value === '') return PROTOBUF;
  const base = value.split(';', 1)[0]!.trim().toLowerCase();
  if (base === PROTOBUF || base === 'application/protobuf' || base === 'application/vnd.google.protobuf')
    return PROTOBUF;
  if (base === JSON_TYPE) return JSON_TYPE;
  return undefined;
}

/** Encodes a message in the given content type (JSON: canonical proto3 JSON, int64 as strings). */
export function encodeMessage(type: MessageType, message: unknown, contentType: ContentType): Uint8Array {
  if (contentType === PROTOBUF) return type.encode(message).finish();
  return Buffer.from(JSON.stringify(jsonCodecOf(type).write(message)));
}

/**
 * Decodes a body. Malformed protobuf, invalid UTF-8 or JSON, JSON that is not
 * an object, and any value the proto3 JSON mapping does not allow for its
 * field (core/protocol/json) throw INVALID_ARGUMENT saying what was wrong and where.
 */
export function decodeMessage<T>(type: MessageType<T>, body: Uint8Array, contentType: ContentType, what: string): T {
  if (contentType === PROTOBUF) {
    try {
      return type.decode(body);
    } catch (error) {
      throw new RpcError(Code.INVALID_ARGUMENT, `${what} is not a valid protobuf message: ${errorText(error)}`, {
        cause: error,
      });
    }
  }
  const codec = jsonCodecOf(type);
  const json = parseJsonText(body, what);
  try {
    return codec.read(json);
  } catch (error) {
    if (error instanceof RpcError && error.code === Code.INVALID_ARGUMENT) {
      throw new RpcError(Code.INVALID_ARGUMENT, `${what} does not match ${codec.typeName}: ${error.rawMessage}`, {
        cause: error,
      });
    }
    throw error;
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
