import { describe, expect, it } from 'vitest';
import { Code } from '../core/index.js';
import { commandHelp, parseCommandLine, type Command, type OptionSpecs } from './command.js';
import { COMMANDS } from './commands.js';
import { CliError, ExitCode } from './exit-codes.js';

const call = COMMANDS.find((command) => command.name === 'call')!;

function usageError(run: () => unknown): CliError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    return error as CliError;
  }
  throw new Error('expected a usage error');
}

describe('parseCommandLine', () => {
  it('reads flags anywhere, short forms and repeated flags', () => {
    const parsed = parseCommandLine(call, [
      '-H',
      'a:1',
      'pkg.S/M',
      '--timeout',
      '2s',
      '{}',
      '--header',
      'b:2',
      '--json',
    ]);
    expect(parsed.positionals).toEqual(['pkg.S/M', '{}']);
    expect(parsed.values).toMatchObject({ header: ['a:1', 'b:2'], timeout: '2s', json: true });
  });

  it('refuses unknown flags, missing values and a wrong number of arguments as usage errors', () => {
    const unknown = usageError(() => parseCommandLine(call, ['pkg.S/M', '--colour', 'red']));
    expect([unknown.exitCode, unknown.code, unknown.command]).toEqual([ExitCode.USAGE, Code.INVALID_ARGUMENT, 'call']);
    expect(unknown.message).toBe("Unknown option '--colour'");
    expect(usageError(() => parseCommandLine(call, ['pkg.S/M', '--timeout'])).message).toMatch(/--timeout/);
    expect(usageError(() => parseCommandLine(call, [])).message).toBe(
      'missing argument: warren call <pkg.Service/Method> [<json> | -] [flags]',
    );
    expect(usageError(() => parseCommandLine(call, ['a/B', '{}', 'extra'])).message).toMatch(
      /^unexpected argument "extra"/,
    );
  });

  it('lets --help through without the arguments', () => {
    expect(parseCommandLine(call, ['--help']).values.help).toBe(true);
  });
});

describe('commandHelp', () => {
  it.each(COMMANDS.map((command) => [command.name, command] as const))(
    '%s: usage, summary, every flag, exit codes, examples',
    (_name, command: Command<any>) => {
      const help = commandHelp(command);
      expect(help.startsWith(`Usage: warren ${command.name} ${command.usage}`.trimEnd())).toBe(true);
      expect(help).toContain(command.summary);
      for (const [name, spec] of Object.entries(command.options as OptionSpecs)) {
        expect(help).toMatch(new RegExp(`${spec.short === undefined ? ' {4}' : `-${spec.short}, `}--${name}\\b`));
      }
      expect(help).toContain('-h, --help');
      expect(help).toContain('--json');
      expect(help).toMatch(/Exit codes: 0 /);
      expect(help).toContain('Examples:\n  warren ');
    },
  );
});
