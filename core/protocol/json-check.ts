/**
 * Strictness for proto3 JSON bodies decoded by generated (ts-proto) codecs.
 *
 * Why: ts-proto's `fromJSON` coerces whatever it is given (`{"count": {}}`
 * becomes NaN, `{"name": 5}` becomes "5", `{"tags": "x"}` becomes []), so a
 * wrong body would run the handler with values the caller never sent. The
 * generated codecs carry no field metadata, so the check compares the JSON
 * the caller sent with what the decoded message encodes back to: every
 * value must read back as itself, up to the spellings proto3 JSON allows
 * (numbers as strings, enum numbers, base64 with or without padding or
 * url-safe, timestamps with other precision, snake_case keys, null for a
 * default). Unknown fields are ignored, as the binary format ignores them,
 * so an older server keeps accepting a newer client.
 */

/** Describes the first value of `sent` that the decoded message does not hold; undefined when it is faithful. */
export function jsonMismatch(sent: unknown, encodedBack: unknown, decoded: unknown, path = ''): string | undefined {
  if (isPlainObject(sent)) {
    if (encodedBack !== undefined && !isPlainObject(encodedBack)) return wrong(path, sent, encodedBack);
    for (const [key, value] of Object.entries(sent)) {
      const name = camel(key);
      const field = `${path}${path ? '.' : ''}${key}`;
      if (isPlainObject(decoded) && !(name in decoded) && !(key in decoded)) continue; // unknown field
      const back = isPlainObject(encodedBack) ? (encodedBack[name] ?? encodedBack[key]) : undefined;
      const held = isPlainObject(decoded) ? (decoded[name] ?? decoded[key]) : undefined;
      const problem = back === undefined ? defaultMismatch(value, held, field) : jsonMismatch(value, back, held, field);
      if (problem) return problem;
    }
    return undefined;
  }
  if (Array.isArray(sent)) {
    if (sent.length === 0 && encodedBack === undefined) return undefined;
    if (!Array.isArray(encodedBack) || encodedBack.length !== sent.length) return wrong(path, sent, encodedBack);
    for (let i = 0; i < sent.length; i++) {
      const problem = jsonMismatch(sent[i], encodedBack[i], Array.isArray(decoded) ? decoded[i] : undefined, `${path}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  }
  return sameScalar(sent, encodedBack) ? undefined : wrong(path, sent, encodedBack);
}

/** A value the decoded message omits when encoding: it must be a default (proto3 JSON leaves defaults out). */
function defaultMismatch(value: unknown, decoded: unknown, path: string): string | undefined {
  if (value === null || value === '' || value === 0 || value === false || value === '0') return undefined;
  if (Array.isArray(value)) return value.length === 0 ? undefined : wrong(path, value, undefined);
  if (isPlainObject(value)) return jsonMismatch(value, undefined, decoded, path);
  // an enum's zero value is left out by name ("STATUS_UNSPECIFIED"), indistinguishable here from an enum-shaped string
  if (typeof value === 'string' && ENUM_NAME.test(value)) return undefined;
  return wrong(path, value, undefined);
}

const ENUM_NAME = /^[A-Z][A-Z0-9_]*$/;
const INTEGER = /^-?\d+$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT/;

function sameScalar(sent: unknown, back: unknown): boolean {
  if (Object.is(sent, back) || sent === back) return true;
  if (typeof sent === 'string' && typeof back === 'number') {
    if (INTEGER.test(sent.trim())) return Number.isInteger(back) && BigInt(sent.trim()) === BigInt(back); // no silent precision loss
    if (sent === 'NaN' || sent === 'Infinity' || sent === '-Infinity') return Object.is(Number(sent), back);
    return sent.trim() !== '' && Number(sent) === back;
  }
  if (typeof sent === 'number' && typeof back === 'string') {
    // an enum given by number reads back as its name
    return Number.isInteger(sent) && ENUM_NAME.test(back) && back !== 'UNRECOGNIZED';
  }
  if (typeof sent === 'string' && typeof back === 'string') {
    if (TIMESTAMP.test(sent) && TIMESTAMP.test(back)) return Date.parse(sent) === Date.parse(back);
    if (BASE64.test(sent) && BASE64.test(back)) return Buffer.from(sent, 'base64').equals(Buffer.from(back, 'base64'));
  }
  return false;
}

function wrong(path: string, sent: unknown, back: unknown): string {
  const shown = JSON.stringify(sent)?.slice(0, 60) ?? String(sent);
  const read = back === undefined ? 'it would be dropped' : `it would read as ${JSON.stringify(back)?.slice(0, 60) ?? String(back)}`;
  return `${path || 'the body'}: ${shown} is not a valid value for this field (${read})`;
}

function camel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array) && !(value instanceof Date);
}
