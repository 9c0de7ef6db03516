/**
 * The `google.api.http` annotation of a method, flattened: the main binding
 * and each of its `additional_bindings` become one {@link HttpRule} each, in
 * declaration order (see google/api/http.proto for the full semantics).
 */

/** One HTTP binding of a method. */
export interface HttpRule {
  /** Upper-case HTTP method: GET, PUT, POST, DELETE, PATCH or a `custom` kind. */
  readonly method: string;
  /** Path template, e.g. `/v1/things/{id}` or `/v1/{name=shelves/*}:cancel`. */
  readonly path: string;
  /** `""` (no body), `"*"` (the whole request) or the request field the body fills. */
  readonly body: string;
  /** `""` (the whole response) or the response field sent as the body. */
  readonly responseBody: string;
}

const VERBS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/** The option key protobufjs gives the annotation in `parsedOptions`. */
export const HTTP_OPTION = '(google.api.http)';

/**
 * Reads the rules out of a protobufjs method's `parsedOptions`. Throws a
 * `TypeError` naming the method for a rule without a method and path, or one
 * with nested additional bindings (forbidden by http.proto).
 */
export function readHttpRules(
  where: string,
  parsedOptions: readonly Record<string, unknown>[] | undefined,
): HttpRule[] {
  const rules: HttpRule[] = [];
  for (const option of parsedOptions ?? []) {
    if (!Object.hasOwn(option, HTTP_OPTION)) continue;
    const main = option[HTTP_OPTION] as Record<string, unknown>;
    rules.push(readOne(where, main));
    const extra = main['additional_bindings'];
    for (const binding of extra === undefined ? [] : Array.isArray(extra) ? extra : [extra]) {
      if (Object.hasOwn(binding as object, 'additional_bindings'))
        throw new TypeError(`${where}: additional_bindings must not nest`);
      rules.push(readOne(where, binding as Record<string, unknown>));
    }
  }
  return rules;
}

function readOne(where: string, rule: Record<string, unknown>): HttpRule {
  const body = stringOf(rule['body']);
  const responseBody = stringOf(rule['response_body']);
  for (const verb of VERBS) {
    const path = rule[verb];
    if (typeof path === 'string') return { method: verb.toUpperCase(), path, body, responseBody };
  }
  const custom = rule['custom'] as { kind?: unknown; path?: unknown } | undefined;
  if (custom && typeof custom.kind === 'string' && typeof custom.path === 'string') {
    return { method: custom.kind.toUpperCase(), path: custom.path, body, responseBody };
  }
  throw new TypeError(`${where}: google.api.http rule has no method and path (${JSON.stringify(rule)})`);
}

function stringOf(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
