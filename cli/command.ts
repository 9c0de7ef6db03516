import { parseArgs } from 'node:util';
import { Code } from '../core/index.js';
import { CliError, ExitCode } from './exit-codes.js';
import type { Output } from './output.js';

/** One flag of a command, as `node:util` parseArgs takes it plus what `--help` shows. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** Repeatable (`-H a:1 -H b:2`): the value is a list. */
  readonly multiple?: boolean;
  /** Placeholder shown in help, e.g. `<duration>`. */
  readonly valueName?: string;
  readonly description: string;
}

/** Flags of a command by long name. */
export type OptionSpecs = { readonly [name: string]: OptionSpec };

/** Parsed flag values, typed from the specs. Absent flags are `undefined`. */
export type OptionValues<O extends OptionSpecs> = {
  readonly [K in keyof O]?: O[K]['type'] extends 'boolean'
    ? boolean
    : O[K]['multiple'] extends true
      ? string[]
      : string;
};

/** What a command's implementation receives. */
export interface CommandInput<O extends OptionSpecs> {
  readonly positionals: readonly string[];
  readonly values: OptionValues<O>;
  readonly out: Output;
  /** Aborted on the first Ctrl-C (SIGINT) or SIGTERM. */
  readonly signal: AbortSignal;
}

/** A command implementation module: `run` resolves the exit code. */
export interface CommandModule<O extends OptionSpecs> {
  run(input: CommandInput<O>): Promise<number>;
}

/**
 * A command's surface: name, help and flags, plus a loader for its
 * implementation, imported only when the command runs (so `--help` and
 * `generate` start without loading the RPC runtime).
 */
export interface Command<O extends OptionSpecs = OptionSpecs> {
  /** `call`, or `events tail` for a subcommand. */
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Arguments after the name, e.g. `<pkg.Service/Method> [<json> | -]`. */
  readonly usage: string;
  /** Paragraphs explaining what it does, its output and its exit codes. */
  readonly details: string;
  /** Allowed number of positional arguments, inclusive. */
  readonly positionals: readonly [min: number, max: number];
  readonly options: O;
  readonly examples: readonly string[];
  readonly load: () => Promise<CommandModule<O>>;
}

/** Result of {@link parseCommandLine}. */
export interface ParsedCommandLine<O extends OptionSpecs> {
  readonly positionals: string[];
  readonly values: OptionValues<O>;
}

/**
 * Parses a command's arguments strictly: unknown flags, a missing flag value
 * and a wrong number of positionals are usage errors (exit 2) naming the
 * problem. `--help` skips the positional count check.
 */
export function parseCommandLine<O extends OptionSpecs>(
  command: Command<O>,
  args: readonly string[],
): ParsedCommandLine<O> {
  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, spec] of Object.entries(command.options)) {
    config[name] = {
      type: spec.type,
      ...(spec.short === undefined ? {} : { short: spec.short }),
      ...(spec.multiple ? { multiple: true } : {}),
    };
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...args], options: config, strict: true, allowPositionals: true });
  } catch (error) {
    throw new CliError(
      ExitCode.USAGE,
      Code.INVALID_ARGUMENT,
      `${(error as Error).message.replace(/\. To specify a positional argument.*$/s, '')}`,
      command.name,
    );
  }
  const values = parsed.values as OptionValues<O>;
  if (parsed.values['help'] !== true) {
    const [min, max] = command.positionals;
    const count = parsed.positionals.length;
    if (count < min)
      throw new CliError(
        ExitCode.USAGE,
        Code.INVALID_ARGUMENT,
        `missing argument: warren ${command.name} ${command.usage}`,
        command.name,
      );
    if (count > max) {
      throw new CliError(
        ExitCode.USAGE,
        Code.INVALID_ARGUMENT,
        `unexpected argument ${JSON.stringify(parsed.positionals[max])}: warren ${command.name} ${command.usage}`,
        command.name,
      );
    }
  }
  return { positionals: parsed.positionals, values };
}

/** The `--help` text of a command. */
export function commandHelp(command: Command): string {
  const rows = Object.entries(command.options).map(([name, spec]) => {
    const flag = `${spec.short === undefined ? '    ' : `-${spec.short}, `}--${name}${spec.type === 'string' ? ` ${spec.valueName ?? '<value>'}` : ''}`;
    return [flag, spec.description + (spec.multiple ? ' Repeatable.' : '')] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length));
  const lines = [
    `Usage: warren ${command.name} ${command.usage}`.trimEnd(),
    '',
    command.summary,
    '',
    command.details.trim(),
    '',
    'Flags:',
    ...rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`),
  ];
  if (command.examples.length > 0) lines.push('', 'Examples:', ...command.examples.map((example) => `  ${example}`));
  return `${lines.join('\n')}\n`;
}
