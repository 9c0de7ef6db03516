/**
 * `google.rpc.RetryInfo`, the standard error detail that tells a caller when to try again (gRPC's error model):
 * Warren's breakers attach it to the UNAVAILABLE they fail fast with, and the gateway answers it as `Retry-After`.
 * Encoded by hand — one Duration field — so the wire layer needs no generated google.rpc code.
 */
import protobuf from 'protobufjs';
import type { ErrorDetail, RpcError } from './rpc-error.js';

/** Type URL of the detail. */
export const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';

/** The detail saying "retry after `delayMs`" (google.rpc.RetryInfo { retry_delay: Duration }). */
export function retryInfo(delayMs: number): ErrorDetail {
  const ms = Math.max(0, Math.round(delayMs));
  const duration = protobuf.Writer.create()
    .uint32(8)
    .int64(Math.floor(ms / 1000))
    .uint32(16)
    .int32((ms % 1000) * 1_000_000)
    .finish();
  return { typeUrl: RETRY_INFO_TYPE_URL, value: protobuf.Writer.create().uint32(10).bytes(duration).finish() };
}

/** The retry delay an error's details carry, in ms; `undefined` when it has no (readable) RetryInfo. */
export function retryDelayOf(error: Pick<RpcError, 'details'>): number | undefined {
  const detail = error.details.find((candidate) => candidate.typeUrl === RETRY_INFO_TYPE_URL);
  if (detail === undefined) return undefined;
  try {
    const outer = protobuf.Reader.create(detail.value);
    let delayMs = 0;
    while (outer.pos < outer.len) {
      const tag = outer.uint32();
      if (tag !== 10) {
        outer.skipType(tag & 7);
        continue;
      }
      const inner = protobuf.Reader.create(outer.bytes());
      while (inner.pos < inner.len) {
        const field = inner.uint32();
        if (field === 8) delayMs += Number(inner.int64()) * 1000;
        else if (field === 16) delayMs += Math.round(inner.int32() / 1_000_000);
        else inner.skipType(field & 7);
      }
    }
    return delayMs;
  } catch {
    return undefined;
  }
}
