import { Code } from './code.js';
import type { MessageType } from './definition.js';
import { jsonMismatch } from './json-check.js';
import { RpcError } from './rpc-error.js';
import { checkJsonDepth } from './wire-bounds.js';

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
  if (base === PROTOBUF || base === 'application/protobuf' || base === 'application/vnd.google.protobuf') return PROTOBUF;
  if (base === JSON_TYPE) return JSON_TYPE;
  return undefined;
}

/** Encodes a message in the given content type. */
export function encodeMessage(type: MessageType, message: unknown, contentType: ContentType): Uint8Array {
  if (contentType === PROTOBUF) return type.encode(message).finish();
  return Buffer.from(JSON.stringify(type.toJSON(message)));
}

/**
 * Decodes a body. Malformed protobuf, invalid UTF-8 or JSON, and JSON that is
 * not an object all throw INVALID_ARGUMENT saying what was wrong.
 */
export function decodeMessage<T>(type: MessageType<T>, body: Uint8Array, contentType: ContentType, what: string): T {
  if (contentType === PROTOBUF) {
    try {
      return type.decode(body);
    } catch (error) {
      throw new RpcError(Code.INVALID_ARGUMENT, `${what} is not a valid protobuf message: ${errorText(error)}`, { cause: error });
    }
  }
  let json: unknown;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch (error) {
    throw new RpcError(Code.INVALID_ARGUMENT, `${what} is not valid UTF-8 JSON: ${errorText(error)}`, { cause: error });
  }
  // before any recursive step: a deeply nested body is refused by name, never a stack overflow
  checkJsonDepth(text, what);
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new RpcError(Code.INVALID_ARGUMENT, `${what} is not valid UTF-8 JSON: ${errorText(error)}`, { cause: error });
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new RpcError(Code.INVALID_ARGUMENT, `${what} must be a JSON object`);
  }
  let decoded: T;
  try {
    decoded = type.fromJSON(json);
  } catch (error) {
    throw new RpcError(Code.INVALID_ARGUMENT, `${what} does not match the message type: ${errorText(error)}`, { cause: error });
  }
  // the generated fromJSON coerces anything: refuse values that would not arrive as sent (core/json-check.ts)
  let problem: string | undefined;
  try {
    problem = jsonMismatch(json, type.toJSON(decoded), decoded);
  } catch (error) {
    // a value the codec took but cannot hold (an invalid date…): find the field it came from
    const culprit = Object.keys(json).find((key) => {
      try {
        type.toJSON(type.fromJSON({ [key]: (json as Record<string, unknown>)[key] }));
        return false;
      } catch {
        return true;
      }
    });
    problem = `${culprit ?? 'the body'}: ${JSON.stringify((json as Record<string, unknown>)[culprit ?? '']) ?? 'a value'} is not a valid value for this field (${errorText(error)})`;
  }
  if (problem) throw new RpcError(Code.INVALID_ARGUMENT, `${what} does not match the message type: ${problem}`);
  return decoded;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
