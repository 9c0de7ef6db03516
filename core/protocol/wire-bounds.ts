import { Code } from './code.js';
import { RpcError } from './rpc-error.js';

/**
 * Size and shape limits every Warren peer applies to what it reads and
 * writes (PROTOCOL.md §2.2, §3, wire version 2), so no input can make a
 * reply unencodable (amqplib refuses a header table over 64 KiB) or blow the
 * JavaScript stack (recursive codecs on deeply nested JSON).
 */

/** Longest status message (UTF-8 bytes) a reply carries; longer ones are truncated, never refused. */
export const MAX_STATUS_MESSAGE_BYTES = 1024;

/** Deepest nesting of objects and arrays accepted in a JSON body (protobuf's own recursion limit is 100). */
export const MAX_JSON_DEPTH = 64;

const ELLIPSIS = '…';

/**
 * `message` cut to at most {@link MAX_STATUS_MESSAGE_BYTES} UTF-8 bytes (on a
 * character boundary, with `…` marking the cut). Why: handlers echo caller
 * input into error messages (`no product "<sku>"`), and the message travels
 * in the `warren-message` header, which must stay encodable.
 */
export function boundStatusMessage(message: string, maxBytes = MAX_STATUS_MESSAGE_BYTES): string {
  if (message.length * 3 <= maxBytes || Buffer.byteLength(message) <= maxBytes) return message;
  const room = maxBytes - Buffer.byteLength(ELLIPSIS);
  let bytes = 0;
  let end = 0;
  for (const char of message) {
    const size = Buffer.byteLength(char);
    if (bytes + size > room) break;
    bytes += size;
    end += char.length;
  }
  return `${message.slice(0, end)}${ELLIPSIS}`;
}

/**
 * Throws INVALID_ARGUMENT when the JSON text nests objects/arrays deeper than
 * `maxDepth` (default {@link MAX_JSON_DEPTH}). A linear scan of the text
 * (brackets inside strings ignored) run before `JSON.parse`, so a body like
 * `[[[[…]]]]` never reaches a recursive decoder and never answers "Maximum
 * call stack size exceeded". `what` names the body in the message.
 */
export function checkJsonDepth(text: string, what: string, maxDepth = MAX_JSON_DEPTH): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth)
        throw new RpcError(
          Code.INVALID_ARGUMENT,
          `${what} nests JSON objects or arrays deeper than ${maxDepth} levels`,
        );
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
}
