import { parse } from 'lossless-json';
import { Code } from '../code.js';
import { RpcError } from '../rpc-error.js';
import { checkJsonDepth } from '../wire-bounds.js';

/**
 * Parses a UTF-8 JSON body keeping every number as its text (a
 * `LosslessNumber`), for the proto3 JSON reader (normalize-json.ts).
 *
 * Why: `JSON.parse` rounds `9007199254740993` to ...992 and `1e400` to
 * Infinity before anything can check them. lossless-json is strict JSON
 * (RFC 8259: no comments, trailing commas, single quotes, leading zeros),
 * refuses duplicate keys, and keeps `__proto__` as a plain key.
 * Invalid UTF-8 or JSON, or nesting deeper than MAX_JSON_DEPTH, throws
 * INVALID_ARGUMENT saying what was wrong.
 */
export function parseJsonText(body: Uint8Array | string, what: string): unknown {
  let text: string;
  try {
    text = typeof body === 'string' ? body : new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch (error) {
    throw new RpcError(Code.INVALID_ARGUMENT, `${what} is not valid UTF-8: ${errorText(error)}`, { cause: error });
  }
  // before any recursive step: a deeply nested body is refused by name, never a stack overflow
  checkJsonDepth(text, what);
  try {
    return parse(text);
  } catch (error) {
    throw new RpcError(Code.INVALID_ARGUMENT, `${what} is not valid JSON: ${errorText(error)}`, { cause: error });
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
