import {
  fromJson,
  ScalarType,
  type DescEnum,
  type DescField,
  type DescMessage,
  type JsonValue,
  type Registry,
} from '@bufbuild/protobuf';
import { isLosslessNumber } from 'lossless-json';
import { INTEGER_RANGES, integerOfText, isJsonNumberText } from './number-text.js';

/**
 * The number checks of the proto3 JSON mapping, walked by descriptor over a
 * JSON tree whose numbers are still text (`LosslessNumber`, see
 * parse-json.ts), before @bufbuild/protobuf reads the tree.
 *
 * Why: @bufbuild/protobuf implements the mapping by descriptor (enums,
 * wrappers, Any, Timestamp, Duration, FieldMask, Struct, bytes, maps) but it
 * reads integers leniently (`"0x2"`, `" 2"`, `"+2"`, `"02"` become 2) and it
 * gets numbers after `JSON.parse` has rounded them. This walk gives every
 * integer field the exact value of its text, range-checked, in a canonical
 * spelling (a decimal string for 64-bit, a number for 32-bit), and every
 * float a finite number or `"NaN"`/`"Infinity"`/`"-Infinity"`; anything else
 * throws a {@link JsonFieldError} naming the field. Other values pass through
 * for @bufbuild/protobuf to check. Unknown fields are dropped: they are
 * ignored, as in the binary encoding.
 */
export class JsonFieldError extends Error {
  /** @param field - the path of the value as sent, e.g. `items[0].unitPriceCents` */
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'JsonFieldError';
  }
}

/** Checks and canonicalises `json` as a message of type `desc` (see {@link JsonFieldError}). */
export function normalizeMessage(
  desc: DescMessage,
  json: unknown,
  registry: Registry,
  path = '',
  rejectUnknown = false,
): JsonValue {
  switch (desc.typeName) {
    case 'google.protobuf.Any':
      return normalizeAny(json, registry, path);
    case 'google.protobuf.Value':
      return normalizeValue(json, path);
    case 'google.protobuf.Struct':
      return isObject(json) ? mapValues(json, (value, key) => normalizeValue(value, join(path, key))) : plain(json);
    case 'google.protobuf.ListValue':
      return Array.isArray(json) ? json.map((value, i) => normalizeValue(value, `${path}[${i}]`)) : plain(json);
    default:
      break;
  }
  if (WRAPPERS.has(desc.typeName) && json !== null)
    return checkedLeaf(desc, normalizeScalar(desc.fields[0]!.scalar!, json, path || 'the body'), registry, path);
  if (LEAVES.has(desc.typeName) && json !== null) return checkedLeaf(desc, plain(json), registry, path);
  if (!isObject(json)) return plain(json);
  const out: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(json)) {
    const field = fieldByKey(desc, key);
    if (!field) {
      if (rejectUnknown) throw new JsonFieldError(join(path, key), `unknown field of ${desc.typeName}`);
      continue; // unknown: ignored
    }
    setOwn(out, key, normalizeField(field, value, registry, join(path, key), rejectUnknown));
  }
  return out;
}

// `rejectUnknown` holds at every depth: a typo in a nested message is as much a typo as one at the top
function normalizeField(
  field: DescField,
  value: unknown,
  registry: Registry,
  path: string,
  rejectUnknown: boolean,
): JsonValue {
  if (value === null) return null;
  switch (field.fieldKind) {
    case 'scalar':
      return normalizeScalar(field.scalar, value, path);
    case 'enum':
      return normalizeEnum(field.enum, value, path);
    case 'message':
      return normalizeMessage(field.message, value, registry, path, rejectUnknown);
    case 'list':
      if (!Array.isArray(value)) return plain(value);
      return value.map((item, i) => {
        const at = `${path}[${i}]`;
        if (field.listKind === 'scalar') return normalizeScalar(field.scalar, item, at);
        if (field.listKind === 'enum') return normalizeEnum(field.enum, item, at);
        return normalizeMessage(field.message, item, registry, at, rejectUnknown);
      });
    case 'map': {
      if (!isObject(value)) return plain(value);
      const out: Record<string, JsonValue> = {};
      for (const [key, item] of Object.entries(value)) {
        const at = `${path}[${JSON.stringify(key)}]`;
        const canonicalKey = normalizeMapKey(field.mapKey, key, at);
        setOwn(
          out,
          canonicalKey,
          field.mapKind === 'scalar'
            ? normalizeScalar(field.scalar, item, at)
            : field.mapKind === 'enum'
              ? normalizeEnum(field.enum, item, at)
              : normalizeMessage(field.message, item, registry, at, rejectUnknown),
        );
      }
      return out;
    }
  }
}

/** Integer and float scalars get their exact, canonical value; the rest pass through. */
function normalizeScalar(type: ScalarType, value: unknown, path: string): JsonValue {
  const name = SCALAR_NAMES[type];
  const range = INTEGER_RANGES[name];
  if (range) {
    const text = isLosslessNumber(value) ? value.value : typeof value === 'string' ? value : undefined;
    if (text !== undefined && SHORT_INTEGER.test(text)) {
      // fast path: at most 15 digits, exact as a double
      const number = Number(text) || 0;
      if (number < range[2] || number > range[3])
        throw new JsonFieldError(path, `${shown(value)} is out of range for ${name}`);
      return name.endsWith('64') ? String(number) : number;
    }
    const integer = integerOf(value, path, name);
    if (integer === undefined) return plain(value);
    if (integer < range[0] || integer > range[1])
      throw new JsonFieldError(path, `${shown(value)} is out of range for ${name}`);
    return name.endsWith('64') ? integer.toString() : Number(integer);
  }
  if (type === ScalarType.DOUBLE || type === ScalarType.FLOAT)
    return normalizeFloat(value, path, type === ScalarType.FLOAT);
  return plain(value);
}

function integerOf(value: unknown, path: string, name: string): bigint | undefined {
  let text: string;
  if (isLosslessNumber(value)) text = value.value;
  else if (typeof value === 'string') text = value;
  else if (typeof value === 'number') {
    // a number handed over by code (not parsed from text): only a safe integer is known to be what was meant
    if (!Number.isSafeInteger(value))
      throw new JsonFieldError(
        path,
        `${shown(value)} is not a valid ${name} (${Number.isInteger(value) ? 'beyond 2^53 as a JavaScript number: pass it as a decimal string' : 'not an integer'})`,
      );
    return BigInt(value);
  } else return undefined; // a wrong type: @bufbuild/protobuf names it
  const integer = integerOfText(text);
  if (typeof integer === 'string')
    throw new JsonFieldError(path, `${shown(value)} is not a valid ${name} (${integer})`);
  return integer;
}

const SHORT_INTEGER = /^-?(?:0|[1-9]\d{0,14})$/;
const FLOAT_MAX = 3.4028234663852886e38;
const SPECIAL_FLOATS = new Set(['NaN', 'Infinity', '-Infinity']);

function normalizeFloat(value: unknown, path: string, single: boolean): JsonValue {
  let number: number;
  if (isLosslessNumber(value)) number = Number(value.value);
  else if (typeof value === 'number') number = value;
  else if (typeof value === 'string') {
    if (SPECIAL_FLOATS.has(value)) return value;
    if (!isJsonNumberText(value))
      throw new JsonFieldError(
        path,
        `${shown(value)} is not a valid ${single ? 'float' : 'double'} (not a decimal number, "NaN", "Infinity" or "-Infinity")`,
      );
    number = Number(value);
  } else return plain(value);
  if (!Number.isFinite(number) || (single && Math.abs(number) > FLOAT_MAX)) {
    throw new JsonFieldError(path, `${shown(value)} is out of range for ${single ? 'float' : 'double'}`);
  }
  return number;
}

/** Enums: a known name or any int32 number (proto3 enums are open). */
function normalizeEnum(desc: DescEnum, value: unknown, path: string): JsonValue {
  if (typeof value === 'string') {
    if (!desc.values.some((known) => known.name === value))
      throw new JsonFieldError(path, `${shown(value)} is not a value of ${desc.typeName}`);
    return value;
  }
  if (!isLosslessNumber(value) && typeof value !== 'number') return plain(value);
  const integer = integerOf(value, path, 'enum number');
  if (integer === undefined || integer < INTEGER_RANGES['int32']![0] || integer > INTEGER_RANGES['int32']![1]) {
    throw new JsonFieldError(path, `${shown(value)} is out of range for an enum number`);
  }
  return Number(integer);
}

function normalizeMapKey(type: ScalarType, key: string, path: string): string {
  const name = SCALAR_NAMES[type];
  const range = INTEGER_RANGES[name];
  if (!range) return key; // string keys as they are; bool keys are checked by @bufbuild/protobuf
  const integer = integerOfText(key);
  if (typeof integer === 'string' || /[.eE]/.test(key))
    throw new JsonFieldError(path, `map key ${JSON.stringify(key)} is not a valid ${name} (a decimal integer)`);
  if (integer < range[0] || integer > range[1])
    throw new JsonFieldError(path, `map key ${JSON.stringify(key)} is out of range for ${name}`);
  return integer.toString();
}

/** google.protobuf.Value: JSON numbers are doubles (finite), everything else as it is. */
function normalizeValue(value: unknown, path: string): JsonValue {
  if (isLosslessNumber(value) || typeof value === 'number') {
    const number = Number(isLosslessNumber(value) ? value.value : value);
    if (!Number.isFinite(number))
      throw new JsonFieldError(path, `${shown(value)} is out of range for a google.protobuf.Value number (a double)`);
    return number;
  }
  if (Array.isArray(value)) return value.map((item, i) => normalizeValue(item, `${path}[${i}]`));
  if (isObject(value)) return mapValues(value, (item, key) => normalizeValue(item, join(path, key)));
  return plain(value);
}

/** Any: `@type` names the packed message; types with their own JSON form carry it in `value`. */
function normalizeAny(json: unknown, registry: Registry, path: string): JsonValue {
  if (!isObject(json) || typeof json['@type'] !== 'string') return plain(json);
  const typeName = json['@type'].slice(json['@type'].lastIndexOf('/') + 1);
  const desc = registry.getMessage(typeName);
  if (!desc) return plain(json); // @bufbuild/protobuf refuses an unknown type, naming it
  if (SPECIAL_JSON.has(desc.typeName) || WRAPPERS.has(desc.typeName)) {
    return { ...plainObject(json), value: normalizeMessage(desc, json['value'], registry, join(path, 'value')) };
  }
  const { '@type': type, ...rest } = json;
  return { '@type': type, ...(normalizeMessage(desc, rest, registry, path) as Record<string, JsonValue>) };
}

let checkingLeaves = false;

/**
 * Runs {@link normalizeMessage} again checking Timestamp, Duration, FieldMask and wrappers too: called after
 * @bufbuild/protobuf refused a tree, to report the field's path (the first pass skips these checks: they cost).
 */
export function diagnoseMessage(desc: DescMessage, json: unknown, registry: Registry, rejectUnknown: boolean): void {
  checkingLeaves = true;
  try {
    normalizeMessage(desc, json, registry, '', rejectUnknown);
  } finally {
    checkingLeaves = false;
  }
}

/**
 * Timestamp, Duration, FieldMask and wrappers are read here once too (when diagnosing), so that a bad one (`"yesterday"`) is reported
 * with the field's path; @bufbuild/protobuf would only name the type.
 */
function checkedLeaf(desc: DescMessage, json: JsonValue, registry: Registry, path: string): JsonValue {
  if (!checkingLeaves) return json;
  try {
    fromJson(desc, json, { registry });
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    throw new JsonFieldError(
      path || 'the body',
      `${shown(json)} is not a valid ${desc.typeName} (${text.replace(/^cannot decode [^:]*: /, '')})`,
    );
  }
  return json;
}

const LEAVES = new Set(['Timestamp', 'Duration', 'FieldMask', 'Empty'].map((name) => `google.protobuf.${name}`));
const WRAPPERS = new Set(
  [
    'DoubleValue',
    'FloatValue',
    'Int64Value',
    'UInt64Value',
    'Int32Value',
    'UInt32Value',
    'BoolValue',
    'StringValue',
    'BytesValue',
  ].map((name) => `google.protobuf.${name}`),
);
const SPECIAL_JSON = new Set(
  ['Any', 'Timestamp', 'Duration', 'FieldMask', 'Struct', 'Value', 'ListValue', 'Empty'].map(
    (name) => `google.protobuf.${name}`,
  ),
);

const SCALAR_NAMES: Record<ScalarType, string> = {
  [ScalarType.DOUBLE]: 'double',
  [ScalarType.FLOAT]: 'float',
  [ScalarType.INT64]: 'int64',
  [ScalarType.UINT64]: 'uint64',
  [ScalarType.INT32]: 'int32',
  [ScalarType.FIXED64]: 'fixed64',
  [ScalarType.FIXED32]: 'fixed32',
  [ScalarType.BOOL]: 'bool',
  [ScalarType.STRING]: 'string',
  [ScalarType.BYTES]: 'bytes',
  [ScalarType.UINT32]: 'uint32',
  [ScalarType.SFIXED32]: 'sfixed32',
  [ScalarType.SFIXED64]: 'sfixed64',
  [ScalarType.SINT32]: 'sint32',
  [ScalarType.SINT64]: 'sint64',
};

const fieldMaps = new WeakMap<DescMessage, Map<string, DescField>>();

/** A field by its JSON name or its proto name, as the mapping accepts both. */
function fieldByKey(desc: DescMessage, key: string): DescField | undefined {
  let map = fieldMaps.get(desc);
  if (!map) {
    map = new Map();
    for (const field of desc.fields) {
      map.set(field.name, field);
      map.set(field.jsonName, field);
    }
    fieldMaps.set(desc, map);
  }
  return map.get(key);
}

/** A value left for @bufbuild/protobuf to judge, with any number text turned into a number it will refuse or read. */
function plain(value: unknown): JsonValue {
  if (isLosslessNumber(value)) return Number(value.value);
  if (Array.isArray(value)) return value.map(plain);
  if (isObject(value)) return mapValues(value, plain);
  return value as JsonValue;
}

function plainObject(value: Record<string, unknown>): Record<string, JsonValue> {
  return mapValues(value, plain) as Record<string, JsonValue>;
}

function mapValues(value: Record<string, unknown>, map: (item: unknown, key: string) => JsonValue): JsonValue {
  const out: Record<string, JsonValue> = {};
  for (const [key, item] of Object.entries(value)) setOwn(out, key, map(item, key));
  return out;
}

/** Sets an own property, even `__proto__` (a plain assignment would change the prototype instead). */
function setOwn(target: Record<string, JsonValue>, key: string, value: JsonValue): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !isLosslessNumber(value);
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function shown(value: unknown): string {
  const text = isLosslessNumber(value) ? value.value : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
