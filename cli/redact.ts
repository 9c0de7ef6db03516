/**
 * Metadata keys whose values are credentials. Their values are shown as
 * `***` in anything the CLI prints about a call (`--verbose`), so a token
 * passed with `-H authorization:...` does not end up in terminal scrollback
 * or CI logs.
 */
const SENSITIVE = /authorization|cookie|token|secret|passw|api-?key|credential|session/i;

/** A copy of `metadata` with credential values replaced by `***`. */
export function redactMetadata(metadata: Readonly<Record<string, string>>): Record<string, string> {
  const shown: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) shown[key] = SENSITIVE.test(key) ? '***' : value;
  return shown;
}
