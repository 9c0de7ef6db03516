/**
 * The standard google.rpc error details the example services attach to
 * their errors (google/rpc/error_details.proto, encoded with protobufjs from
 * the google-proto-files package), so any client, the gateway's JSON error
 * body included, can point at the exact field or precondition.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';
import { Code, type ErrorDetail, RpcError } from 'warren';

const TYPE_URL_PREFIX = 'type.googleapis.com/';
const protoDir = dirname(createRequire(import.meta.url).resolve('google-proto-files/package.json'));
const root = protobuf.loadSync(join(protoDir, 'google/rpc/error_details.proto'));
const BadRequest = root.lookupType('google.rpc.BadRequest');
const PreconditionFailure = root.lookupType('google.rpc.PreconditionFailure');

/** One invalid field: `field` is a path like `items[2].quantity`. */
export interface FieldViolation {
  readonly field: string;
  readonly description: string;
}

/** One failed precondition, e.g. `{ type: 'STOCK', subject: 'sku:MUG-BLUE', description: '3 ordered, 1 available' }`. */
export interface PreconditionViolation {
  readonly type: string;
  readonly subject: string;
  readonly description: string;
}

function detail(type: protobuf.Type, payload: Record<string, unknown>): ErrorDetail {
  return {
    typeUrl: `${TYPE_URL_PREFIX}${type.fullName.slice(1)}`,
    value: type.encode(type.fromObject(payload)).finish(),
  };
}

/** INVALID_ARGUMENT naming every bad field, with a google.rpc.BadRequest detail. */
export function invalidArgument(violations: readonly FieldViolation[]): RpcError {
  const summary = violations.map((violation) => `${violation.field}: ${violation.description}`).join('; ');
  return new RpcError(Code.INVALID_ARGUMENT, `invalid request: ${summary}`, {
    details: [
      detail(BadRequest, { fieldViolations: violations.map(({ field, description }) => ({ field, description })) }),
    ],
  });
}

/** FAILED_PRECONDITION with a google.rpc.PreconditionFailure detail. */
export function failedPrecondition(message: string, violations: readonly PreconditionViolation[]): RpcError {
  return new RpcError(Code.FAILED_PRECONDITION, message, {
    details: [
      detail(PreconditionFailure, {
        violations: violations.map(({ type, subject, description }) => ({ type, subject, description })),
      }),
    ],
  });
}

/** Decodes a google.rpc.BadRequest detail (tests and clients). */
export function decodeBadRequest(value: Uint8Array): FieldViolation[] {
  const decoded = BadRequest.toObject(BadRequest.decode(value)) as { fieldViolations?: FieldViolation[] };
  return (decoded.fieldViolations ?? []).map(({ field, description }) => ({ field, description }));
}
