import { Code, codeName } from '../core/index.js';
import { RpcError } from '../core/index.js';

/**
 * Exit codes of `warren` (documented in cli/README.md):
 *
 * | code | meaning |
 * |---|---|
 * | 0 | success |
 * | 1 | the command ran and the answer is "no": a health check not SERVING, protos that do not compile or fail lint |
 * | 2 | usage or bad input, refused before anything was sent: unknown command or flag, bad JSON, unknown method |
 * | 10 + code | a call or broker operation failed with that status code: 14 DEADLINE_EXCEEDED, 15 NOT_FOUND, 22 UNIMPLEMENTED, 24 UNAVAILABLE… |
 * | 130 | interrupted (Ctrl-C) before a call finished |
 */
export const ExitCode = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  INTERRUPTED: 130,
} as const;

/** Offset added to a status code for RPC and broker failures. */
export const RPC_EXIT_BASE = 10;

/** Exit code of a failed call or broker operation with `code`. */
export function rpcExitCode(code: Code): number {
  return RPC_EXIT_BASE + code;
}

/**
 * An error with a chosen exit code. Its status `code` is printed by name
 * (`NOT_FOUND: no method ...`), as for RPC errors; `command` names the
 * command whose `--help` the message points to, for usage errors.
 */
export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    readonly exitCode: number,
    readonly code: Code,
    message: string,
    readonly command?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get codeName(): string {
    return codeName(this.code);
  }
}

/**
 * Wraps an error raised while checking the user's input (JSON, flags,
 * protos) as a usage error (exit 2), keeping its status code and message.
 */
export function inputError(error: unknown, command: string): CliError {
  if (error instanceof CliError) return error;
  const rpc = RpcError.from(error, Code.INVALID_ARGUMENT, error instanceof Error ? error.message : String(error));
  return new CliError(ExitCode.USAGE, rpc.code, rpc.rawMessage, command, { cause: error });
}

/** The exit code, status code and message to report for anything a command threw. */
export function describeFailure(error: unknown): {
  exitCode: number;
  code: Code;
  message: string;
  command: string | undefined;
  metadata: Record<string, string>;
} {
  if (error instanceof CliError)
    return { exitCode: error.exitCode, code: error.code, message: error.message, command: error.command, metadata: {} };
  if (error instanceof RpcError) {
    return {
      exitCode: rpcExitCode(error.code),
      code: error.code,
      message: error.rawMessage,
      command: undefined,
      metadata: error.metadata,
    };
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { exitCode: ExitCode.FAILED, code: Code.INTERNAL, message, command: undefined, metadata: {} };
}
