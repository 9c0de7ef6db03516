import { EchoRequest, EchoResponse } from '../../gen/warren/test/v1/test.js';

/**
 * The one message every system sends and gets back: 64 bytes of text
 * (`{ text }`). Each system carries it in its own encoding: raw amqplib and
 * Warren as a protobuf EchoRequest/EchoResponse (66 bytes), NestJS and
 * Moleculer as JSON inside their own envelopes. Same content, same size of
 * application data for all.
 */
export const ECHO_TEXT = 'warren-bench-64-byte-payload:0123456789abcdefghijklmnopqrstuvwxy';

if (Buffer.byteLength(ECHO_TEXT) !== 64)
  throw new Error(`ECHO_TEXT must be 64 bytes, is ${Buffer.byteLength(ECHO_TEXT)}`);

/** What a client calls and the server answers. */
export interface EchoMessage {
  readonly text: string;
}

/** The request as protobuf bytes (raw amqplib and Warren encode it per call). */
export function encodeRequest(message: EchoMessage): Buffer {
  const bytes = EchoRequest.encode(EchoRequest.fromPartial(message)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Raw server work: decode the request, answer the same text as an EchoResponse. */
export function rawEchoReply(body: Uint8Array): Buffer {
  const request = EchoRequest.decode(body);
  const bytes = EchoResponse.encode(EchoResponse.fromPartial({ text: request.text })).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Raw client: decode a reply body. */
export function decodeReply(body: Uint8Array): EchoMessage {
  return EchoResponse.decode(body);
}
