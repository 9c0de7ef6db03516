import { Code } from '../../core/index.js';
import { gatewayError } from '../http-status.js';

/** Flag bit of a compressed message (gRPC, gRPC-Web and Connect streams). */
export const FLAG_COMPRESSED = 0x01;
/** Flag of Connect's end-of-stream message. */
export const FLAG_END_STREAM = 0x02;
/** Flag of gRPC-Web's trailer frame. */
export const FLAG_TRAILERS = 0x80;

/** One length-prefixed message: a flags byte, a 4-byte big-endian length, the payload. */
export interface Envelope {
  readonly flags: number;
  readonly payload: Buffer;
}

/** Frames `payload` with its 5-byte prefix. */
export function encodeEnvelope(flags: number, payload: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(5 + payload.byteLength);
  framed[0] = flags;
  framed.writeUInt32BE(payload.byteLength, 1);
  framed.set(payload, 5);
  return framed;
}

/**
 * The one message of a unary request body (gRPC, gRPC-Web): exactly one
 * uncompressed envelope, nothing after it. A compressed flag is
 * UNIMPLEMENTED (the gateway advertises `grpc-accept-encoding: identity`),
 * a truncated, empty or padded body INVALID_ARGUMENT (every gRPC client
 * frames even the empty message).
 */
export function decodeUnaryEnvelope(body: Buffer): Buffer {
  if (body.length < 5)
    throw gatewayError(
      Code.INVALID_ARGUMENT,
      `the request holds ${body.length} bytes, less than one length-prefixed message`,
    );
  const flags = body[0]!;
  if ((flags & FLAG_COMPRESSED) !== 0)
    throw gatewayError(Code.UNIMPLEMENTED, 'compressed messages are not supported; send grpc-encoding identity');
  if (flags !== 0) throw gatewayError(Code.INVALID_ARGUMENT, `unexpected message flags 0x${flags.toString(16)}`);
  const length = body.readUInt32BE(1);
  if (body.length !== 5 + length) {
    throw gatewayError(
      Code.INVALID_ARGUMENT,
      body.length < 5 + length ? 'the request message is truncated' : 'a unary call sent more than one message',
    );
  }
  return body.subarray(5);
}

/**
 * Splits a byte stream into envelopes as chunks arrive (the reflection
 * stream). `push` returns the envelopes completed by the chunk; a message
 * over `limit` bytes throws RESOURCE_EXHAUSTED.
 */
export class EnvelopeReader {
  private buffered: Buffer = Buffer.alloc(0);

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): Envelope[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const found: Envelope[] = [];
    while (this.buffered.length >= 5) {
      const length = this.buffered.readUInt32BE(1);
      if (length > this.limit)
        throw gatewayError(
          Code.RESOURCE_EXHAUSTED,
          `a message of ${length} bytes exceeds the limit of ${this.limit} bytes`,
        );
      if (this.buffered.length < 5 + length) break;
      found.push({ flags: this.buffered[0]!, payload: this.buffered.subarray(5, 5 + length) });
      this.buffered = this.buffered.subarray(5 + length);
    }
    return found;
  }

  /** True when a partial message is left over (the stream ended mid-message). */
  get pending(): boolean {
    return this.buffered.length > 0;
  }
}
