import { create, createFileRegistry, type FileRegistry } from '@bufbuild/protobuf';
import {
  DescriptorProtoSchema,
  EnumDescriptorProtoSchema,
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as FieldType,
  FieldDescriptorProtoSchema,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
  type DescriptorProto,
  type FieldDescriptorProto,
  type FileDescriptorProto,
} from '@bufbuild/protobuf/wkt';
import protobuf from 'protobufjs';

/**
 * The descriptors of a protobufjs root loaded at run time (gateway, CLI), as
 * a @bufbuild/protobuf registry, so dynamic types read and write proto3 JSON
 * with the same spec implementation as generated ones (core/protocol/json).
 *
 * Built from protobufjs' reflection (its own descriptor export loses full
 * type names and oneof membership): one file per package and syntax, each
 * listing the files whose types it uses as imports, in dependency order.
 */
export function registryOfRoot(root: protobuf.Root): FileRegistry {
  const files = new Map<string, { file: FileDescriptorProto; deps: Set<string> }>();
  const fileOf = (object: protobuf.ReflectionObject): string => `${packageOf(object)}|${syntaxOf(object)}`;
  const visit = (namespace: protobuf.NamespaceBase): void => {
    for (const nested of namespace.nestedArray) {
      if (nested instanceof protobuf.Type || nested instanceof protobuf.Enum) {
        const key = fileOf(nested);
        let entry = files.get(key);
        if (!entry) {
          const [pkg, syntax] = key.split('|') as [string, string];
          entry = {
            file: create(FileDescriptorProtoSchema, {
              name: `${pkg || '_'}.${syntax}.dynamic.proto`,
              package: pkg,
              syntax,
            }),
            deps: new Set(),
          };
          files.set(key, entry);
        }
        if (nested instanceof protobuf.Type)
          entry.file.messageType.push(messageOf(nested, (used) => entry.deps.add(fileOf(used))));
        else entry.file.enumType.push(enumOf(nested));
      } else if (nested instanceof protobuf.Namespace) visit(nested);
    }
  };
  visit(root);
  const ordered: FileDescriptorProto[] = [];
  const placed = new Set<string>();
  const place = (key: string, path: Set<string>): void => {
    if (placed.has(key) || path.has(key)) return; // a cycle between packages: left to the registry to report
    path.add(key);
    const entry = files.get(key)!;
    entry.deps.delete(key);
    entry.file.dependency = [...entry.deps].map((dep) => files.get(dep)!.file.name);
    for (const dep of entry.deps) place(dep, path);
    placed.add(key);
    ordered.push(entry.file);
  };
  for (const key of files.keys()) place(key, new Set());
  return createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
}

function messageOf(type: protobuf.Type, uses: (type: protobuf.ReflectionObject) => void): DescriptorProto {
  const proto3 = syntaxOf(type) === 'proto3';
  // real oneofs first, then the synthetic ones of proto3 `optional` (as protoc orders them)
  const oneofs = [...type.oneofsArray].sort((a, b) => Number(isSynthetic(a)) - Number(isSynthetic(b)));
  const message = create(DescriptorProtoSchema, {
    name: type.name,
    oneofDecl: oneofs.map((oneof) => ({ name: oneof.name })),
  });
  for (const field of type.fieldsArray) {
    if (field.name.startsWith('.')) continue; // an extension (custom options): not part of the message's JSON
    field.resolve();
    const descriptor = create(FieldDescriptorProtoSchema, {
      name: field.name,
      number: field.id,
      label: field.repeated || field.map ? Label.REPEATED : field.required ? Label.REQUIRED : Label.OPTIONAL,
    });
    const jsonName = (field.options as Record<string, unknown> | undefined)?.['json_name'];
    descriptor.jsonName = typeof jsonName === 'string' ? jsonName : jsonNameOf(field.name);
    if (field.map) {
      const entryName = `${field.name.replace(/(?:^|_)([a-z0-9])/g, (_, c: string) => c.toUpperCase())}Entry`;
      const key = create(FieldDescriptorProtoSchema, { name: 'key', number: 1, label: Label.OPTIONAL });
      setType(key, (field as unknown as protobuf.MapField).keyType, null, uses);
      const value = create(FieldDescriptorProtoSchema, { name: 'value', number: 2, label: Label.OPTIONAL });
      setType(value, field.type, field.resolvedType, uses);
      message.nestedType.push(
        create(DescriptorProtoSchema, { name: entryName, field: [key, value], options: { mapEntry: true } }),
      );
      descriptor.type = FieldType.MESSAGE;
      descriptor.typeName = `${type.fullName}.${entryName}`;
    } else setType(descriptor, field.type, field.resolvedType, uses);
    if (field.partOf) {
      descriptor.oneofIndex = oneofs.indexOf(field.partOf);
      if (isSynthetic(field.partOf)) descriptor.proto3Optional = true;
    }
    if (!proto3 && !field.packed && field.repeated)
      descriptor.options = { packed: false } as FieldDescriptorProto['options'];
    message.field.push(descriptor);
  }
  for (const nested of type.nestedArray) {
    if (nested instanceof protobuf.Type) message.nestedType.push(messageOf(nested, uses));
    else if (nested instanceof protobuf.Enum) message.enumType.push(enumOf(nested));
  }
  return message;
}

function setType(
  field: FieldDescriptorProto,
  type: string,
  resolved: protobuf.Type | protobuf.Enum | null,
  uses: (type: protobuf.ReflectionObject) => void,
): void {
  if (resolved) {
    field.type = resolved instanceof protobuf.Enum ? FieldType.ENUM : FieldType.MESSAGE;
    field.typeName = resolved.fullName;
    uses(resolved);
    return;
  }
  const scalar = SCALARS[type];
  if (scalar === undefined) throw new TypeError(`unresolved field type ${type}`);
  field.type = scalar;
}

function enumOf(type: protobuf.Enum) {
  return create(EnumDescriptorProtoSchema, {
    name: type.name,
    value: Object.entries(type.values).map(([name, number]) => ({ name, number })),
    options:
      Object.keys(type.values).length > new Set(Object.values(type.values)).size ? { allowAlias: true } : undefined,
  });
}

/** protoc's default JSON name: underscores dropped, the letter after each upper-cased. */
function jsonNameOf(name: string): string {
  return name.replace(/_+([a-zA-Z0-9]?)/g, (_, c: string) => c.toUpperCase());
}

function isSynthetic(oneof: protobuf.OneOf): boolean {
  return (
    oneof.fieldsArray.length === 1 &&
    Boolean((oneof.fieldsArray[0]!.options as Record<string, unknown> | undefined)?.['proto3_optional'])
  );
}

function packageOf(object: protobuf.ReflectionObject): string {
  let namespace = object.parent;
  while (namespace && (namespace instanceof protobuf.Type || namespace instanceof protobuf.Enum))
    namespace = namespace.parent;
  return namespace && !(namespace instanceof protobuf.Root) ? namespace.fullName.replace(/^\./, '') : '';
}

/** The syntax of the file an object came from (protobufjs keeps it as the edition). */
function syntaxOf(object: protobuf.ReflectionObject): string {
  let current: protobuf.ReflectionObject | null = object;
  while (current) {
    const edition = (current as unknown as { _edition?: string | null })._edition;
    if (edition) return edition === 'proto2' ? 'proto2' : 'proto3';
    current = current.parent;
  }
  return 'proto3';
}

const SCALARS: Record<string, FieldType> = {
  double: FieldType.DOUBLE,
  float: FieldType.FLOAT,
  int64: FieldType.INT64,
  uint64: FieldType.UINT64,
  int32: FieldType.INT32,
  fixed64: FieldType.FIXED64,
  fixed32: FieldType.FIXED32,
  bool: FieldType.BOOL,
  string: FieldType.STRING,
  bytes: FieldType.BYTES,
  uint32: FieldType.UINT32,
  sfixed32: FieldType.SFIXED32,
  sfixed64: FieldType.SFIXED64,
  sint32: FieldType.SINT32,
  sint64: FieldType.SINT64,
};
