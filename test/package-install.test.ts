import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestVhost, type TestVhost } from './support/broker.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('..', import.meta.url));
const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

/** Runs a command to completion in `cwd`; its output is in the error when it fails. */
async function sh(
  cwd: string,
  command: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<string> {
  try {
    const { stdout } = await run(command, [...args], {
      cwd,
      env: { ...process.env, ...env },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 180_000,
    });
    return stdout;
  } catch (error) {
    const failure = error as Error & { stdout?: string; stderr?: string };
    throw new Error(
      `${command} ${args.join(' ')} failed in ${cwd}: ${failure.message}\n${failure.stdout ?? ''}\n${failure.stderr ?? ''}`,
      { cause: error },
    );
  }
}

/** Starts a long-running child and resolves once a stdout line matches `ready`. */
function start(
  cwd: string,
  args: readonly string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${args.join(' ')} did not print ${ready} in 30 s:\n${output}`)),
      30_000,
    );
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve({ child, output: () => output });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}:\n${output}`)));
  });
}

// The package as a user gets it: packed, installed from the tarball outside the repository, `warren init`, generate,
// build with plain tsc, run with plain node, called three ways. Needs the npm cache warm (offline) and the broker.
describe('the warren package, installed from its tarball', () => {
  let dir: string;
  let vhost: TestVhost;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warren-package-'));
    vhost = await createTestVhost('package');
  }, 60_000);

  afterAll(async () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
    await vhost?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('packs, installs, inits a project that builds and tests offline, and serves it to a typed client, warren call and warren gateway', async () => {
    // npm pack runs `prepack` (npm run build): dist/ is compiled from the sources as they are now
    const packed = JSON.parse(
      await sh(REPO, 'npm', ['pack', '--json', '--pack-destination', dir, '--loglevel=error']),
    ) as { filename: string; files: { path: string }[] }[];
    const tarball = join(dir, packed[0]!.filename);
    const paths = packed[0]!.files.map((file) => file.path);
    expect(paths).toContain('dist/cli/bin.js');
    expect(paths).toContain('dist/core/index.d.ts');
    expect(paths.filter((path) => /^(services|test|bench)\/|\.spec\.|better-sqlite3/.test(path))).toEqual([]);

    const tool = join(dir, 'tool');
    await sh(dir, 'mkdir', [tool]);
    await sh(tool, 'npm', ['init', '-y', '--loglevel=error']);
    await sh(tool, 'npm', ['install', ...NPM_FLAGS, tarball]);
    const app = join(dir, 'greeter');
    await sh(tool, join(tool, 'node_modules/.bin/warren'), ['init', app]);

    await sh(app, 'npm', ['install', ...NPM_FLAGS, tarball]);
    await sh(app, 'npm', ['run', 'generate']);
    const tested = await sh(app, 'npm', ['test']);
    expect(tested).toMatch(/# pass 1/);

    const env = { AMQP_URL: vhost.url, WARREN_MESH_REPORT_MS: '0' };
    const service = await start(app, ['dist/src/main.js'], env, /ready greeter/);
    children.push(service.child);

    expect(await sh(app, process.execPath, ['dist/src/call.js', 'Ada'], env)).toBe('Hello, Ada!\n');

    const warren = join(app, 'node_modules/.bin/warren');
    const called = await sh(
      app,
      warren,
      ['call', 'greeter.v1.GreeterService/SayHello', '{"name": "Grace"}', '--json'],
      env,
    );
    expect(JSON.parse(called)).toEqual({ message: 'Hello, Grace!' });

    const gateway = await start(
      app,
      [warren, 'gateway', '--proto-dir', 'proto', '--port', '0', '--host', '127.0.0.1'],
      { ...env, WARREN_LOG_LEVEL: 'info' },
      /gateway listening[^\n]*/,
    );
    children.push(gateway.child);
    const listening = gateway
      .output()
      .split('\n')
      .find((line) => line.includes('"msg":"gateway listening"'));
    const { port } = JSON.parse(listening!) as { port: number };
    const response = await fetch(`http://127.0.0.1:${port}/v1/hello`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name": "Linus"}',
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ message: 'Hello, Linus!' });

    service.child.kill('SIGTERM');
    gateway.child.kill('SIGTERM');
  }, 240_000);
});
