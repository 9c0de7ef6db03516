import { spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// cli/bin.mjs runs the CLI compiled by cli/compiled-cli.mjs: built on the
// first run, reused while the sources are unchanged, rebuilt as soon as one
// changes. Checked on a copy of the sources (edited freely), sharing the
// repository's node_modules, with a cache directory of its own.

const REPO = fileURLToPath(new URL('..', import.meta.url));
const TIMEOUT_MS = 60_000;

let root: string;
let cache: string;

/** Runs `node <copy>/cli/bin.mjs <args>` to completion. */
function run(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'cli', 'bin.mjs'), ...args], { env: { ...process.env, WARREN_CLI_CACHE: cache, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The current build named by the copy's manifest. */
async function manifest(): Promise<{ fingerprint: string; builtAt: string }> {
  const name = (await readdir(cache)).find((file) => file.startsWith('manifest-'));
  if (name === undefined) throw new Error(`no manifest in ${cache}`);
  return JSON.parse(await readFile(join(cache, name), 'utf8')) as { fingerprint: string; builtAt: string };
}

async function edit(file: string, from: string, to: string): Promise<void> {
  const path = join(root, file);
  const text = await readFile(path, 'utf8');
  expect(text).toContain(from);
  await writeFile(path, text.replace(from, to));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'warren-cli-launcher-'));
  cache = join(root, 'cache');
  for (const entry of ['cli', 'core', 'gen', 'tsconfig.json', 'package.json']) await cp(join(REPO, entry), join(root, entry), { recursive: true });
  await symlink(join(REPO, 'node_modules'), join(root, 'node_modules'));
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe.sequential('the warren launcher', { timeout: TIMEOUT_MS }, () => {
  it('builds on the first run, then reuses the build while nothing changed', async () => {
    const first = await run(['--help']);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Typed RPC over RabbitMQ, from the terminal');
    const built = await manifest();
    expect(await readdir(join(cache, built.fingerprint))).toContain('main.mjs');
    const second = await run(['--help']);
    expect(second.stdout).toBe(first.stdout);
    expect(await manifest()).toEqual(built); // not rebuilt
  });

  it('never runs stale code: an edited source, a lazily loaded one, or a new file in a source folder rebuilds', async () => {
    const before = await manifest();
    await edit('cli/main.ts', 'Typed RPC over RabbitMQ, from the terminal', 'Edited in place');
    const help = await run(['--help']);
    expect(help.stdout).toContain('Edited in place');
    const afterMain = await manifest();
    expect(afterMain.fingerprint).not.toBe(before.fingerprint);

    await edit('cli/flags.ts', 'must be a positive duration with a unit', 'wants an edited duration');
    const call = await run(['call', 'TestService/Echo', '--timeout', '5']);
    expect(call.code).toBe(2);
    expect(call.stderr).toContain('--timeout wants an edited duration');
    const afterFlags = await manifest();
    expect(afterFlags.fingerprint).not.toBe(afterMain.fingerprint);

    // a new file could change what an import resolves to: the folder listing is part of the fingerprint
    await writeFile(join(root, 'core', 'unused-new-file.ts'), 'export const unused = 1;\n');
    expect((await run(['--version'])).stdout).toBe('warren 0.1.0\n');
    expect((await manifest()).fingerprint).not.toBe(afterFlags.fingerprint);
  });

  it('runs the sources through tsx when asked (WARREN_CLI_TSX=1) or when no build can be stored', async () => {
    const tsx = await run(['--help'], { WARREN_CLI_TSX: '1', WARREN_CLI_CACHE: join(root, 'cache-unused') });
    expect(tsx.code).toBe(0);
    expect(tsx.stdout).toContain('Edited in place');
    await expect(readdir(join(root, 'cache-unused'))).rejects.toThrow(/ENOENT/);
    // a cache "directory" below a file cannot be created: the CLI still runs, from the sources
    const unwritable = await run(['--version'], { WARREN_CLI_CACHE: join(root, 'package.json', 'cache') });
    expect(unwritable.code).toBe(0);
    expect(unwritable.stdout).toBe('warren 0.1.0\n');
  });
});
