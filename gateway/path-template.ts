/**
 * google.api.http path templates (grammar from google/api/http.proto):
 *
 * ```text
 * Template = "/" Segments [ Verb ] ;
 * Segments = Segment { "/" Segment } ;
 * Segment  = "*" | "**" | LITERAL | Variable ;
 * Variable = "{" FieldPath [ "=" Segments ] "}" ;
 * FieldPath = IDENT { "." IDENT } ;
 * Verb     = ":" LITERAL ;
 * ```
 *
 * `{id}` is `{id=*}`: one segment. `**` matches the rest of the path and
 * must come last. Single-segment values are percent-decoded; multi-segment
 * values keep their slashes and leave `%2F` encoded, as http.proto says.
 */

/** One compiled segment. */
type Segment =
  { readonly kind: 'literal'; readonly value: string } | { readonly kind: 'one' } | { readonly kind: 'rest' };

/** A variable: which request field it sets and which segments it spans. */
export interface TemplateVariable {
  /** Field path in the request message, proto names: `['thing', 'id']`. */
  readonly fieldPath: readonly string[];
  readonly start: number;
  /** Exclusive end; for a variable ending in `**`, the rest of the path. */
  readonly end: number;
  /** The variable spans more than one segment (or `**`). */
  readonly multi: boolean;
}

/** A parsed template, ready to match. */
export interface PathTemplate {
  readonly source: string;
  readonly segments: readonly Segment[];
  readonly variables: readonly TemplateVariable[];
  /** The custom verb after `:`, or `''`. */
  readonly verb: string;
  /** Sort key: more literal segments first, then verbs, then no `**`. */
  readonly specificity: number;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LITERAL = /^[A-Za-z0-9\-._~!$&'()+,;=@%]+$/;

/** Parses a template; throws a `TypeError` saying what is wrong. */
export function parsePathTemplate(source: string): PathTemplate {
  if (!source.startsWith('/')) throw new TypeError(`path template ${JSON.stringify(source)} must start with "/"`);
  let body = source.slice(1);
  let verb = '';
  const lastSlash = body.lastIndexOf('/');
  const lastBrace = body.lastIndexOf('}');
  const colon = body.lastIndexOf(':');
  if (colon > lastSlash && colon > lastBrace) {
    verb = body.slice(colon + 1);
    body = body.slice(0, colon);
    if (!LITERAL.test(verb)) throw new TypeError(`path template ${JSON.stringify(source)} has an invalid verb`);
  }
  const segments: Segment[] = [];
  const variables: TemplateVariable[] = [];
  for (const part of splitTopLevel(body, source)) {
    if (part.startsWith('{')) {
      const inner = part.slice(1, -1);
      const eq = inner.indexOf('=');
      const fieldPath = (eq < 0 ? inner : inner.slice(0, eq)).split('.');
      if (!fieldPath.every((name) => IDENT.test(name)))
        throw new TypeError(`path template ${JSON.stringify(source)}: bad field path in ${part}`);
      const start = segments.length;
      const inside = eq < 0 ? ['*'] : inner.slice(eq + 1).split('/');
      for (const piece of inside) segments.push(segmentOf(piece, source));
      const multi = inside.length > 1 || inside.includes('**');
      variables.push({ fieldPath, start, end: segments.length, multi });
    } else {
      segments.push(segmentOf(part, source));
    }
  }
  segments.forEach((segment, index) => {
    if (segment.kind === 'rest' && index !== segments.length - 1)
      throw new TypeError(`path template ${JSON.stringify(source)}: "**" must be the last segment`);
  });
  const literals = segments.filter((segment) => segment.kind === 'literal').length;
  const hasRest = segments.some((segment) => segment.kind === 'rest');
  return { source, segments, variables, verb, specificity: literals * 4 + (verb === '' ? 0 : 2) + (hasRest ? 0 : 1) };
}

function splitTopLevel(body: string, source: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of body) {
    if (char === '{') depth++;
    if (char === '}') depth--;
    if (depth < 0 || depth > 1) throw new TypeError(`path template ${JSON.stringify(source)}: unbalanced braces`);
    if (char === '/' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  if (depth !== 0) throw new TypeError(`path template ${JSON.stringify(source)}: unbalanced braces`);
  parts.push(current);
  return parts;
}

function segmentOf(piece: string, source: string): Segment {
  if (piece === '*') return { kind: 'one' };
  if (piece === '**') return { kind: 'rest' };
  if (!LITERAL.test(piece))
    throw new TypeError(`path template ${JSON.stringify(source)}: bad segment ${JSON.stringify(piece)}`);
  return { kind: 'literal', value: piece };
}

/** Raised when a matched path has a malformed percent-escape. */
export class PathDecodeError extends Error {
  override readonly name = 'PathDecodeError';
}

/**
 * Matches a raw URL path (no query) against a template. Returns the decoded
 * variable values keyed by dotted field path, or `undefined`.
 */
export function matchPathTemplate(template: PathTemplate, rawPath: string): Map<string, string> | undefined {
  let path = rawPath;
  if (template.verb !== '') {
    if (!path.endsWith(`:${template.verb}`)) return undefined;
    path = path.slice(0, -template.verb.length - 1);
  }
  if (!path.startsWith('/')) return undefined;
  const parts = path.slice(1).split('/');
  const { segments } = template;
  const last = segments[segments.length - 1];
  const rest = last?.kind === 'rest';
  if (rest ? parts.length < segments.length - 1 : parts.length !== segments.length) return undefined;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment.kind === 'rest') break;
    const part = parts[i]!;
    if (segment.kind === 'literal' ? part !== segment.value : part === '') return undefined;
  }
  const values = new Map<string, string>();
  for (const variable of template.variables) {
    const end = rest && variable.end === segments.length ? parts.length : variable.end;
    const span = parts.slice(variable.start, end);
    values.set(
      variable.fieldPath.join('.'),
      variable.multi ? span.map(decodeKeepingSlashes).join('/') : decode(span[0] ?? ''),
    );
  }
  return values;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new PathDecodeError(`path segment ${JSON.stringify(part)} is not valid percent-encoding`);
  }
}

function decodeKeepingSlashes(part: string): string {
  return part.split(/%2F/i).map(decode).join('%2F');
}
