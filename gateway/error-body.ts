import { type ErrorDetail, type RpcError } from '../core/index.js';
import { type ProtoRegistry } from '../core/tooling.js';
import { errorCodeOf } from './http-status.js';

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

const BROKER_URL = /\bamqps?:\/\/[^\s,;)]+/gi;

/**
 * Builds the error body of an `RpcError`. Broker URLs in the message (the
 * transport names the broker when a connection drops under a pending call)
 * are replaced by `the broker`: HTTP clients learn nothing of the broker's
 * host, user or vhost.
 */
export function errorBody(error: RpcError, registry: ProtoRegistry | undefined): ErrorBody {
  const message = error.rawMessage.includes('://')
    ? error.rawMessage.replace(BROKER_URL, 'the broker')
    : error.rawMessage;
  return { code: errorCodeOf(error), message, details: error.details.map((detail) => detailJson(detail, registry)) };
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
