import { cp, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runWarren, type CliRun } from './support/cli.js';

// `warren generate` on throwaway copies of the buf workspace (buf.yaml,
// buf.gen.yaml, proto/warren, node_modules linked), so broken protos never
// touch proto/ and generated code never touches gen/. Also `--help` of every
// command, which needs no broker.

/** Each test starts several CLI processes (about 1 s of CPU each) at once: generous on a busy machine. */
const CHILD_PROCESS_TIMEOUT_MS = 90_000;
const REPO = fileURLToPath(new URL('..', import.meta.url));
const workspaces: string[] = [];

function warren(args: readonly string[]): Promise<CliRun> {
  return runWarren(args);
}

/** A copy of the repository's buf workspace, with `extra` proto files (path → text) added. */
async function workspace(extra: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'warren-cli-generate-'));
  workspaces.push(dir);
  await Promise.all(['buf.yaml', 'buf.gen.yaml'].map((file) => cp(join(REPO, file), join(dir, file))));
  await cp(join(REPO, 'proto', 'warren'), join(dir, 'proto', 'warren'), { recursive: true });
  await symlink(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  for (const [path, text] of Object.entries(extra)) {
    await mkdir(join(dir, 'proto', path, '..'), { recursive: true });
    await writeFile(join(dir, 'proto', path), text);
  }
  return dir;
}

afterAll(async () => {
  await Promise.all(workspaces.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe.concurrent('warren generate', { timeout: CHILD_PROCESS_TIMEOUT_MS }, () => {
  it('lints and generates into the workspace, leaving the repository gen/ alone', async () => {
    const repoGen = join(REPO, 'gen', 'warren', 'test', 'v1', 'test.ts');
    const before = await stat(repoGen);
    const dir = await workspace();
    const run = await warren(['generate', '--root', dir]);
    expect(run.stderr).toBe('buf lint: ok\n');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`Generated code from ${dir} (buf.gen.yaml); protos compile and pass lint.\n`);
    expect(await readFile(join(dir, 'gen', 'warren', 'test', 'v1', 'test.ts'), 'utf8')).toContain(
      'export const TestServiceDefinition',
    );
    expect((await stat(repoGen)).mtimeMs).toBe(before.mtimeMs);
  });

  it('exits 1 with INVALID_ARGUMENT and file:line:column when a proto does not compile, generating nothing', async () => {
    const dir = await workspace({
      'warren/test/v1/broken.proto':
        'syntax = "proto3";\npackage warren.test.v1;\nmessage Broken { strin text = 1; }\n',
    });
    const run = await warren(['generate', '--root', dir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'INVALID_ARGUMENT: the protos do not compile (1 problem):\n  proto/warren/test/v1/broken.proto:3:18: cannot find `strin` in this scope\n',
    );
    await expect(stat(join(dir, 'gen'))).rejects.toThrow(/ENOENT/);
  });

  it('exits 1 with FAILED_PRECONDITION naming the rule when a proto fails lint; --json lists the problems', async () => {
    const dir = await workspace({
      'warren/test/v1/badly_named.proto':
        'syntax = "proto3";\npackage warren.test.v1;\n// badly_named breaks the naming rule.\nmessage badly_named { string text = 1; }\n',
    });
    const [text, json] = await Promise.all([
      warren(['generate', '--root', dir]),
      warren(['generate', '--root', dir, '--json']),
    ]);
    expect(text.code).toBe(1);
    expect(text.stderr).toContain(
      'FAILED_PRECONDITION: the protos fail lint (1 problem):\n  proto/warren/test/v1/badly_named.proto:4:9: Message name "badly_named" should be PascalCase',
    );
    expect(text.stderr).toContain('(MESSAGE_PASCAL_CASE)');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({
      ok: false,
      stage: 'lint',
      problems: [
        expect.objectContaining({
          path: 'proto/warren/test/v1/badly_named.proto',
          line: 4,
          column: 9,
          type: 'MESSAGE_PASCAL_CASE',
        }),
      ],
    });
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: 'FAILED_PRECONDITION', number: 9 } });
  });

  it('exits 2 outside a buf workspace', async () => {
    const run = await warren(['generate', '--root', tmpdir()]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`INVALID_ARGUMENT: no buf.yaml in ${tmpdir()}: not a buf workspace`);
  });
});

describe.concurrent('warren --help', { timeout: CHILD_PROCESS_TIMEOUT_MS }, () => {
  // Every command's help text is checked in cli/command.spec.ts; these run the real binary.
  it('a command, a subcommand and the top level answer --help with exit 0', async () => {
    const [call, replay, top] = await Promise.all([
      warren(['call', '--help']),
      warren(['dlq', 'replay', '-h']),
      warren(['--help']),
    ]);
    expect(call.code).toBe(0);
    expect(call.stdout).toMatch(/^Usage: warren call <pkg\.Service\/Method> \[<json> \| -\] \[flags\]\n/);
    expect(call.stdout).toContain(
      '  -H, --header <key:value>  Metadata sent with the call (keys are lower-cased). Repeatable.\n',
    );
    expect(replay.code).toBe(0);
    expect(replay.stdout).toMatch(/^Usage: warren dlq replay <group \| pkg\.Service> \[flags\]\n/);
    expect(replay.stdout).toMatch(
      /^ {6}--force +Service only: also replay requests of methods that are not idempotent\.$/m,
    );
    expect(top.code).toBe(0);
    for (const command of [
      'call',
      'list',
      'health',
      'describe',
      'events tail',
      'dlq list',
      'dlq show',
      'dlq replay',
      'generate',
    ]) {
      expect(top.stdout).toMatch(new RegExp(`^ {2}${command} +\\S`, 'm'));
    }
  });

  it('no command, or an unknown one, is a usage error (exit 2)', async () => {
    const [none, unknown] = await Promise.all([warren([]), warren(['frobnicate'])]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: warren <command>');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('INVALID_ARGUMENT: unknown command "frobnicate"\nRun \'warren --help\' for usage.\n');
  });
});
