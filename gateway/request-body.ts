import { parse } from 'lossless-json';
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { checkJsonDepth } from '../core/protocol/index.js';
import { Code, RpcError } from '../core/index.js';
import { gatewayError } from './http-status.js';

/** How a request body is encoded. */
export type BodyKind = 'json' | 'protobuf';

const EMPTY = Buffer.alloc(0);

/**
 * Reads a request body of at most `limit` bytes. A declared
 * `Content-Length` above the limit fails before reading anything; a longer
 * chunked body fails as soon as it passes the limit. Both are 413 (the
 * gateway then closes the connection rather than read the rest).
 */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    return Promise.reject(tooLarge(limit));
  }
  // HTTP/2 frames bodies itself: no Content-Length or Transfer-Encoding needed (gRPC sends neither)
  if (
    declared === '0' ||
    (declared === undefined && request.headers['transfer-encoding'] === undefined && request.httpVersionMajor !== 2)
  ) {
    return Promise.resolve(EMPTY);
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        request.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(new RpcError(Code.CANCELLED, 'the client aborted the request body', { cause: error }));
    };
    const onAborted = (): void => onError(new Error('aborted'));
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('aborted', onAborted);
  });
}

function tooLarge(limit: number): RpcError {
  return gatewayError(Code.RESOURCE_EXHAUSTED, `request body exceeds the limit of ${limit} bytes`, 413, {
    connection: 'close',
  });
}

/**
 * The body's encoding from `Content-Type`: JSON (UTF-8) always, protobuf
 * only where `allowProtobuf`. An empty body needs no content type. Anything
 * else is 415 saying what is accepted.
 */
export function bodyKindOf(contentType: string | undefined, bodyLength: number, allowProtobuf: boolean): BodyKind {
  if (contentType === undefined || contentType === '') {
    if (bodyLength === 0) return 'json';
    throw unsupported('a request with a body needs a Content-Type', allowProtobuf);
  }
  const [rawBase, ...params] = contentType.split(';');
  const base = rawBase!.trim().toLowerCase();
  if (base === 'application/json') {
    const charset = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('charset='));
    if (charset !== undefined && charset !== 'charset=utf-8' && charset !== 'charset="utf-8"') {
      throw unsupported(`JSON must be UTF-8, not ${charset.slice('charset='.length)}`, allowProtobuf);
    }
    return 'json';
  }
  if (
    allowProtobuf &&
    (base === 'application/x-protobuf' || base === 'application/protobuf' || base === 'application/vnd.google.protobuf')
  )
    return 'protobuf';
  throw unsupported(`Content-Type ${JSON.stringify(contentType)} is not supported`, allowProtobuf);
}

function unsupported(why: string, allowProtobuf: boolean): RpcError {
  const accepted = allowProtobuf ? 'application/json or application/x-protobuf' : 'application/json';
  return gatewayError(Code.INVALID_ARGUMENT, `${why}; send ${accepted}`, 415);
}

/**
 * Parses a JSON body (empty means `{}`); malformed JSON or UTF-8 is 400 with the parser's reason. Numbers keep
 * their text (core/protocol/json/parse-json.ts), so an int64 beyond 2^53 arrives exactly and `1e400` is refused by field.
 */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) return {};
  if (!isUtf8(body)) throw gatewayError(Code.INVALID_ARGUMENT, 'request body is not valid UTF-8');
  const text = body.toString('utf8');
  try {
    checkJsonDepth(text, 'request body');
  } catch (error) {
    throw gatewayError(Code.INVALID_ARGUMENT, (error as RpcError).rawMessage);
  }
  try {
    return parse(text);
  } catch (error) {
    throw gatewayError(Code.INVALID_ARGUMENT, `request body is not valid JSON: ${(error as Error).message}`);
  }
}
