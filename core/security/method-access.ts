import { BinaryReader } from '@bufbuild/protobuf/wire';
import { MethodAccess } from '../../gen/warren/access/v1/access.js';
import type { MethodDefinition } from '../protocol/definition.js';

/** Field number of the `(warren.access.v1.method)` method option. */
export const METHOD_ACCESS_FIELD = 51761;

/** The callers entry meaning "any caller with a broker-validated identity". */
export const ANY_CALLER = '*';

/**
 * The callers a method's `(warren.access.v1.method)` option allows, or
 * `undefined` when the method has no such option.
 *
 * ts-proto (generic definitions) keeps custom method options as raw bytes
 * under `options._unknownFields[<tag>]`, tag = field number << 3 | 2, each
 * entry the length-prefixed option message; several entries (an option set
 * in pieces) merge. Definitions loaded at run time (`loadProtos`) do not
 * carry it: their servers get rules through the policy's `rules` instead.
 */
export function methodCallers(method: MethodDefinition): readonly string[] | undefined {
  const options = method.options as { readonly _unknownFields?: Record<string, unknown> };
  const raw = options._unknownFields?.[String((METHOD_ACCESS_FIELD << 3) | 2)];
  if (!Array.isArray(raw)) return undefined;
  const callers: string[] = [];
  for (const entry of raw) {
    if (!(entry instanceof Uint8Array)) continue;
    const reader = new BinaryReader(entry);
    const length = reader.uint32();
    callers.push(...MethodAccess.decode(reader, length).callers);
  }
  return callers;
}
