import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Code } from '../core/index.js';
import type { GenerateInput } from './commands.js';
import { CliError, ExitCode } from './exit-codes.js';
import type { Output } from './output.js';

/** buf's exit code when it found problems in the files (as opposed to a crash or bad config). */
const BUF_FILE_ANNOTATIONS = 100;

/** One problem buf found, from `--error-format json`. */
export interface ProtoProblem {
  readonly path: string;
  readonly line: number;
  readonly column: number;
  /** `COMPILE` for a compile error, else the lint rule broken, e.g. `MESSAGE_PASCAL_CASE`. */
  readonly type: string;
  readonly message: string;
}

interface BufRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The buf binary of the @bufbuild/buf package this repository installs. */
function bufBinary(): string {
  return join(dirname(createRequire(import.meta.url).resolve('@bufbuild/buf/package.json')), 'bin', 'buf');
}

/** Runs buf in `root`, with node_modules/.bin and bin/ on PATH so `local:` plugins (protoc-gen-ts_proto, protoc-gen-warren-descriptors.mjs) are found. */
function runBuf(args: readonly string[], root: string): Promise<BufRun> {
  const packageBin = fileURLToPath(new URL('../node_modules/.bin', import.meta.url));
  // bin/ of this package: protoc-gen-warren-descriptors.mjs (the descriptor set Warren's JSON codec reads)
  const ownBin = fileURLToPath(new URL('../bin', import.meta.url));
  const path = [join(root, 'node_modules', '.bin'), packageBin, ownBin, process.env['PATH'] ?? ''].join(delimiter);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(bufBinary(), [...args], {
      cwd: root,
      env: { ...process.env, PATH: path },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) =>
      reject(
        new CliError(ExitCode.FAILED, Code.FAILED_PRECONDITION, `cannot run buf: ${error.message}`, undefined, {
          cause: error,
        }),
      ),
    );
    child.on('close', (code, signal) => resolvePromise({ exitCode: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

/** Parses buf's JSON annotations (one object per line); lines that are not one are ignored. */
export function parseProblems(stdout: string): ProtoProblem[] {
  const problems: ProtoProblem[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    try {
      const raw = JSON.parse(line) as Record<string, unknown>;
      problems.push({
        path: String(raw['path'] ?? ''),
        line: Number(raw['start_line'] ?? 0),
        column: Number(raw['start_column'] ?? 0),
        type: String(raw['type'] ?? ''),
        message: String(raw['message'] ?? ''),
      });
    } catch {
      // not an annotation
    }
  }
  return problems;
}

/** `path:line:column: message (RULE)`. */
export function problemText(problem: ProtoProblem): string {
  const where = problem.path === '' ? '' : `${problem.path}:${problem.line}:${problem.column}: `;
  return `${where}${problem.message}${problem.type === 'COMPILE' ? '' : ` (${problem.type})`}`;
}

function fail(out: Output, stage: string, code: Code, message: string, problems: readonly ProtoProblem[]): never {
  if (out.json) out.value({ ok: false, stage, problems });
  throw new CliError(ExitCode.FAILED, code, message);
}

/**
 * `warren generate`: `buf lint` (which compiles first), then `buf generate`,
 * in the workspace `--root`. Lint runs first so nothing is generated from
 * protos that do not compile or break the rules; otherwise the result is
 * `npm run generate`'s.
 */
export async function run({ values, out }: GenerateInput): Promise<number> {
  const root = resolve(values.root ?? '.');
  for (const file of ['buf.yaml', 'buf.gen.yaml']) {
    if (!existsSync(join(root, file))) {
      throw new CliError(
        ExitCode.USAGE,
        Code.INVALID_ARGUMENT,
        `no ${file} in ${root}: not a buf workspace (run it where buf.yaml is, or pass --root)`,
        'generate',
      );
    }
  }
  const lint = await runBuf(['lint', '--error-format', 'json'], root);
  if (lint.exitCode === BUF_FILE_ANNOTATIONS) {
    const problems = parseProblems(lint.stdout);
    const compile = problems.filter((problem) => problem.type === 'COMPILE');
    const shown = compile.length > 0 ? compile : problems;
    const what = compile.length > 0 ? 'the protos do not compile' : 'the protos fail lint';
    const count = `${shown.length} problem${shown.length === 1 ? '' : 's'}`;
    fail(
      out,
      compile.length > 0 ? 'compile' : 'lint',
      compile.length > 0 ? Code.INVALID_ARGUMENT : Code.FAILED_PRECONDITION,
      `${what} (${count}):\n${shown.map((problem) => `  ${problemText(problem)}`).join('\n')}`,
      shown,
    );
  }
  if (lint.exitCode !== 0)
    fail(
      out,
      'lint',
      Code.FAILED_PRECONDITION,
      `buf lint failed (exit ${lint.exitCode}): ${(lint.stderr || lint.stdout).trim()}`,
      [],
    );
  if (!out.json) out.note('buf lint: ok');

  const generated = await runBuf(['generate'], root);
  if (generated.exitCode !== 0) {
    fail(
      out,
      'generate',
      Code.FAILED_PRECONDITION,
      `buf generate failed (exit ${generated.exitCode}): ${(generated.stderr || generated.stdout).trim()}`,
      [],
    );
  }
  if (out.json) out.value({ ok: true, root });
  else out.line(`Generated code from ${root} (buf.gen.yaml); protos compile and pass lint.`);
  return ExitCode.OK;
}
