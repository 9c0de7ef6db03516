import { createMethodCaller } from '../core/tooling.js';
import { validateMetadata } from '../core/protocol/index.js';
import { type Interceptor, type Metadata } from '../core/index.js';
import { brokerUrl, cliLogger, openTransport } from './broker.js';
import type { CallInput } from './commands.js';
import { loadContracts } from './contracts.js';
import { ExitCode, inputError } from './exit-codes.js';
import { formatDuration, parseDuration, parseHeaders } from './flags.js';
import { redactMetadata } from './redact.js';
import { parseRequest, readStdin } from './request-input.js';

/** Default deadline of `warren call`: the runtime's default call timeout. */
export const DEFAULT_CALL_TIMEOUT = '10s';

/**
 * `warren call <pkg.Service/Method> [<json> | -]`: everything the user typed
 * is checked before connecting (flags, metadata, method, JSON), so input
 * mistakes exit 2 without touching the broker; then one call, its reply
 * printed as proto3 JSON.
 */
export async function run({ positionals, values, out, signal }: CallInput): Promise<number> {
  const [target = '', requestArg = '{}'] = positionals;
  const timeoutMs = parseDuration(values.timeout ?? DEFAULT_CALL_TIMEOUT, '--timeout');
  const metadata: Metadata = parseHeaders(values.header ?? []);
  try {
    validateMetadata(metadata);
  } catch (error) {
    throw inputError(error, 'call');
  }
  const contracts = await loadContracts(values.proto, 'call');
  const { method, info } = contracts.method(target);
  const requestText = requestArg === '-' ? await readStdin((text) => out.note(text)) : requestArg;
  const request = parseRequest(method.requestType, requestText, 'call');

  const transport = await openTransport(brokerUrl(values.url), cliLogger());
  let replyMetadata: Metadata = {};
  const captureReplyMetadata: Interceptor = (next) => async (call) => {
    const result = await next(call);
    replyMetadata = result.metadata;
    return result;
  };
  const verbose = values.verbose === true;
  const started = performance.now();
  const elapsed = (): string => `${(performance.now() - started).toFixed(1)} ms`;
  try {
    const caller = createMethodCaller(info, transport, { interceptors: [captureReplyMetadata] });
    if (verbose)
      out.note(
        `> ${info.path} via ${transport.url}, deadline ${formatDuration(timeoutMs)}, metadata ${JSON.stringify(redactMetadata(metadata))}`,
      );
    const response = await caller(request, { timeoutMs, metadata, signal });
    if (verbose) out.note(`< OK in ${elapsed()}, reply metadata ${JSON.stringify(redactMetadata(replyMetadata))}`);
    out.value(method.responseType.toJSON(response));
    return ExitCode.OK;
  } catch (error) {
    if (verbose) out.note(`< failed after ${elapsed()}`);
    throw error;
  } finally {
    await transport.close();
  }
}
