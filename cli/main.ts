/**
 * The `warren` command line: a `grpcurl` for a Warren mesh.
 *
 * ```sh
 * npx warren call warren.test.v1.TestService/Echo '{"text": "hi"}'
 * npx warren list
 * npx warren --help
 * ```
 *
 * Run through cli/bin.ts (the package `bin`, compiled to dist/cli/bin.js).
 * See cli/README.md for every command, flag and exit code.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Code } from '../core/index.js';
import { RpcError } from '../core/index.js';
import { commandHelp, parseCommandLine, type Command } from './command.js';
import { COMMANDS } from './commands.js';
import { CliError, describeFailure, ExitCode } from './exit-codes.js';
import { createOutput, formatTable } from './output.js';
import { setTlsFlags } from './tls-flags.js';

const GROUPS = new Set(
  COMMANDS.filter((command) => command.name.includes(' ')).map((command) => command.name.split(' ')[0]!),
);

function topHelp(): string {
  const rows = COMMANDS.map((command) => [`  ${command.name}`, command.summary]);
  return [
    'Usage: warren <command> [arguments] [flags]',
    '',
    'Typed RPC over RabbitMQ, from the terminal: call services, see what is up, tail events, replay dead letters.',
    '',
    'Commands:',
    ...formatTable(rows),
    '',
    'Every command takes --help, --json (machine-readable output) and, when it talks to the broker,',
    '--url (default $AMQP_URL, else amqp://guest:guest@127.0.0.1:5672); contracts come from --proto (default ./proto).',
    '',
    'Exit codes: 0 ok; 1 a negative answer (not SERVING, lint failed); 2 bad usage or input;',
    '10 + status code when a call or the broker fails (14 DEADLINE_EXCEEDED, 24 UNAVAILABLE); 130 interrupted.',
    '',
    "Run 'warren <command> --help' for a command's flags and examples.",
    '',
  ].join('\n');
}

function groupHelp(group: string): string {
  const rows = COMMANDS.filter((command) => command.name.startsWith(`${group} `)).map((command) => [
    `  ${command.name}`,
    command.summary,
  ]);
  return [`Usage: warren ${group} <subcommand> [arguments] [flags]`, '', 'Subcommands:', ...formatTable(rows), ''].join(
    '\n',
  );
}

function version(): string {
  // cli/main.ts in the repository, dist/cli/main.js in the package: the package.json is one or two levels up
  const at = existsSync(new URL('../package.json', import.meta.url)) ? '../package.json' : '../../package.json';
  const pkg = JSON.parse(readFileSync(new URL(at, import.meta.url), 'utf8')) as { version: string };
  return `warren ${pkg.version}\n`;
}

/** Finds the command named by the first one or two words; the rest are its arguments. */
function findCommand(argv: readonly string[]): { command: Command<any>; args: string[] } {
  const [first = '', second = ''] = argv;
  const exact =
    COMMANDS.find((command) => command.name === `${first} ${second}`) ??
    COMMANDS.find((command) => command.name === first);
  if (exact) return { command: exact, args: argv.slice(exact.name.split(' ').length) };
  if (GROUPS.has(first)) {
    const known = COMMANDS.filter((command) => command.name.startsWith(`${first} `))
      .map((command) => command.name.split(' ')[1])
      .join(', ');
    const what = second === '' ? 'missing subcommand' : `unknown subcommand ${JSON.stringify(second)}`;
    throw new CliError(ExitCode.USAGE, Code.INVALID_ARGUMENT, `${what} of ${first} (one of: ${known})`, first);
  }
  throw new CliError(ExitCode.USAGE, Code.INVALID_ARGUMENT, `unknown command ${JSON.stringify(first)}`, '');
}

/** Runs one command line and resolves the exit code. */
async function main(argv: readonly string[], signal: AbortSignal, interrupted: () => boolean): Promise<number> {
  const out = createOutput({ json: argv.includes('--json') });
  const [first] = argv;
  let current: string | undefined;
  if (first === undefined) {
    process.stderr.write(topHelp());
    return ExitCode.USAGE;
  }
  if (first === '--help' || first === '-h' || (first === 'help' && argv.length === 1)) {
    process.stdout.write(topHelp());
    return ExitCode.OK;
  }
  if (first === '--version') {
    process.stdout.write(version());
    return ExitCode.OK;
  }
  try {
    if (first === 'help') {
      const name = argv.slice(1).join(' ');
      if (GROUPS.has(name)) process.stdout.write(groupHelp(name));
      else process.stdout.write(commandHelp(findCommand(argv.slice(1)).command));
      return ExitCode.OK;
    }
    if (GROUPS.has(first) && (argv[1] === '--help' || argv[1] === '-h')) {
      process.stdout.write(groupHelp(first));
      return ExitCode.OK;
    }
    const { command, args } = findCommand(argv);
    current = command.name;
    const { positionals, values } = parseCommandLine(command, args);
    if (values['help'] === true) {
      process.stdout.write(commandHelp(command));
      return ExitCode.OK;
    }
    setTlsFlags(values);
    const module = await command.load();
    return await module.run({ positionals, values, out, signal });
  } catch (error) {
    if (interrupted()) {
      out.error({ code: Code.CANCELLED, message: 'interrupted' });
      return ExitCode.INTERRUPTED;
    }
    const failure = describeFailure(error);
    const helpOf = failure.command ?? (failure.exitCode === ExitCode.USAGE ? current : undefined);
    const hint =
      helpOf === undefined || out.json
        ? undefined
        : `Run 'warren ${helpOf === '' ? '' : `${helpOf} `}--help' for usage.`;
    out.error({ code: failure.code, message: failure.message, metadata: failure.metadata, hint });
    if (
      failure.code === Code.INTERNAL &&
      failure.exitCode === ExitCode.FAILED &&
      process.env['WARREN_DEBUG'] &&
      error instanceof Error
    ) {
      process.stderr.write(`${error.stack ?? ''}\n`);
    }
    return failure.exitCode;
  }
}

const controller = new AbortController();
let interrupts = 0;
const onSignal = (): void => {
  interrupts++;
  if (interrupts > 1) process.exit(ExitCode.INTERRUPTED);
  controller.abort(new RpcError(Code.CANCELLED, 'interrupted'));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
// The reader went away (`warren events tail | head -1`): stop as on Ctrl-C, without the noise.
let stdoutClosed = false;
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE' && !stdoutClosed) throw error;
  stdoutClosed = true;
  controller.abort(new RpcError(Code.CANCELLED, 'stdout was closed'));
});

const exitCode = await main(process.argv.slice(2), controller.signal, () => interrupts > 0);
process.exitCode = exitCode;
// Everything is closed by now; should a stray handle keep the loop alive, do not hang the shell.
setTimeout(() => process.exit(exitCode), 2_000).unref();
