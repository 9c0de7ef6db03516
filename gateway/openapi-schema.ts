import protobuf from 'protobufjs';

/** An OpenAPI 3.0 schema object (the subset this generator writes). */
export type Schema = Record<string, unknown>;

/** Where component schemas live in the document. */
export const SCHEMA_REF = '#/components/schemas/';

/**
 * Turns protobuf types into OpenAPI 3.0 schemas of their proto3 JSON form:
 * messages and enums become named components (`warren.test.v1.Thing`),
 * 64-bit integers are strings (`format: int64`), bytes are base64 strings,
 * well-known types take their JSON shapes (Timestamp `date-time`, Duration
 * `"1.5s"`, wrappers nullable scalars, Struct any object, Value anything).
 * Properties use the JSON names; the gateway also accepts proto names.
 */
export interface SchemaBuilder {
  /** The schema of a message (a `$ref`, or an inline one for well-known types). */
  messageSchema(type: protobuf.Type): Schema;
  /** The schema of one field's value. */
  fieldSchema(field: protobuf.Field): Schema;
  /** Every component schema referenced so far. */
  components(): Record<string, Schema>;
}

const SCALARS: Record<string, Schema> = {
  double: { type: 'number', format: 'double' },
  float: { type: 'number', format: 'float' },
  int32: { type: 'integer', format: 'int32' },
  sint32: { type: 'integer', format: 'int32' },
  sfixed32: { type: 'integer', format: 'int32' },
  uint32: { type: 'integer', format: 'int64', minimum: 0, maximum: 4294967295 },
  fixed32: { type: 'integer', format: 'int64', minimum: 0, maximum: 4294967295 },
  int64: {
    type: 'string',
    format: 'int64',
    pattern: '^-?[0-9]+$',
    description: '64-bit integer as a decimal string (numbers accepted)',
  },
  sint64: { type: 'string', format: 'int64', pattern: '^-?[0-9]+$' },
  sfixed64: { type: 'string', format: 'int64', pattern: '^-?[0-9]+$' },
  uint64: { type: 'string', format: 'uint64', pattern: '^[0-9]+$' },
  fixed64: { type: 'string', format: 'uint64', pattern: '^[0-9]+$' },
  bool: { type: 'boolean' },
  string: { type: 'string' },
  bytes: { type: 'string', format: 'byte' },
};

const WELL_KNOWN: Record<string, Schema> = {
  '.google.protobuf.Timestamp': {
    type: 'string',
    format: 'date-time',
    description: 'RFC 3339 timestamp, e.g. 2024-01-02T03:04:05.678Z',
  },
  '.google.protobuf.Duration': {
    type: 'string',
    pattern: '^-?[0-9]+(\\.[0-9]{1,9})?s$',
    description: 'Duration in seconds with an "s" suffix, e.g. "1.5s"',
  },
  '.google.protobuf.FieldMask': { type: 'string', description: 'Comma-separated lowerCamel field paths' },
  '.google.protobuf.Struct': { type: 'object', additionalProperties: true },
  '.google.protobuf.Value': { description: 'Any JSON value' },
  '.google.protobuf.ListValue': { type: 'array', items: {} },
  '.google.protobuf.Empty': { type: 'object' },
  '.google.protobuf.Any': {
    type: 'object',
    required: ['@type'],
    properties: { '@type': { type: 'string' } },
    additionalProperties: true,
  },
  '.google.protobuf.DoubleValue': { ...SCALARS['double'], nullable: true },
  '.google.protobuf.FloatValue': { ...SCALARS['float'], nullable: true },
  '.google.protobuf.Int64Value': { ...SCALARS['int64'], nullable: true },
  '.google.protobuf.UInt64Value': { ...SCALARS['uint64'], nullable: true },
  '.google.protobuf.Int32Value': { ...SCALARS['int32'], nullable: true },
  '.google.protobuf.UInt32Value': { ...SCALARS['uint32'], nullable: true },
  '.google.protobuf.BoolValue': { ...SCALARS['bool'], nullable: true },
  '.google.protobuf.StringValue': { ...SCALARS['string'], nullable: true },
  '.google.protobuf.BytesValue': { ...SCALARS['bytes'], nullable: true },
};

/** Creates a builder that collects component schemas as it is asked for them. */
export function createSchemaBuilder(): SchemaBuilder {
  const components = new Map<string, Schema>();

  const described = (schema: Schema, comment: string | null | undefined): Schema =>
    comment ? { ...schema, description: comment } : schema;

  const enumRef = (type: protobuf.Enum): Schema => {
    const name = type.fullName.slice(1);
    if (!components.has(name)) {
      components.set(name, described({ type: 'string', enum: Object.keys(type.values) }, type.comment));
    }
    return { $ref: SCHEMA_REF + name };
  };

  const messageSchema = (type: protobuf.Type): Schema => {
    const wellKnown = WELL_KNOWN[type.fullName];
    if (wellKnown) return { ...wellKnown };
    const name = type.fullName.slice(1);
    if (!components.has(name)) {
      const properties: Record<string, Schema> = {};
      const schema: Schema = described({ type: 'object', properties }, type.comment);
      components.set(name, schema);
      for (const field of type.fieldsArray) properties[field.resolve().jsonName] = fieldSchema(field);
    }
    return { $ref: SCHEMA_REF + name };
  };

  const valueSchema = (field: protobuf.Field): Schema => {
    const type = field.resolvedType;
    if (type instanceof protobuf.Type) return messageSchema(type);
    if (type instanceof protobuf.Enum) return enumRef(type);
    return { ...(SCALARS[field.type] ?? {}) };
  };

  function fieldSchema(field: protobuf.Field): Schema {
    field.resolve();
    let schema: Schema;
    if (field.map) schema = { type: 'object', additionalProperties: valueSchema(field) };
    else if (field.repeated) schema = { type: 'array', items: valueSchema(field) };
    else schema = valueSchema(field);
    // A $ref cannot carry siblings in OpenAPI 3.0: wrap it to keep the comment.
    if (field.comment)
      return '$ref' in schema
        ? { allOf: [schema], description: field.comment }
        : { ...schema, description: field.comment };
    return schema;
  }

  return {
    messageSchema,
    fieldSchema,
    components: () => Object.fromEntries([...components].sort(([a], [b]) => a.localeCompare(b))),
  };
}
