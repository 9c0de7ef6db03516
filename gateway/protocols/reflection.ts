import type { IncomingMessage, ServerResponse } from 'node:http';
import type protobuf from 'protobufjs';
import { Code, RpcError } from '../../core/index.js';
import { REQUEST_ID_HEADER } from '../call-headers.js';
import { SECURITY_HEADERS } from '../security-headers.js';
import type { DescriptorPool } from './descriptor-pool.js';
import { EnvelopeReader, encodeEnvelope, FLAG_COMPRESSED } from './envelope.js';
import { connectErrorJson } from './connect.js';
import { errorTrailers, grpcTrailers } from './grpc.js';
import { REFLECTION_SERVICES } from './grpc-protos.js';
import { FLAG_END_STREAM, FLAG_TRAILERS } from './envelope.js';
import type { WireKind } from './wire-codec.js';

/** The server reflection service (v1 and v1alpha, same messages). */
export interface Reflection {
  /** True for `grpc.reflection.{v1,v1alpha}.ServerReflection/ServerReflectionInfo`. */
  handles(methodPath: string): boolean;
  /** True for the stream framings reflection answers in: gRPC, binary gRPC-Web, Connect streams of protobuf. */
  speaks(kind: WireKind, request: IncomingMessage): boolean;
  /** Serves one bidirectional reflection stream; resolves 200 (or 499 when the client left). */
  serve(kind: WireKind, request: IncomingMessage, response: ServerResponse, requestId: string): Promise<number>;
}

/** How one protocol frames a stream's answer. */
interface StreamFraming {
  readonly contentType: string;
  /** The last bytes of the body (gRPC-Web trailer frame, Connect end-of-stream), or `undefined` to end with HTTP trailers. */
  end(response: ServerResponse, error: RpcError | undefined): void;
}

const FRAMINGS: Partial<Record<WireKind, StreamFraming>> = {
  grpc: {
    contentType: 'application/grpc+proto',
    end(response, error) {
      response.addTrailers(error ? errorTrailers(error) : grpcTrailers(Code.OK, '', [], {}));
      response.end();
    },
  },
  'grpc-web': {
    contentType: 'application/grpc-web+proto',
    end(response, error) {
      const trailers = error ? errorTrailers(error) : grpcTrailers(Code.OK, '', [], {});
      response.end(
        encodeEnvelope(
          FLAG_TRAILERS,
          Buffer.from(
            Object.entries(trailers)
              .map(([name, value]) => `${name}:${value}\r\n`)
              .join(''),
            'latin1',
          ),
        ),
      );
    },
  },
  'connect-stream': {
    contentType: 'application/connect+proto',
    end(response, error) {
      response.end(
        encodeEnvelope(
          FLAG_END_STREAM,
          Buffer.from(JSON.stringify(error ? { error: connectErrorJson(error, undefined) } : {})),
        ),
      );
    },
  },
};

/** gRPC status numbers reflection puts in `error_response.error_code`. */
const NOT_FOUND = Code.NOT_FOUND;

/**
 * Server reflection from the loaded contracts: `list_services` names the
 * exposed services plus grpc.health.v1.Health and the reflection services;
 * `file_by_filename` and `file_containing_symbol` answer a file with its
 * dependencies (gateway/protocols/descriptor-pool.ts); extension queries
 * answer NOT_FOUND / empty (extensions are not described). Each request
 * frame is answered as it arrives, so clients that wait for one answer
 * before the next request (buf curl, grpcurl) work. It is the one stream
 * the gateway serves, in gRPC, binary gRPC-Web and Connect (protobuf)
 * framing, because `buf curl --protocol grpcweb|connect` reflects in the
 * protocol it calls with. Requests are limited to
 * `limit` bytes each.
 */
export function createReflection(
  root: protobuf.Root,
  buildPool: () => DescriptorPool,
  services: readonly string[],
  limit: number,
): Reflection {
  // built on the first reflection request: most gateways never get one, and it walks every loaded type
  let built: DescriptorPool | undefined;
  const pool = (): DescriptorPool => (built ??= buildPool());
  const listed = [...new Set([...services, 'grpc.health.v1.Health', ...REFLECTION_SERVICES])]
    .sort()
    .map((name) => ({ name }));
  const types = new Map(
    ['v1', 'v1alpha'].map((version) => [
      `grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`,
      {
        request: root.lookupType(`grpc.reflection.${version}.ServerReflectionRequest`),
        response: root.lookupType(`grpc.reflection.${version}.ServerReflectionResponse`),
      },
    ]),
  );

  const answer = (asked: Record<string, unknown>): Record<string, unknown> => {
    const base = { valid_host: asked['host'] ?? '', original_request: asked };
    const files = (found: Buffer[] | undefined, what: string) =>
      found
        ? { ...base, file_descriptor_response: { file_descriptor_proto: found } }
        : { ...base, error_response: { error_code: NOT_FOUND, error_message: `${what} not found` } };
    if (typeof asked['list_services'] === 'string') return { ...base, list_services_response: { service: listed } };
    if (typeof asked['file_by_filename'] === 'string')
      return files(pool().fileByName(asked['file_by_filename']), `file ${asked['file_by_filename'].slice(0, 200)}`);
    if (typeof asked['file_containing_symbol'] === 'string')
      return files(
        pool().fileContainingSymbol(asked['file_containing_symbol']),
        `symbol ${asked['file_containing_symbol'].slice(0, 200)}`,
      );
    if (typeof asked['all_extension_numbers_of_type'] === 'string')
      return {
        ...base,
        all_extension_numbers_response: {
          base_type_name: asked['all_extension_numbers_of_type'],
          extension_number: [],
        },
      };
    if (asked['file_containing_extension'] !== undefined)
      return {
        ...base,
        error_response: { error_code: NOT_FOUND, error_message: 'extensions are not described by this server' },
      };
    return {
      ...base,
      error_response: { error_code: Code.INVALID_ARGUMENT, error_message: 'empty reflection request' },
    };
  };

  return {
    handles: (methodPath) => types.has(methodPath),
    speaks: (kind, request) =>
      FRAMINGS[kind] !== undefined &&
      (kind !== 'connect-stream' || /^application\/connect\+proto\b/i.test(request.headers['content-type'] ?? '')),
    serve(kind, request, response, requestId) {
      const path = (request.url ?? '').slice(1);
      const { request: requestType, response: responseType } = types.get(path)!;
      const framing = FRAMINGS[kind]!;
      response.writeHead(200, {
        ...SECURITY_HEADERS,
        'content-type': framing.contentType,
        'grpc-accept-encoding': 'identity',
        [REQUEST_ID_HEADER]: requestId,
      });
      const reader = new EnvelopeReader(limit);
      return new Promise<number>((resolve) => {
        let finished = false;
        const finish = (error: RpcError | undefined): void => {
          if (finished) return;
          finished = true;
          request.off('data', onData);
          framing.end(response, error);
          resolve(200);
        };
        const onData = (chunk: Buffer): void => {
          try {
            for (const envelope of reader.push(chunk)) {
              if ((envelope.flags & FLAG_COMPRESSED) !== 0)
                throw new RpcError(Code.UNIMPLEMENTED, 'compressed messages are not supported');
              const asked = requestType.toObject(requestType.decode(envelope.payload), {
                oneofs: false,
                bytes: Buffer,
              }) as Record<string, unknown>;
              response.write(encodeEnvelope(0, responseType.encode(responseType.fromObject(answer(asked))).finish()));
            }
          } catch (error) {
            finish(RpcError.from(error, Code.INVALID_ARGUMENT));
          }
        };
        request.on('data', onData);
        request.once('end', () =>
          finish(reader.pending ? new RpcError(Code.INVALID_ARGUMENT, 'the stream ended inside a message') : undefined),
        );
        response.once('close', () => {
          if (!finished) {
            finished = true;
            resolve(499);
          }
        });
      });
    },
  };
}
