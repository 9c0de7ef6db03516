import type { ErrorDetail, ProtoRegistry, RpcError } from '../core/index.js';

/**
 * The JSON body of every error answer: google.rpc.Status in proto3 JSON,
 * `{"code": 5, "message": "…", "details": [...]}`. `code` is the RPC code
 * number (gRPC numbering); `details` are `google.protobuf.Any` in JSON:
 * expanded (`{"@type": url, ...fields}`) when the type is in the loaded
 * protos, else `{"@type": url, "value": "<base64>"}`.
 */
export interface ErrorBody {
  readonly code: number;
  readonly message: string;
  readonly details: readonly Record<string, unknown>[];
}

/** Builds the error body of an `RpcError`. */
export function errorBody(error: RpcError, registry: ProtoRegistry | undefined): ErrorBody {
  return { code: error.code, message: error.rawMessage, details: error.details.map((detail) => detailJson(detail, registry)) };
}

function detailJson(detail: ErrorDetail, registry: ProtoRegistry | undefined): Record<string, unknown> {
  const raw = { '@type': detail.typeUrl, value: Buffer.from(detail.value).toString('base64') };
  const type = registry?.findMessage(detail.typeUrl.slice(detail.typeUrl.lastIndexOf('/') + 1));
  if (!type) return raw;
  try {
    const json = type.toJSON(type.decode(detail.value));
    if (json !== null && typeof json === 'object' && !Array.isArray(json)) return { '@type': detail.typeUrl, ...json };
    return { '@type': detail.typeUrl, value: json };
  } catch {
    return raw;
  }
}
