import { Code } from './code.js';
import { RpcError } from './rpc-error.js';

/**
 * Call metadata: lower-case keys to string values, sent as AMQP headers.
 * Keys starting with `warren-` (the protocol's own) or `x-` (the broker's) are
 * reserved and never taken as metadata. `traceparent` / `tracestate` pass
 * through untouched.
 */
export type Metadata = Record<string, string>;

/** Largest total size of one call's metadata (keys plus values, UTF-8). */
export const MAX_METADATA_BYTES = 8 * 1024;

const KEY = /^[a-z0-9][a-z0-9._-]{0,127}$/;

/** True for header names the protocol or the broker owns. */
export function isReservedHeader(key: string): boolean {
  return key.startsWith('warren-') || key.startsWith('x-');
}

/**
 * Checks metadata a caller or handler supplied, so a bad key never reaches the
 * broker: keys must match `[a-z0-9][a-z0-9._-]*`, must not be reserved, values
 * must be strings, and the total must stay under {@link MAX_METADATA_BYTES}.
 * Throws INVALID_ARGUMENT naming the offending key.
 */
export function validateMetadata(metadata: Metadata): void {
  let bytes = 0;
  for (const key of Object.keys(metadata)) {
    const value = metadata[key];
    if (!KEY.test(key))
      throw new RpcError(
        Code.INVALID_ARGUMENT,
        `metadata key ${JSON.stringify(key)} must match [a-z0-9][a-z0-9._-]* (at most 128 characters)`,
      );
    if (isReservedHeader(key))
      throw new RpcError(
        Code.INVALID_ARGUMENT,
        `metadata key ${JSON.stringify(key)} is reserved (warren-* and x-* belong to the protocol and the broker)`,
      );
    if (typeof value !== 'string')
      throw new RpcError(Code.INVALID_ARGUMENT, `metadata value of ${JSON.stringify(key)} must be a string`);
    bytes += key.length + Buffer.byteLength(value);
  }
  if (bytes > MAX_METADATA_BYTES)
    throw new RpcError(Code.INVALID_ARGUMENT, `metadata is ${bytes} bytes; at most ${MAX_METADATA_BYTES} are allowed`);
}

/**
 * Reads metadata out of received AMQP headers: every non-reserved header with
 * a valid key; strings kept, byte arrays read as UTF-8, numbers and booleans
 * stringified, anything else ignored (peers in other languages may send them).
 */
export function metadataFromHeaders(headers: Record<string, unknown> | undefined): Metadata {
  const metadata: Metadata = {};
  if (!headers) return metadata;
  for (const key of Object.keys(headers)) {
    if (isReservedHeader(key) || !KEY.test(key)) continue;
    const value = headers[key];
    if (typeof value === 'string') metadata[key] = value;
    else if (Buffer.isBuffer(value)) metadata[key] = value.toString('utf8');
    else if (typeof value === 'number' || typeof value === 'boolean') metadata[key] = String(value);
  }
  return metadata;
}

/** Size of metadata as {@link MAX_METADATA_BYTES} counts it: keys plus values, UTF-8 bytes. */
export function metadataBytes(metadata: Metadata): number {
  let bytes = 0;
  for (const key of Object.keys(metadata)) bytes += key.length + Buffer.byteLength(metadata[key]!);
  return bytes;
}

/**
 * `metadata` cut to {@link MAX_METADATA_BYTES}: keys kept in order while they
 * fit, the rest left out. For a client reading a reply from a peer that broke
 * the bound: the reply's outcome still counts, its excess trailers do not.
 */
export function boundMetadata(metadata: Metadata): Metadata {
  if (metadataBytes(metadata) <= MAX_METADATA_BYTES) return metadata;
  const kept: Metadata = {};
  let bytes = 0;
  for (const key of Object.keys(metadata)) {
    const size = key.length + Buffer.byteLength(metadata[key]!);
    if (bytes + size > MAX_METADATA_BYTES) continue;
    bytes += size;
    kept[key] = metadata[key]!;
  }
  return kept;
}
