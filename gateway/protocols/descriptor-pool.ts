import { basename } from 'node:path';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor.js';

/** Serialized FileDescriptorProtos of the loaded contracts, looked up the ways reflection asks. */
export interface DescriptorPool {
  /** The file and every file it depends on, transitively, the file first; `undefined` when unknown. */
  fileByName(name: string): Buffer[] | undefined;
  /** The file declaring a message, enum, service or method (`pkg.Service.Method`), with its dependencies. */
  fileContainingSymbol(symbol: string): Buffer[] | undefined;
  /** Every file name, sorted (for tests and docs). */
  readonly fileNames: readonly string[];
}

interface FileEntry {
  readonly proto: { messageType: unknown[]; enumType: unknown[]; service: unknown[]; dependency: string[] };
  readonly deps: Set<string>;
  encoded?: Buffer;
}

type FileDescriptorCodec = { create(value: object): FileEntry['proto']; encode(message: object): protobuf.Writer };

/**
 * Builds descriptors from protobufjs roots as the gateway loaded them (no
 * generated code, no `buf build`). protobufjs keeps where each top-level
 * type came from (`filename`) but not its imports, so files are rebuilt:
 * a file is named `<package as a path>/<basename>` (`shop/inventory/v1/inventory.proto`,
 * the layout buf lint enforces), and its `dependency` list is computed from
 * the types its fields and methods use. Extensions (custom options such as
 * `google.api.http`) are left out: clients need them to call nothing.
 */
export function createDescriptorPool(roots: readonly protobuf.Root[]): DescriptorPool {
  const FileDescriptorProto = (descriptor as unknown as { FileDescriptorProto: FileDescriptorCodec })
    .FileDescriptorProto;
  const files = new Map<string, FileEntry>();
  const symbols = new Map<string, string>();
  const fileOf = new Map<protobuf.ReflectionObject, string>();

  const fileNameOf = (object: protobuf.ReflectionObject): string => {
    const pkg = object.parent && !(object.parent instanceof protobuf.Root) ? object.parent.fullName.slice(1) : '';
    const base = object.filename ? basename(object.filename) : `${object.name.toLowerCase()}.proto`;
    return pkg === '' ? base : `${pkg.replace(/\./g, '/')}/${base}`;
  };
  const entryFor = (name: string, pkg: string): FileEntry => {
    let entry = files.get(name);
    if (!entry) {
      entry = {
        proto: FileDescriptorProto.create({
          name,
          package: pkg,
          syntax: 'proto3',
          messageType: [],
          enumType: [],
          service: [],
          dependency: [],
        }),
        deps: new Set(),
      };
      files.set(name, entry);
    }
    return entry;
  };
  const register = (object: protobuf.ReflectionObject, file: string): void => {
    fileOf.set(object, file);
    symbols.set(object.fullName.slice(1), file);
    if (object instanceof protobuf.Type)
      for (const nested of object.nestedArray)
        if (nested instanceof protobuf.Type || nested instanceof protobuf.Enum) register(nested, file);
    if (object instanceof protobuf.Service)
      for (const method of object.methodsArray) symbols.set(method.fullName.slice(1), file);
  };

  const topLevel: protobuf.ReflectionObject[] = [];
  const walk = (namespace: protobuf.NamespaceBase): void => {
    for (const nested of namespace.nestedArray) {
      if (nested instanceof protobuf.Type || nested instanceof protobuf.Enum || nested instanceof protobuf.Service)
        topLevel.push(nested);
      else if (nested instanceof protobuf.Namespace) walk(nested);
    }
  };
  for (const root of roots) walk(root);

  for (const object of topLevel) {
    const name = fileNameOf(object);
    if (symbols.has(object.fullName.slice(1))) continue; // the same type in two roots: the first wins
    const entry = entryFor(
      name,
      object.parent instanceof protobuf.Root || !object.parent ? '' : object.parent.fullName.slice(1),
    );
    register(object, name);
    if (object instanceof protobuf.Type)
      entry.proto.messageType.push(fixMessage(object.toDescriptor('proto3') as unknown as MessageDescriptor, object));
    else if (object instanceof protobuf.Enum) entry.proto.enumType.push(object.toDescriptor());
    else entry.proto.service.push((object as protobuf.Service).toDescriptor());
  }

  const topOf = (object: protobuf.ReflectionObject): protobuf.ReflectionObject => {
    let current = object;
    while (current.parent instanceof protobuf.Type) current = current.parent;
    return current;
  };
  const uses = (object: protobuf.ReflectionObject, found: Set<protobuf.ReflectionObject>): void => {
    if (object instanceof protobuf.Type) {
      for (const field of object.fieldsArray) {
        field.resolve();
        if (field.resolvedType) found.add(topOf(field.resolvedType));
      }
      for (const nested of object.nestedArray) uses(nested, found);
    } else if (object instanceof protobuf.Service) {
      for (const method of object.methodsArray) {
        method.resolve();
        if (method.resolvedRequestType) found.add(topOf(method.resolvedRequestType));
        if (method.resolvedResponseType) found.add(topOf(method.resolvedResponseType));
      }
    }
  };
  for (const object of topLevel) {
    const own = fileOf.get(object);
    if (own === undefined) continue;
    const used = new Set<protobuf.ReflectionObject>();
    uses(object, used);
    for (const dependency of used) {
      const file = fileOf.get(dependency);
      if (file !== undefined && file !== own) files.get(own)!.deps.add(file);
    }
  }
  for (const entry of files.values()) entry.proto.dependency = [...entry.deps].sort();

  const encoded = (name: string): Buffer => {
    const entry = files.get(name)!;
    entry.encoded ??= Buffer.from(FileDescriptorProto.encode(entry.proto).finish());
    return entry.encoded;
  };
  const withDependencies = (name: string): Buffer[] => {
    const order: string[] = [];
    const visit = (file: string): void => {
      if (order.includes(file)) return;
      order.push(file);
      for (const dependency of files.get(file)!.deps) visit(dependency);
    };
    visit(name);
    return order.map(encoded);
  };

  return {
    fileNames: [...files.keys()].sort(),
    fileByName: (name) => (files.has(name) ? withDependencies(name) : undefined),
    fileContainingSymbol(symbol) {
      const file = symbols.get(symbol.replace(/^\./, ''));
      return file === undefined ? undefined : withDependencies(file);
    },
  };
}

interface FieldDescriptor {
  number: number;
  type: number;
  label: number;
  typeName?: string;
  options?: { packed?: boolean | null } | null;
}
interface MessageDescriptor {
  name: string;
  field: FieldDescriptor[];
  nestedType: MessageDescriptor[];
}

/** Field types that cannot be packed: string, group, message, bytes. */
const NOT_PACKABLE: ReadonlySet<number> = new Set([9, 10, 11, 12]);

/**
 * protobufjs writes descriptors protoc would not: type names relative to
 * the scope, map entries named after the field without `Entry`, and
 * `packed = false` on fields that cannot be packed. Strict readers (Go's
 * protodesc, under buf curl and grpcurl) refuse those, so they are
 * rewritten: fully-qualified type names, `FooBarEntry`, no packed option
 * where it means nothing.
 */
function fixMessage(message: MessageDescriptor, type: protobuf.Type): MessageDescriptor {
  for (const descriptor of message.field) {
    const field = type.fieldsArray.find((candidate) => candidate.id === descriptor.number);
    if (!field) continue;
    field.resolve();
    if (field.map) {
      const entry = message.nestedType.find((nested) => nested.name === descriptor.typeName);
      const entryName = `${field.name
        .split('_')
        .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
        .join('')}Entry`;
      if (entry) {
        entry.name = entryName;
        const value = entry.field.find((candidate) => candidate.number === 2);
        if (value && field.resolvedType) value.typeName = field.resolvedType.fullName;
      }
      descriptor.typeName = `${type.fullName}.${entryName}`;
    } else if (field.resolvedType) {
      descriptor.typeName = field.resolvedType.fullName;
    }
    if (descriptor.options && !(descriptor.label === 3 && !NOT_PACKABLE.has(descriptor.type))) {
      descriptor.options.packed = null;
      delete descriptor.options.packed;
    }
  }
  for (const nested of message.nestedType) {
    const child = type.nested?.[nested.name];
    if (child instanceof protobuf.Type) fixMessage(nested, child);
  }
  return message;
}
