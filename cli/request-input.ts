import { parse } from 'lossless-json';
import { Code, type MessageType } from '../core/index.js';
import { CliError, ExitCode, inputError } from './exit-codes.js';

/**
 * Reads all of stdin as UTF-8 (the request given as `-`). On a terminal a
 * note says how to end the input.
 */
export async function readStdin(note: (text: string) => void): Promise<string> {
  if (process.stdin.isTTY) note('Reading the request from stdin; end it with Ctrl-D.');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Turns the request text into a message of `type`: it must be a JSON
 * object, then proto3 JSON mapped strictly (an unknown field or a wrong type
 * names the field). Every failure is a usage error (exit 2) with status
 * INVALID_ARGUMENT: nothing has been sent yet.
 */
export function parseRequest(
  type: MessageType & { readonly fullName?: string },
  text: string,
  command: string,
): unknown {
  const name = type.fullName ?? 'the request message';
  let json: unknown;
  try {
    json = parse(text); // numbers keep their text: an int64 beyond 2^53 is sent exactly
  } catch (error) {
    throw new CliError(
      ExitCode.USAGE,
      Code.INVALID_ARGUMENT,
      `the request is not valid JSON: ${(error as Error).message}`,
      command,
      { cause: error },
    );
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new CliError(
      ExitCode.USAGE,
      Code.INVALID_ARGUMENT,
      `the request must be a JSON object with the fields of ${name}`,
      command,
    );
  }
  try {
    return type.fromJSON(json);
  } catch (error) {
    throw inputError(error, command);
  }
}
