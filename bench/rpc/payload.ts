import { EchoRequest, EchoResponse } from '../../gen/warren/test/v1/test.js';

/** Service and queue names the raw baseline uses (inside the bench vhost). */
export const RAW_QUEUE = 'bench.raw.echo';

/**
 * The request every benchmark call sends: a small, realistic message (a
 * sentence, an id, 128 bytes of binary, three tags, a timestamp), about
 * 190 bytes encoded. Built once per process; each call still encodes it.
 */
export function benchRequest(): EchoRequest {
  const payload = new Uint8Array(128);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + 7) & 0xff;
  return {
    text: 'order 7f3a-19 shipped to warehouse 12',
    number: 1_234_567n,
    payload,
    tags: ['bench', 'rpc', 'echo'],
    sentAt: new Date('2024-05-01T12:00:00Z'),
  };
}

/** What both echo servers answer: the same fields, built the same way. */
export function echoResponse(request: EchoRequest, instance: string): EchoResponse {
  return {
    text: request.text,
    number: request.number,
    payload: request.payload,
    tags: request.tags,
    sentAt: request.sentAt,
    metadata: {},
    remainingMs: 0n,
    caller: '',
    instance,
  };
}

/** Raw server work: decode, answer, encode (Warren does the same in its dispatcher). */
export function rawEcho(body: Uint8Array, instance: string): Buffer {
  const bytes = EchoResponse.encode(echoResponse(EchoRequest.decode(body), instance)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
