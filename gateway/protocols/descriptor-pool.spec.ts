import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor.js';
import { describe, expect, it } from 'vitest';
import { createDescriptorPool } from './descriptor-pool.js';

const FileDescriptorProto = (descriptor as unknown as { FileDescriptorProto: { decode(bytes: Uint8Array): any } })
  .FileDescriptorProto;

describe('descriptor pool', () => {
  const root = new protobuf.Root();
  protobuf.parse(
    'syntax = "proto3"; package google.protobuf; message Timestamp { int64 seconds = 1; int32 nanos = 2; }',
    root,
  );
  protobuf.parse(
    `syntax = "proto3"; package acme.v1; import "google/protobuf/timestamp.proto";
     message Item { string id = 1; map<string, Item> children_by_id = 2; google.protobuf.Timestamp at = 3; Kind kind = 4; repeated string tags = 5; repeated int32 counts = 6; }
     enum Kind { KIND_UNSPECIFIED = 0; }
     service Items { rpc Get(Item) returns (Item); }`,
    root,
    { keepCase: true },
  );
  root.resolveAll();
  // as Root.load would record them (parse alone does not)
  for (const object of (root.lookup('acme.v1') as protobuf.Namespace).nestedArray)
    object.filename = '/somewhere/proto/acme/v1/acme.proto';
  const pool = createDescriptorPool([root]);

  it('finds a file by symbol (service, method, message) with its dependencies', () => {
    const files = pool.fileContainingSymbol('acme.v1.Items.Get')!.map((bytes) => FileDescriptorProto.decode(bytes));
    expect(files.map((file) => file.name)).toEqual(['acme/v1/acme.proto', 'google/protobuf/timestamp.proto']);
    expect(files[0].dependency).toEqual(['google/protobuf/timestamp.proto']);
    expect(pool.fileContainingSymbol('.acme.v1.Kind')).toHaveLength(2);
    expect(pool.fileContainingSymbol('acme.v1.Nope')).toBeUndefined();
    expect(pool.fileByName(files[0].name)).toHaveLength(2);
  });

  it('writes what protoc would: qualified type names, FooEntry map entries, packed only where it means something', () => {
    const file = FileDescriptorProto.decode(pool.fileContainingSymbol('acme.v1.Item')![0]!);
    const item = file.messageType.find((message: any) => message.name === 'Item');
    const field = (name: string) => item.field.find((candidate: any) => candidate.name === name);
    expect(field('children_by_id').typeName).toBe('.acme.v1.Item.ChildrenByIdEntry');
    const entry = item.nestedType.find((nested: any) => nested.name === 'ChildrenByIdEntry');
    expect(entry.options.mapEntry).toBe(true);
    expect(entry.field.find((candidate: any) => candidate.name === 'value').typeName).toBe('.acme.v1.Item');
    expect(field('at').typeName).toBe('.google.protobuf.Timestamp');
    expect(field('kind').typeName).toBe('.acme.v1.Kind');
    expect(field('tags').options?.packed ?? null).toBeNull();
    expect(file.service[0].method[0].inputType).toBe('.acme.v1.Item');
  });
});
