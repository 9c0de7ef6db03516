import { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';
import { Code, parseCode } from './code.js';
import type { ErrorDetail } from './rpc-error.js';

/**
 * The body of an error reply: a google.rpc.Status
 * (`code = 1`, `message = 2`, `repeated google.protobuf.Any details = 3`).
 * Encoded as protobuf or as proto3 JSON, in the request's content type.
 */
export interface WireStatus {
  code: Code;
  message: string;
  details: readonly ErrorDetail[];
}

/** Encodes a status as google.rpc.Status protobuf bytes. */
export function encodeStatus(status: WireStatus): Uint8Array {
  const writer = new BinaryWriter();
  if (status.code !== 0) writer.uint32(8).int32(status.code);
  if (status.message !== '') writer.uint32(18).string(status.message);
  for (const detail of status.details) {
    writer.uint32(26).fork();
    if (detail.typeUrl !== '') writer.uint32(10).string(detail.typeUrl);
    if (detail.value.length > 0) writer.uint32(18).bytes(detail.value);
    writer.join();
  }
  return writer.finish();
}

/** Decodes google.rpc.Status protobuf bytes; throws on malformed input. */
export function decodeStatus(bytes: Uint8Array): WireStatus {
  const reader = new BinaryReader(bytes);
  let code = 0;
  let message = '';
  const details: ErrorDetail[] = [];
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === 0) code = reader.int32();
    else if (field === 2 && wireType === 2) message = reader.string();
    else if (field === 3 && wireType === 2) details.push(decodeAny(reader.bytes()));
    else reader.skip(wireType);
  }
  return { code: parseCode(code) ?? Code.UNKNOWN, message, details };
}

function decodeAny(bytes: Uint8Array): ErrorDetail {
  const reader = new BinaryReader(bytes);
  let typeUrl = '';
  let value: Uint8Array = new Uint8Array(0);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === 2) typeUrl = reader.string();
    else if (field === 2 && wireType === 2) value = reader.bytes();
    else reader.skip(wireType);
  }
  return { typeUrl, value };
}

/**
 * The proto3 JSON form of a status. Details are `{"@type": url, "value":
 * base64}`: Any's JSON form for a message the sender does not know how to
 * expand.
 */
export function statusToJson(status: WireStatus): unknown {
  return {
    code: status.code,
    message: status.message,
    details: status.details.map((d) => ({ '@type': d.typeUrl, value: Buffer.from(d.value).toString('base64') })),
  };
}

/** Reads the JSON form back; tolerant of missing fields, strict about types. */
export function statusFromJson(json: unknown): WireStatus {
  if (json === null || typeof json !== 'object') throw new TypeError('status must be a JSON object');
  const obj = json as Record<string, unknown>;
  const code = parseCode(obj['code'] ?? 0) ?? Code.UNKNOWN;
  const message = typeof obj['message'] === 'string' ? obj['message'] : '';
  const rawDetails = Array.isArray(obj['details']) ? obj['details'] : [];
  const details = rawDetails.flatMap((d): ErrorDetail[] => {
    if (d === null || typeof d !== 'object') return [];
    const entry = d as Record<string, unknown>;
    const typeUrl = typeof entry['@type'] === 'string' ? entry['@type'] : '';
    const value =
      typeof entry['value'] === 'string' ? new Uint8Array(Buffer.from(entry['value'], 'base64')) : new Uint8Array(0);
    return [{ typeUrl, value }];
  });
  return { code, message, details };
}
