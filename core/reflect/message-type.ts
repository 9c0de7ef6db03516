import protobuf from 'protobufjs';
import protojson from 'protobufjs/ext/protojson.js';
import { Code } from '../protocol/code.js';
import type { MessageType } from '../protocol/definition.js';
import { RpcError } from '../protocol/rpc-error.js';

/**
 * A message codec built at run time from a reflected protobufjs type: the
 * same {@link MessageType} surface as ts-proto's generated codecs, so
 * dynamic callers (gateway, CLI) and the runtime share one contract.
 *
 * - `fromJSON` / `toJSON` speak the proto3 canonical JSON mapping (int64 as
 *   strings, numbers accepted; enums by name; bytes base64; Timestamp,
 *   Duration, FieldMask, wrappers, Struct and Any in their JSON forms), via
 *   protobufjs' ProtoJSON extension. Input is strict: a wrong type, an
 *   unknown field or enum name, bad base64 or a non-object throws an
 *   INVALID_ARGUMENT `RpcError` naming the field. Nothing becomes NaN.
 * - Messages in memory are protobufjs message objects keyed by the proto
 *   field names (`weight_grams`), 64-bit integers as `Long`.
 */
export interface DynamicMessageType extends MessageType<protobuf.Message> {
  /** Full name without a leading dot, e.g. `warren.test.v1.Thing`. */
  readonly fullName: string;
  /** The reflected type, for walking fields (routes, schemas, forms). */
  readonly type: protobuf.Type;
}

/** Wraps a resolved protobufjs type as a {@link DynamicMessageType}. */
export function createDynamicMessageType(type: protobuf.Type): DynamicMessageType {
  const fullName = type.fullName.replace(/^\./, '');
  const needsBase64Check = reachesBytes(type, new Set());
  return {
    fullName,
    type,
    encode: (message) => type.encode(message),
    decode: (input) => type.decode(input),
    fromJSON(object: unknown) {
      try {
        if (needsBase64Check) checkBase64(type, object);
        return protojson.fromJson(type, object);
      } catch (error) {
        throw invalidJson(fullName, error);
      }
    },
    toJSON: (message) => protojson.toJson(type, message),
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
  if (error instanceof RpcError) return error;
  const text = error instanceof Error ? error.message : String(error);
  // protojson names the field first: ".pkg.Message.field: what: value".
  const named = /^\.?([A-Za-z_][\w.]*): (.*)$/s.exec(text);
  const message = named ? `invalid JSON for ${fullName}: field ${named[1]}: ${named[2]}` : `invalid JSON for ${fullName}: ${text}`;
  return new RpcError(Code.INVALID_ARGUMENT, message, { cause: error });
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** True when a bytes field can be reached from `type` (so base64 needs checking). */
function reachesBytes(type: protobuf.Type, seen: Set<protobuf.Type>): boolean {
  if (seen.has(type)) return false;
  seen.add(type);
  for (const field of type.fieldsArray) {
    field.resolve();
    if (field.type === 'bytes') return true;
    if (field.resolvedType instanceof protobuf.Type && reachesBytes(field.resolvedType, seen)) return true;
  }
  return false;
}

/**
 * protobufjs decodes base64 leniently (bad characters raise an error without
 * the field's name, and some malformed lengths decode silently), so bytes
 * fields are checked first, naming the field.
 */
function checkBase64(type: protobuf.Type, json: unknown): void {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return;
  if (type.fullName === '.google.protobuf.BytesValue') return;
  for (const key of Object.keys(json)) {
    const field = Object.hasOwn(type.fields, key) ? type.fields[key] : type.fieldsArray.find((f) => f.jsonName === key);
    if (!field) continue;
    const value = (json as Record<string, unknown>)[key];
    if (value === null || value === undefined) continue;
    const items = field.map ? Object.values(value as object) : field.repeated && Array.isArray(value) ? value : [value];
    for (const item of items) {
      if (field.type === 'bytes') checkBase64String(field, item);
      else if (field.resolvedType instanceof protobuf.Type) {
        if (field.resolvedType.fullName === '.google.protobuf.BytesValue') checkBase64String(field, item);
        else checkBase64(field.resolvedType, item);
      }
    }
  }
}

function checkBase64String(field: protobuf.Field, value: unknown): void {
  if (typeof value !== 'string') return; // protojson reports the wrong type
  const unpadded = value.replace(/=+$/, '');
  if (!BASE64.test(value) || unpadded.length % 4 === 1) {
    throw new Error(`${field.fullName}: invalid base64: ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`);
  }
}
