import protobuf from 'protobufjs';

/**
 * Field lookups for path and query parameters: names may be proto names
 * (`page_size`) or JSON names (`pageSize`), nested with dots
 * (`filter.kind`), as grpc-gateway accepts them.
 */

/** Well-known message types that travel as one string (or number) in JSON. */
const SCALAR_MESSAGES: ReadonlySet<string> = new Set([
  '.google.protobuf.Timestamp',
  '.google.protobuf.Duration',
  '.google.protobuf.FieldMask',
  '.google.protobuf.DoubleValue',
  '.google.protobuf.FloatValue',
  '.google.protobuf.Int64Value',
  '.google.protobuf.UInt64Value',
  '.google.protobuf.Int32Value',
  '.google.protobuf.UInt32Value',
  '.google.protobuf.BoolValue',
  '.google.protobuf.StringValue',
  '.google.protobuf.BytesValue',
]);

/** A field by proto name or JSON name; never an inherited property. */
export function findField(type: protobuf.Type, name: string): protobuf.Field | undefined {
  if (Object.hasOwn(type.fields, name)) return type.fields[name]!.resolve();
  return type.fieldsArray.find((field) => field.jsonName === name)?.resolve();
}

/** True for fields a single string can set: scalars, enums and scalar-like well-known types. */
export function isScalarLike(field: protobuf.Field): boolean {
  if (field.map) return false;
  const type = field.resolvedType;
  return !(type instanceof protobuf.Type) || SCALAR_MESSAGES.has(type.fullName);
}

/** True for a message field that holds more fields (not a scalar-like well-known type). */
export function isPlainMessage(field: protobuf.Field): boolean {
  return !field.map && field.resolvedType instanceof protobuf.Type && !SCALAR_MESSAGES.has(field.resolvedType.fullName);
}

/**
 * Resolves a dotted path to its chain of fields. Every step but the last
 * must be a singular plain message. Returns the chain or a problem text.
 */
export function resolveFieldPath(type: protobuf.Type, path: readonly string[]): protobuf.Field[] | string {
  const chain: protobuf.Field[] = [];
  let current = type;
  for (let i = 0; i < path.length; i++) {
    const field = findField(current, path[i]!);
    if (!field) return `${current.fullName.slice(1)} has no field ${JSON.stringify(path[i])}`;
    chain.push(field);
    if (i < path.length - 1) {
      if (!isPlainMessage(field) || field.repeated)
        return `${path.slice(0, i + 1).join('.')} is not a singular message, so it has no field ${JSON.stringify(path[i + 1])}`;
      current = field.resolvedType as protobuf.Type;
    }
  }
  return chain;
}

/**
 * The JSON value a path or query string stands for: booleans and
 * BoolValue become `true`/`false`, enum numbers become numbers, anything
 * else stays a string (the ProtoJSON reader then checks it strictly).
 * Returns `undefined` for a boolean that is neither `true` nor `false`.
 */
export function jsonFromString(field: protobuf.Field, text: string): unknown {
  const type = field.resolvedType;
  const isBool =
    field.type === 'bool' || (type instanceof protobuf.Type && type.fullName === '.google.protobuf.BoolValue');
  if (isBool) return text === 'true' ? true : text === 'false' ? false : undefined;
  if (type instanceof protobuf.Enum && /^-?\d+$/.test(text)) return Number(text);
  return text;
}

/** Sets an own enumerable property, whatever the key (no setter, no prototype write). */
export function setOwn(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

/** The key under which `field` is present in a JSON object (proto or JSON name), if any. */
export function presentKey(target: Record<string, unknown>, field: protobuf.Field): string | undefined {
  if (Object.hasOwn(target, field.name)) return field.name;
  if (Object.hasOwn(target, field.jsonName)) return field.jsonName;
  return undefined;
}
