/**
 * The `--ca`, `--cert` and `--key` flags of the command being run, kept here
 * (a module with no imports) so cli/main.ts can record them without loading
 * the RPC runtime; cli/broker.ts reads them when it connects.
 */

/** PEM file paths given on the command line. */
export interface TlsFlags {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

let current: TlsFlags = {};

/** Records the flags of this run (strings only; absent flags stay unset). */
export function setTlsFlags(values: { readonly ca?: unknown; readonly cert?: unknown; readonly key?: unknown }): void {
  current = {
    ...(typeof values.ca === 'string' ? { caFile: values.ca } : {}),
    ...(typeof values.cert === 'string' ? { certFile: values.cert } : {}),
    ...(typeof values.key === 'string' ? { keyFile: values.key } : {}),
  };
}

/** The flags recorded by {@link setTlsFlags}. */
export function tlsFlags(): TlsFlags {
  return current;
}
