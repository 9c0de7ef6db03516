import {
  createFileRegistry,
  createRegistry,
  fromBinary,
  type DescMessage,
  type FileRegistry,
  type Registry,
} from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { fileDescriptorSet as ownDescriptorSet } from '../../../gen/descriptor-set.js';

/**
 * The descriptors Warren's proto3 JSON codec knows, for generated (ts-proto)
 * message types, which carry no field metadata: a codec is found by its
 * `$type` (the full proto name).
 *
 * This module's own contracts (gen/descriptor-set.ts) are known from the
 * start. A project with its own protos adds the `descriptor-set.ts` that
 * `bin/protoc-gen-warren-descriptors.mjs` generates beside its ts-proto
 * output, once at start-up: `registerFileDescriptorSet(fileDescriptorSet)`.
 */
const registries: FileRegistry[] = [];
let combined: Registry | undefined;

/** Adds a FileDescriptorSet (base64 string or bytes, as generated); files already known are skipped. */
export function registerFileDescriptorSet(set: string | Uint8Array): void {
  const bytes = typeof set === 'string' ? Buffer.from(set, 'base64') : set;
  const parsed = fromBinary(FileDescriptorSetSchema, bytes);
  registries.push(createFileRegistry(parsed));
  combined = undefined;
}

/** The registry of every registered file (resolves `Any` type URLs). */
export function descriptorRegistry(): Registry {
  if (registries.length === 0) registerFileDescriptorSet(ownDescriptorSet);
  combined ??= createRegistry(...[...registries].reverse());
  return combined;
}

/** A message descriptor by full proto name, e.g. `shop.payments.v1.ChargeRequest`. */
export function findMessageDescriptor(typeName: string): DescMessage | undefined {
  return descriptorRegistry().getMessage(typeName);
}
