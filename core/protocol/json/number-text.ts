/**
 * Exact reading of JSON number text for proto3 JSON, without a lossy double.
 *
 * Why: `JSON.parse` turns `9007199254740993` into 9007199254740992 before any
 * check can see it, so 64-bit fields read the number's text instead. The
 * accepted spellings are exactly JSON's number grammar (RFC 8259), for
 * numbers and for quoted numbers alike: no sign `+`, no leading zeros, no hex,
 * no spaces, no empty string. An integer field accepts a fraction or an
 * exponent only when the value is integral (`1e2`, `100.0`), as the proto3
 * JSON mapping says.
 */

const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** The integer a JSON number text denotes, or a reason it is not one. */
export function integerOfText(text: string): bigint | string {
  const match = JSON_NUMBER.exec(text);
  if (!match) return 'not a decimal number';
  const negative = text.startsWith('-');
  const unsigned = negative ? text.slice(1) : text;
  const [mantissa] = unsigned.split(/[eE]/, 1) as [string];
  const [whole, fraction = ''] = mantissa.split('.') as [string, string?];
  const exponentText = match[2];
  // an exponent beyond any 64-bit value's digits cannot be integral and in range unless the digits are all zero
  const exponent = exponentText === undefined ? 0 : Number(exponentText);
  const digits = (whole + fraction).replace(/^0+(?=\d)/, '');
  if (/^0+$/.test(digits)) return 0n;
  const shift = exponent - fraction.length; // value = digits × 10^shift
  if (shift >= 0) {
    if (shift + digits.length > 40) return 'out of range';
    return (negative ? -1n : 1n) * BigInt(digits) * 10n ** BigInt(shift);
  }
  const dropped = -shift >= digits.length ? digits : digits.slice(digits.length + shift);
  if (!/^0*$/.test(dropped)) return 'not an integer';
  const kept = digits.slice(0, digits.length + shift);
  return (negative ? -1n : 1n) * BigInt(kept === '' ? '0' : kept);
}

/** True when `text` is a JSON number (the grammar floats accept, quoted or not). */
export function isJsonNumberText(text: string): boolean {
  return JSON_NUMBER.test(text);
}

/** Inclusive ranges of the integer scalar types, by proto type name: [min, max, min as a number, max as a number]. */
export const INTEGER_RANGES: Readonly<Record<string, readonly [bigint, bigint, number, number]>> = {
  int32: range(-(2n ** 31n), 2n ** 31n - 1n),
  sint32: range(-(2n ** 31n), 2n ** 31n - 1n),
  sfixed32: range(-(2n ** 31n), 2n ** 31n - 1n),
  uint32: range(0n, 2n ** 32n - 1n),
  fixed32: range(0n, 2n ** 32n - 1n),
  int64: range(-(2n ** 63n), 2n ** 63n - 1n),
  sint64: range(-(2n ** 63n), 2n ** 63n - 1n),
  sfixed64: range(-(2n ** 63n), 2n ** 63n - 1n),
  uint64: range(0n, 2n ** 64n - 1n),
  fixed64: range(0n, 2n ** 64n - 1n),
};

function range(min: bigint, max: bigint): readonly [bigint, bigint, number, number] {
  return [min, max, Number(min), Number(max)];
}
